//! Session tokens: the signed record of a click that the visitor carries to checkout.
//!
//! ```text
//! token   = "v1." kid "." exp "." iat "." click "." campaign "." partner "." ad "." sid "." tag
//! exp     = expires-at, Unix seconds, decimal without leading zeros
//! iat     = issued-at, Unix seconds, decimal without leading zeros
//! click   = the 16-byte click id in unpadded base64url (22 characters)
//! ad, sid = empty when absent (codes are never empty, so this is unambiguous)
//! tag     = base64url-nopad( HMAC-SHA256(key, everything before ".tag" || "\0affiliate-sdk:token:v1")[..16] )
//! ```
//!
//! Codes, kid and click id have no dots; the `sid` may, so it is everything between the
//! eighth dot and the last one (the tag has no dots). Every character is in
//! `[A-Za-z0-9._~-]`, so a token goes into a URL, a cookie or a header without
//! escaping. It is signed, not encrypted, and holds no personal data: a client
//! without the key (the browser snippet) can read the expiry and the campaign, see
//! [`UntrustedToken`].
//!
//! Verification reads nothing but the version, the key id and the tag's position
//! before the tag is checked: a token whose signed fields were edited is refused as
//! an invalid signature, never parsed. Only an authentic token's fields are split and
//! validated.
//!
//! Sizes: 109 bytes with a 2-byte kid and 8-byte codes and sid (at most 123 with a
//! 16-byte kid); 367 bytes with every field at its maximum.

use std::fmt;

use hmac::Mac;

use crate::click_id::ClickId;
use crate::code::{Code, MAX_CODE_LEN, Sid, is_code_byte, is_sid_byte};
use crate::error::{ClaimsError, Error, Result};
use crate::key::{
    Keyring, Kid, Purpose, TAG_B64_LEN, TOKEN_LABEL, decode_128, encode_tag, tag, verify_tag,
};
use crate::link::Link;

/// Longest token accepted, in bytes. Longer input is refused before any decoding.
pub const MAX_TOKEN_LEN: usize = 512;

/// Default allowance for clocks that disagree, in seconds (60).
pub const DEFAULT_SKEW_SECS: u64 = 60;

const PREFIX: &str = "v1.";
const CLICK_B64_LEN: usize = 22;

/// What a session token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenClaims {
    /// The click that issued the token.
    pub click_id: ClickId,
    /// Campaign, partner, ad and sid of the click.
    pub link: Link,
    /// When the click happened, Unix seconds.
    pub issued_at: u64,
    /// When the attribution window ends, Unix seconds (exclusive).
    pub expires_at: u64,
}

impl TokenClaims {
    /// Claims for a click at `issued_at` whose window lasts `window_secs`.
    #[must_use]
    pub fn new(click_id: ClickId, link: Link, issued_at: u64, window_secs: u64) -> TokenClaims {
        TokenClaims {
            click_id,
            link,
            issued_at,
            expires_at: issued_at.saturating_add(window_secs),
        }
    }
}

/// How strictly [`Keyring::verify_token_with`] checks time. The default allows
/// [`DEFAULT_SKEW_SECS`] (60 s) of clock skew on both ends of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenValidation {
    /// Seconds a token may be early (issued in the future) or late (past its expiry).
    pub skew_secs: u64,
}

impl Default for TokenValidation {
    fn default() -> Self {
        TokenValidation {
            skew_secs: DEFAULT_SKEW_SECS,
        }
    }
}

/// A token whose structure was checked but whose tag was not. Its key id, expiry
/// and campaign can be read (to size a cookie, or to keep a first click per campaign);
/// nothing here may decide attribution until [`Keyring::verify_token`] says so.
///
/// ```
/// use affiliate_sdk::UntrustedToken;
/// let t = UntrustedToken::parse(
///     "v1.k1.1702592000.1700000000.AYvP5WgAejydLgEjRWeJqw.haircare.abc123...JK4wA1m8DHO9eD5PQqxqRw",
/// )?;
/// assert_eq!((t.kid(), t.expires_at(), t.campaign()), ("k1", 1_702_592_000, "haircare"));
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct UntrustedToken<'a> {
    kid: &'a str,
    expires_at: u64,
    campaign: &'a str,
}

