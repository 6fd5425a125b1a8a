//! The landing step of a shop: a visitor arrives from a click with `?aff_token=…` in the
//! URL; the shop's own server sets the first-party cookie and sends the visitor on to the
//! same page without the token. This file splits the request target; the tracker
//! verifies the token ([`Tracker::landing`](crate::Tracker::landing)). Every skin (the
//! Python WSGI and ASGI middleware, the Rust layer) calls that one function.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use super::decide::check_fresh_landing;
use crate::cookie::CookieConfig;
use crate::error::{Error, Result};
use crate::key::Keyring;
use crate::link::form_decode;
use crate::token::TokenValidation;

/// What a shop answers to a landing with a fresh, valid token: a `302` to
/// [`location`](Self::location) with [`set_cookie`](Self::set_cookie), never cached.
#[derive(Clone, PartialEq, Eq)]
pub struct LandingRedirect {
    /// The same page without the token: a path and query on the shop's own site
    /// (never `//host…`, so never another site), the other parameters as written.
    pub location: String,
    /// The `Set-Cookie` value: the token until its expiry, `HttpOnly`, first-party.
    pub set_cookie: String,
}

impl LandingRedirect {
    /// The status of the answer: `302 Found`.
    pub const STATUS: u16 = 302;

    /// The answer's headers, in order: `Location`, `Set-Cookie`, and
    /// `Cache-Control: no-store` (an answer that sets a cookie is never cached).
    pub fn headers(&self) -> [(&'static str, &str); 3] {
        [
            ("Location", &self.location),
            ("Set-Cookie", &self.set_cookie),
            ("Cache-Control", "no-store"),
        ]
    }
}

impl std::fmt::Debug for LandingRedirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The cookie carries the visitor's token: not for logs.
        f.debug_struct("LandingRedirect")
            .field("location", &self.location)
            .field("set_cookie", &"<redacted>")
            .finish()
    }
}

/// The landing step without a [`Tracker`](crate::Tracker) (an edge worker has only the
/// keys): what [`Tracker::landing`](crate::Tracker::landing) decides, at `now`, with the
/// cookie of `cookie` (its name is the landing parameter). `None` for another method
/// than `GET`/`HEAD` or a query without the token; an error for a stale, forged or
/// mangled token, which must change nothing.
///
/// ```
/// use affiliate_sdk::{ClickIdGenerator, CookieConfig, Keyring, Link, TokenClaims, TokenValidation, decide_landing};
/// let keys = Keyring::generate()?;
/// let now = 1_700_000_000;
/// let link = Link::parse("spring", "abc123", None, None)?;
/// let id = ClickIdGenerator::new().next(now * 1000)?;
/// let token = keys.issue_token(&TokenClaims::new(id, link, now, 28 * 86_400))?;
/// let cookie = CookieConfig::new();
/// let query = format!("aff_token={token}&color=red");
/// let landing = decide_landing(&keys, &TokenValidation::default(), &cookie, now + 5, "GET", "/sale", &query)?
///     .expect("a fresh token");
/// assert_eq!(landing.location, "/sale?color=red");
/// assert!(decide_landing(&keys, &TokenValidation::default(), &cookie, now + 3600, "GET", "/sale", &query).is_err());
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
pub fn decide_landing(
    keyring: &Keyring,
    validation: &TokenValidation,
    cookie: &CookieConfig,
    now: u64,
    method: &str,
    path: &str,
    query: &str,
) -> Result<Option<LandingRedirect>> {
    if !(method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD")) {
        return Ok(None);
    }
    let Some((token, location)) = split_landing(cookie.cookie_name(), path, query)? else {
        return Ok(None);
    };
    let set_cookie = landing_cookie(keyring, validation, cookie, now, &token)?;
    Ok(Some(LandingRedirect {
        location,
        set_cookie,
    }))
}

/// The `Set-Cookie` keeping a landing `token` until its expiry: verified, and issued at
/// most [`LANDING_SECS`](crate::LANDING_SECS) before `now`.
pub(crate) fn landing_cookie(
    keyring: &Keyring,
    validation: &TokenValidation,
    cookie: &CookieConfig,
    now: u64,
    token: &str,
) -> Result<String> {
    let v = keyring.verify_token_with(token, now, validation)?;
    check_fresh_landing(&v, now)?;
    Ok(cookie.build(token, v.expires_at().saturating_sub(now)))
}

