//! Session tokens: the signed record of a click that the visitor carries to checkout.
//!
//! ```text
//! token = "v1." kid "." exp "." body "." tag
//! exp   = expires-at, Unix seconds in decimal without leading zeros
//! body  = base64url-nopad( click_id[16] || issued_at u64 big-endian[8]
//!                          || lp(campaign) || lp(partner) || lp(ad) || lp(sid) )
//! tag   = base64url-nopad( HMAC-SHA256(key, "affiliate-sdk:token:v1\0" || "v1." kid "." exp "." body)[..16] )
//! ```
//!
//! `lp(x)` is one length byte then `x`; an absent ad or sid is the single byte `0`.
//! Every character is in `[A-Za-z0-9._-]`, so a token goes into a URL, a cookie or a
//! header without escaping. It is signed, not encrypted, and holds no personal data.
//! The expiry is in clear text so a client without the key (the browser snippet) can
//! size its cookie: see [`UntrustedToken::expires_at`].
//!
//! Sizes: 120 bytes with a 2-byte kid and 8-byte codes and sid (at most 134 with a
//! 16-byte kid); 433 bytes with every field at its maximum.

use std::fmt;
use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;

use crate::click_id::ClickId;
use crate::code::{Code, MAX_CODE_LEN, Sid};
use crate::error::{ClaimsError, Error, Result};
use crate::key::{Keyring, Kid, Purpose, encode_tag, tag, verify_tag};
use crate::link::Link;

/// Longest token accepted, in bytes. Longer input is refused before any decoding.
pub const MAX_TOKEN_LEN: usize = 512;

/// Default allowance for clocks that disagree, in seconds (60).
pub const DEFAULT_SKEW_SECS: u64 = 60;

const PREFIX: &str = "v1.";
const MAX_BODY_LEN: usize = 16 + 8 + 4 * (1 + MAX_CODE_LEN);

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

/// A token whose structure was checked but whose tag was not. Only its key id and
/// expiry can be read: everything else waits for [`Keyring::verify_token`].
///
/// ```
/// use affiliate_sdk::UntrustedToken;
/// let t = UntrustedToken::parse("v1.k1.1700086400.AAAA.AAAAAAAAAAAAAAAAAAAAAA")?;
/// assert_eq!(t.expires_at(), 1_700_086_400);
/// assert_eq!(t.kid(), "k1");
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct UntrustedToken<'a> {
    signed: &'a str,
    kid: &'a str,
    expires_at: u64,
    body: &'a str,
    tag: &'a str,
}