impl fmt::Debug for UntrustedToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the whole token: it is a bearer credential for attribution.
        f.debug_struct("UntrustedToken")
            .field("kid", &self.kid)
            .field("expires_at", &self.expires_at)
            .field("campaign", &self.campaign)
            .finish_non_exhaustive()
    }
}

impl<'a> UntrustedToken<'a> {
    /// Checks the token's shape: version, field count, alphabets, lengths and the
    /// decimal times. Refuses input longer than [`MAX_TOKEN_LEN`] unread.
    pub fn parse(token: &'a str) -> Result<UntrustedToken<'a>> {
        let (signed, tag) = split_tag(token)?;
        let (kid, rest) = split_kid(signed);
        if kid.is_empty() || kid.len() > Kid::MAX_LEN || !kid.bytes().all(is_code_byte) {
            return Err(malformed("invalid key id"));
        }
        // The same field checks as a verified token's, without the key.
        let fields = parse_fields(rest)?;
        if !tag.bytes().all(is_code_byte) {
            return Err(malformed("tag is not 22 base64url characters"));
        }
        Ok(UntrustedToken {
            kid,
            expires_at: fields.expires_at,
            campaign: fields.campaign,
        })
    }

    /// The key id the token claims to be signed with.
    #[must_use]
    pub fn kid(&self) -> &'a str {
        self.kid
    }

    /// The end of the attribution window the token claims, Unix seconds. Unverified:
    /// good for sizing a cookie, never for deciding attribution.
    #[must_use]
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// The campaign the token claims. Unverified.
    #[must_use]
    pub fn campaign(&self) -> &'a str {
        self.campaign
    }
}

/// A token whose tag verified under the keyring and whose window contains "now".
/// It can only be made by [`Keyring::verify_token`]. It borrows the token text, so
/// verifying copies nothing; [`VerifiedToken::claims`] gives owned claims.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct VerifiedToken<'a> {
    click_id: ClickId,
    issued_at: u64,
    expires_at: u64,
    campaign: &'a str,
    partner: &'a str,
    ad: &'a str,
    sid: &'a str,
}

impl fmt::Debug for VerifiedToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedToken")
            .field("click_id", &self.click_id)
            .field("campaign", &self.campaign)
            .field("partner", &self.partner)
            .field("ad", &self.ad())
            .field("sid", &self.sid())
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl<'a> VerifiedToken<'a> {
    /// The click that issued the token.
    #[must_use]
    pub fn click_id(&self) -> ClickId {
        self.click_id
    }

    /// When the click happened, Unix seconds.
    #[must_use]
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }

    /// When the attribution window ends, Unix seconds (exclusive).
    #[must_use]
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// The campaign code.
    #[must_use]
    pub fn campaign(&self) -> &'a str {
        self.campaign
    }

    /// The partner code.
    #[must_use]
    pub fn partner(&self) -> &'a str {
        self.partner
    }

    /// The ad code, if the link had one.
    #[must_use]
    pub fn ad(&self) -> Option<&'a str> {
        Some(self.ad).filter(|s| !s.is_empty())
    }

    /// The partner's sid, if the click carried one.
    #[must_use]
    pub fn sid(&self) -> Option<&'a str> {
        Some(self.sid).filter(|s| !s.is_empty())
    }

    /// Campaign, partner, ad and sid as an owned [`Link`].
    #[must_use]
    pub fn link(&self) -> Link {
        Link {
            campaign: Code::trusted(self.campaign),
            partner: Code::trusted(self.partner),
            ad: self.ad().map(Code::trusted),
            sid: self.sid().map(Sid::trusted),
        }
    }

    /// The verified claims, owned.
    #[must_use]
    pub fn claims(&self) -> TokenClaims {
        TokenClaims {
            click_id: self.click_id,
            link: self.link(),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
        }
    }
}

