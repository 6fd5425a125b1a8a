//! Text helpers of link parsing: splitting at a byte, form decoding, case-insensitive
//! prefixes.

use std::borrow::Cow;

/// Splits at the first `sep` (an ASCII byte, so both halves are valid UTF-8) with a
/// plain loop, which beats `memchr`'s set-up on the few bytes of a code or parameter.
pub(super) fn split_at_byte(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == sep)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space, `%XX` a
/// byte), borrowing when there is nothing to decode.
pub(crate) fn form_decode(component: &str) -> Cow<'_, str> {
    if component.bytes().any(|b| b == b'%' || b == b'+') {
        let spaced = component.replace('+', " ");
        Cow::Owned(
            percent_encoding::percent_decode_str(&spaced)
                .decode_utf8_lossy()
                .into_owned(),
        )
    } else {
        Cow::Borrowed(component)
    }
}

pub(super) fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}