/// Bytes written as `%XX` in the clean location's path: controls, space, non-ASCII and
/// what would end or change a path (`?`, `#`, `\`), or is not allowed in a URL.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The same, in the query (`?` and `/` stay, `&` and `=` stay as written).
const QUERY: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The longest request target looked at (longer ones are not landings: `malformed`).
pub const MAX_LANDING_TARGET_LEN: usize = 8192;

/// Splits a request's `path` and raw `query` (without `?`) into the first value of the
/// `param` parameter and the location without any `param` parameter. `None` when the
/// query has no `param`. `malformed` for a path that is not absolute or a target
/// longer than [`MAX_LANDING_TARGET_LEN`].
pub(crate) fn split_landing(
    param: &str,
    path: &str,
    query: &str,
) -> Result<Option<(String, String)>> {
    let mut token = None;
    let mut kept = Vec::new();
    for piece in query.split('&').filter(|p| !p.is_empty()) {
        // Names and values as a form decodes them (`+` is a space, `%XX` a byte).
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        if form_decode(name) != param {
            kept.push(piece);
        } else if token.is_none() {
            token = Some(form_decode(value).into_owned());
        }
    }
    let Some(token) = token else {
        return Ok(None);
    };
    if path.len() + query.len() > MAX_LANDING_TARGET_LEN {
        return Err(Error::malformed("landing URL", "is too long"));
    }
    // A path-absolute target only: `//host` or `/\host` in a Location is another site.
    let rest = path.trim_start_matches(['/', '\\']);
    if rest.len() == path.len() {
        return Err(Error::malformed(
            "landing URL",
            "the path must start with /",
        ));
    }
    let mut location = String::with_capacity(path.len() + query.len());
    location.push('/');
    location.extend(utf8_percent_encode(rest, PATH));
    if !kept.is_empty() {
        location.push('?');
        location.extend(utf8_percent_encode(&kept.join("&"), QUERY));
    }
    Ok(Some((token, location)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(path: &str, query: &str) -> Option<(String, String)> {
        split_landing("aff_token", path, query).unwrap()
    }

    #[test]
    fn the_token_is_taken_and_the_rest_kept_as_written() {
        assert_eq!(
            split(
                "/products/shampoo",
                "color=red&aff_token=v1.abc&size=a%20b+c"
            ),
            Some((
                "v1.abc".into(),
                "/products/shampoo?color=red&size=a%20b+c".into()
            ))
        );
        assert_eq!(
            split("/", "aff_token=v1.abc"),
            Some(("v1.abc".into(), "/".into()))
        );
        // Every copy is dropped; the first is the token. An encoded name is the name.
        assert_eq!(
            split("/a", "aff%5Ftoken=v1.x&aff_token=v1.y&&b"),
            Some(("v1.x".into(), "/a?b".into()))
        );
    }

    #[test]
    fn no_token_is_no_landing() {
        assert_eq!(split("/a", ""), None);
        assert_eq!(split("/a", "aff_tokens=1&xaff_token=2"), None);
        assert_eq!(split("relative", "x=1"), None);
    }

    #[test]
    fn the_location_never_leaves_the_site() {
        for path in [
            "//evil.example/x",
            "/\\evil.example",
            "\\/evil.example",
            "///x",
        ] {
            let (_, location) = split(path, "aff_token=t").unwrap();
            assert!(location.starts_with('/'), "{location}");
            assert!(
                !location.starts_with("//") && !location.contains('\\'),
                "{location}"
            );
        }
        let (_, location) = split("/a b/\r\nSet-Cookie:x/ü#?", "q=<1>\n&aff_token=t").unwrap();
        assert_eq!(
            location,
            "/a%20b/%0D%0ASet-Cookie:x/%C3%BC%23%3F?q=%3C1%3E%0A"
        );
        assert_eq!(
            split_landing("aff_token", "https://evil.example/", "aff_token=t")
                .unwrap_err()
                .code(),
            "malformed"
        );
        let long = "a".repeat(MAX_LANDING_TARGET_LEN);
        assert!(split_landing("aff_token", "/", &format!("aff_token=t&{long}")).is_err());
    }
}