impl Keyring {
    /// Signs `claims` with the current key and returns the token text.
    ///
    /// ```
    /// use affiliate_sdk::{ClickId, Code, Keyring, Link, TokenClaims};
    /// let ring = Keyring::generate()?;
    /// let link = Link::new(Code::new("haircare")?, Code::new("abc123")?);
    /// let claims = TokenClaims::new(ClickId::from_bytes([7; 16]), link, 1_700_000_000, 28 * 86_400);
    /// let token = ring.issue_token(&claims)?;
    /// assert!(token.starts_with("v1.k1.1702419200.1700000000."));
    ///
    /// let verified = ring.verify_token(&token, 1_700_000_100)?;
    /// assert_eq!(verified.partner(), "abc123");
    /// assert_eq!(ring.verify_token(&token, 1_702_419_260).unwrap_err().code(), "expired");
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    pub fn issue_token(&self, claims: &TokenClaims) -> Result<String> {
        if claims.expires_at < claims.issued_at {
            return Err(Error::malformed(
                "token claims",
                "expires before it is issued",
            ));
        }
        let (kid, mut mac) = self.signer(Purpose::Token);
        let l = &claims.link;
        let mut token = String::with_capacity(MAX_TOKEN_LEN);
        let mut digits = itoa::Buffer::new();
        token.push_str(PREFIX);
        token.push_str(kid.as_str());
        token.push('.');
        token.push_str(digits.format(claims.expires_at));
        token.push('.');
        token.push_str(digits.format(claims.issued_at));
        token.push('.');
        // The click id is 16 bytes, as a tag is.
        encode_tag(claims.click_id.as_bytes(), &mut token);
        for part in [
            l.campaign.as_str(),
            l.partner.as_str(),
            l.ad.as_ref().map_or("", Code::as_str),
            l.sid.as_ref().map_or("", Sid::as_str),
        ] {
            token.push('.');
            token.push_str(part);
        }
        mac.update(token.as_bytes());
        mac.update(TOKEN_LABEL);
        token.push('.');
        encode_tag(&tag(mac), &mut token);
        Ok(token)
    }

    /// Verifies a token's tag and window at `now` (Unix seconds) with the default
    /// 60 s skew allowance.
    pub fn verify_token<'t>(&self, token: &'t str, now: u64) -> Result<VerifiedToken<'t>> {
        self.verify_token_with(token, now, &TokenValidation::default())
    }

    /// Verifies a token's tag and window at `now` with explicit [`TokenValidation`].
    ///
    /// Errors: [`Error::Malformed`] for a token that is not one, an unsupported version
    /// included; [`Error::InvalidSignature`] for a wrong tag or a key id not in the ring;
    /// [`Error::Claims`] (code `expired`) when `now` is outside the window.
    pub fn verify_token_with<'t>(
        &self,
        token: &'t str,
        now: u64,
        validation: &TokenValidation,
    ) -> Result<VerifiedToken<'t>> {
        // Only what is needed to check the tag is read before the tag is checked:
        // the version, the key id and where the tag starts.
        let (signed, tag) = split_tag(token)?;
        let (kid, rest) = split_kid(signed);
        let mut mac = self.verifier(kid.as_bytes(), Purpose::Token)?.clone();
        mac.update(signed.as_bytes());
        mac.update(TOKEN_LABEL);
        verify_tag(mac, tag.as_bytes())?;

        // Authentic: read and check the fields (an issuer of ours never fails here).
        let f = parse_fields(rest)?;
        if now.saturating_add(validation.skew_secs) < f.issued_at {
            return Err(ClaimsError::NotYetValid {
                issued_at: f.issued_at,
            }
            .into());
        }
        if now >= f.expires_at.saturating_add(validation.skew_secs) {
            return Err(ClaimsError::Expired {
                expired_at: f.expires_at,
            }
            .into());
        }
        Ok(f)
    }
}

/// Checks length and version and splits off the tag (the last 22 characters).
fn split_tag(token: &str) -> Result<(&str, &str)> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(malformed("longer than 512 bytes"));
    }
    if !token.starts_with(PREFIX) {
        return Err(malformed(
            if token.starts_with('v') && token.contains('.') {
                "unsupported version"
            } else {
                "expected a v1. token"
            },
        ));
    }
    let last = token.len().wrapping_sub(TAG_B64_LEN + 1);
    match token.as_bytes().get(last) {
        Some(b'.') if last > PREFIX.len() => Ok((&token[..last], &token[last + 1..])),
        _ => Err(malformed("tag is not 22 base64url characters")),
    }
}