impl fmt::Debug for UntrustedToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the whole token: it is a bearer credential for attribution.
        f.debug_struct("UntrustedToken")
            .field("kid", &self.kid)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl<'a> UntrustedToken<'a> {
    /// Checks the token's shape: version, key id, expiry, base64url body and tag.
    pub fn parse(token: &'a str) -> Result<UntrustedToken<'a>> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(malformed("longer than 512 bytes"));
        }
        let Some(rest) = token.strip_prefix(PREFIX) else {
            return Err(malformed(
                if token.starts_with('v') && token.contains('.') {
                    "unsupported version"
                } else {
                    "expected a v1. token"
                },
            ));
        };
        let (signed, tag) = token
            .rsplit_once('.')
            .ok_or_else(|| malformed("expected 5 dot-separated parts"))?;
        let mut parts = rest.split('.');
        let (Some(kid), Some(exp), Some(body), Some(_tag), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(malformed("expected 5 dot-separated parts"));
        };
        if kid.is_empty() || kid.len() > Kid::MAX_LEN || !kid.bytes().all(crate::code::is_code_byte)
        {
            return Err(malformed("invalid key id"));
        }
        let expires_at = parse_decimal(exp).ok_or_else(|| malformed("invalid expiry"))?;
        if body.is_empty() || !body.bytes().all(is_b64url) {
            return Err(malformed("body is not base64url"));
        }
        if tag.len() != crate::key::TAG_B64_LEN || !tag.bytes().all(is_b64url) {
            return Err(malformed("tag is not 22 base64url characters"));
        }
        Ok(UntrustedToken {
            signed,
            kid,
            expires_at,
            body,
            tag,
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
}

/// A token whose tag verified under the keyring and whose window contains "now".
/// It can only be made by [`Keyring::verify_token`]; read the claims through `Deref`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedToken(TokenClaims);

impl VerifiedToken {
    /// The verified claims.
    #[must_use]
    pub fn claims(&self) -> &TokenClaims {
        &self.0
    }

    /// The verified claims, by value.
    #[must_use]
    pub fn into_claims(self) -> TokenClaims {
        self.0
    }
}

impl std::ops::Deref for VerifiedToken {
    type Target = TokenClaims;
    fn deref(&self) -> &TokenClaims {
        &self.0
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
    /// assert!(token.starts_with("v1.k1.1702419200."));
    ///
    /// let verified = ring.verify_token(&token, 1_700_000_100)?;
    /// assert_eq!(verified.link.partner.as_str(), "abc123");
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
        let mut body = [0u8; MAX_BODY_LEN];
        let len = encode_body(claims, &mut body);

        let (kid, mut mac) = self.signer(Purpose::Token);
        let mut token = String::with_capacity(MAX_TOKEN_LEN);
        token.push_str(PREFIX);
        token.push_str(kid.as_str());
        token.push('.');
        // Writing to a String cannot fail.
        let _ = write!(token, "{}", claims.expires_at);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&body[..len], &mut token);
        mac.update(token.as_bytes());
        token.push('.');
        encode_tag(&tag(mac), &mut token);
        Ok(token)
    }

    /// Verifies a token's tag and window at `now` (Unix seconds) with the default
    /// 60 s skew allowance.
    pub fn verify_token(&self, token: &str, now: u64) -> Result<VerifiedToken> {
        self.verify_token_with(token, now, &TokenValidation::default())
    }

    /// Verifies a token's tag and window at `now` with explicit [`TokenValidation`].
    ///
    /// Errors: [`Error::Malformed`] for a token that is not one, an unsupported version
    /// included; [`Error::InvalidSignature`] for a wrong tag or a key id not in the ring;
    /// [`Error::Claims`] (code `expired`) when `now` is outside the window.
    pub fn verify_token_with(
        &self,
        token: &str,
        now: u64,
        validation: &TokenValidation,
    ) -> Result<VerifiedToken> {
        let t = UntrustedToken::parse(token)?;
        let mut mac = self.verifier(t.kid.as_bytes(), Purpose::Token)?;
        mac.update(t.signed.as_bytes());
        verify_tag(mac, t.tag.as_bytes())?;

        let claims = decode_body(t.body, t.expires_at)?;
        if now.saturating_add(validation.skew_secs) < claims.issued_at {
            return Err(ClaimsError::NotYetValid {
                issued_at: claims.issued_at,
            }
            .into());
        }
        if now >= claims.expires_at.saturating_add(validation.skew_secs) {
            return Err(ClaimsError::Expired {
                expired_at: claims.expires_at,
            }
            .into());
        }
        Ok(VerifiedToken(claims))
    }
}

fn malformed(reason: &'static str) -> Error {
    Error::malformed("token", reason)
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Strict decimal: 1–20 digits, no sign, no leading zero (except "0"), no overflow.
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn encode_body(c: &TokenClaims, out: &mut [u8; MAX_BODY_LEN]) -> usize {
    out[..16].copy_from_slice(c.click_id.as_bytes());
    out[16..24].copy_from_slice(&c.issued_at.to_be_bytes());
    let mut n = 24;
    let l = &c.link;
    for part in [
        l.campaign.as_str(),
        l.partner.as_str(),
        l.ad.as_ref().map_or("", Code::as_str),
        l.sid.as_ref().map_or("", Sid::as_str),
    ] {
        // Codes and sids are at most 64 bytes.
        out[n] = part.len() as u8;
        out[n + 1..n + 1 + part.len()].copy_from_slice(part.as_bytes());
        n += 1 + part.len();
    }
    n
}

fn decode_body(body_b64: &str, expires_at: u64) -> Result<TokenClaims> {
    let mut buf = [0u8; MAX_BODY_LEN];
    // The encoded body of a full buffer is 379 characters; anything longer cannot fit.
    if body_b64.len() > 379 {
        return Err(malformed("body too long"));
    }
    let len = URL_SAFE_NO_PAD
        .decode_slice(body_b64, &mut buf)
        .map_err(|_| malformed("body is not base64url"))?;
    let body = &buf[..len];
    if body.len() < 24 + 4 {
        return Err(malformed("body too short"));
    }
    let mut click = [0u8; 16];
    click.copy_from_slice(&body[..16]);
    let mut iat = [0u8; 8];
    iat.copy_from_slice(&body[16..24]);
    let issued_at = u64::from_be_bytes(iat);
    if expires_at < issued_at {
        return Err(malformed("expires before it is issued"));
    }

    let mut rest = &body[24..];
    let mut field = || -> Result<&str> {
        let (&n, tail) = rest
            .split_first()
            .ok_or_else(|| malformed("body truncated"))?;
        let n = usize::from(n);
        if tail.len() < n {
            return Err(malformed("body truncated"));
        }
        let (value, tail) = tail.split_at(n);
        rest = tail;
        std::str::from_utf8(value).map_err(|_| malformed("field is not text"))
    };
    let campaign = Code::new(field()?)?;
    let partner = Code::new(field()?)?;
    let ad = optional(field()?, Code::new)?;
    let sid = optional(field()?, Sid::new)?;
    if !rest.is_empty() {
        return Err(malformed("trailing bytes in body"));
    }
    Ok(TokenClaims {
        click_id: ClickId::from_bytes(click),
        link: Link {
            campaign,
            partner,
            ad,
            sid,
        },
        issued_at,
        expires_at,
    })
}

fn optional<T>(s: &str, parse: impl Fn(&str) -> Result<T>) -> Result<Option<T>> {
    if s.is_empty() {
        Ok(None)
    } else {
        parse(s).map(Some)
    }
}