/// Splits the part before the tag (`v1.kid.…`) into the key id and the rest, which
/// starts at the dot after the key id.
#[inline(always)]
fn split_kid(signed: &str) -> (&str, &str) {
    let body = signed.get(PREFIX.len()..).unwrap_or_default();
    // Kids are short: a byte loop beats a call to memchr here.
    let end = body.bytes().position(|c| c == b'.').unwrap_or(body.len());
    body.split_at(end)
}

/// Reads `.exp.iat.click.campaign.partner.ad.sid` (a token after its key id: for
/// [`Keyring::verify_token`] once the tag verified, for [`UntrustedToken::parse`]
/// without the key) in one forward pass: strict decimals, a 22-character click id, codes of
/// `[A-Za-z0-9_-]` up to the dot before the sid, then a sid of `[A-Za-z0-9._~-]`.
/// Inlined so the fields are written straight into the caller's result.
#[inline(always)]
fn parse_fields(rest: &str) -> Result<VerifiedToken<'_>> {
    let b = rest.as_bytes();
    // `at` is always the index of the dot that opens the next field.
    let dot = |at: usize| b.get(at) == Some(&b'.');
    let field = |at: usize, end: usize| rest.get(at + 1..end).unwrap_or_default();

    let (expires_at, at) = dot(0)
        .then(|| digits(b, 1))
        .flatten()
        .ok_or_else(|| malformed("invalid expiry"))?;
    let (issued_at, at) = dot(at)
        .then(|| digits(b, at + 1))
        .flatten()
        .ok_or_else(|| malformed("invalid issue time"))?;
    if expires_at < issued_at {
        return Err(malformed("expires before it is issued"));
    }
    let click_end = at + 1 + CLICK_B64_LEN;
    let click_id = (dot(at) && dot(click_end))
        .then(|| decode_128(&b[at + 1..click_end]))
        .flatten();
    let Some(click_id) = click_id else {
        return Err(malformed("click id is not 16 bytes of base64url"));
    };
    // Campaign, partner and ad run to the next dot and hold only code bytes; the
    // sid is the rest.
    let mut codes = [""; 3];
    let mut at = click_end;
    for (i, code) in codes.iter_mut().enumerate() {
        let mut end = at + 1;
        while end < b.len() && CODE_BYTE[usize::from(b[end])] {
            end += 1;
        }
        let len = end - at - 1;
        // Campaign and partner are never empty; the ad is empty when absent.
        if !dot(end) || len > MAX_CODE_LEN || (len == 0 && i < 2) {
            return Err(malformed("code of invalid length or alphabet"));
        }
        *code = field(at, end);
        at = end;
    }
    let sid = field(at, b.len());
    if sid.len() > MAX_CODE_LEN || !sid.bytes().all(|c| SID_BYTE[usize::from(c)]) {
        return Err(malformed("sid of invalid length or alphabet"));
    }
    let [campaign, partner, ad] = codes;
    Ok(VerifiedToken {
        click_id: ClickId::from_bytes(click_id),
        issued_at,
        expires_at,
        campaign,
        partner,
        ad,
        sid,
    })
}

/// Whether each byte is in a code's alphabet `[A-Za-z0-9_-]`.
static CODE_BYTE: [bool; 256] = byte_table(false);
/// Whether each byte is in the sid's alphabet `[A-Za-z0-9._~-]`.
static SID_BYTE: [bool; 256] = byte_table(true);

const fn byte_table(sid: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = if sid {
            is_sid_byte(b as u8)
        } else {
            is_code_byte(b as u8)
        };
        b += 1;
    }
    t
}

fn malformed(reason: &'static str) -> Error {
    Error::malformed("token", reason)
}

/// Reads a strict decimal starting at `start` up to the first non-digit: at least one
/// digit, no leading zero (except "0"), no overflow. Returns the value and where the
/// digits end.
#[inline(always)]
fn digits(b: &[u8], start: usize) -> Option<(u64, usize)> {
    // 19 digits cannot overflow a u64, so only a 20th digit needs checked steps.
    let mut n = 0u64;
    let mut i = start;
    let unchecked_end = b.len().min(start + 19);
    while i < unchecked_end && b[i].is_ascii_digit() {
        n = n * 10 + u64::from(b[i] - b'0');
        i += 1;
    }
    if let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        i += 1;
        if b.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
    }
    match i - start {
        0 => None,
        1 => Some((n, i)),
        _ if b[start] == b'0' => None,
        _ => Some((n, i)),
    }
}
