//! The partner side's credentials: portal sign-in links, portal sessions and partner
//! API keys.
//!
//! * A **sign-in link** carries `pl1.<partner>.<expires>.<nonce>.<kid>.<tag>`: the tag
//!   is an HMAC under its own purpose label (`affiliate-sdk:portal-link:v1\0`), so no
//!   link, token, postback or order signature can stand in for it. It is valid until
//!   `expires` (Unix seconds) and usable once: the tracker claims its nonce in the
//!   store when it is used.
//! * A **session** (the portal's cookie) is `ps1.<partner>.<expires>.<id>.<kid>.<tag>`
//!   under the label `affiliate-sdk:portal-session:v1\0`, valid for
//!   [`SESSION_SECS`]. It is checked without a store read; a suspended partner's
//!   session is refused by the tracker.
//! * A **partner key** is `pk_` and 32 random bytes in base64url, shown once; the store
//!   keeps its SHA-256 digest, and a presented key is found by its digest and compared
//!   in constant time.
//!
//! Partner codes hold no `.`, so the fields split without escaping.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use sha2::{Digest, Sha256};

use crate::code::Code;
use crate::error::{Error, Result};
use crate::key::{Keyring, Purpose, TAG_B64_LEN, encode_tag, tag, verify_tag};

/// How long a portal session lasts: 12 hours.
pub const SESSION_SECS: u64 = 12 * 3600;

/// The default lifetime of a sign-in link: 15 minutes.
pub const DEFAULT_LINK_SECS: u64 = 15 * 60;

/// The longest lifetime a sign-in link may be given: 7 days.
pub const MAX_LINK_SECS: u64 = 7 * 86_400;

/// The longest credential text read (a code of 64, a time, a nonce, a kid, a tag).
const MAX_TEXT: usize = 200;

/// A partner API key as the store keeps it: never the key, its digest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartnerKey {
    /// `pkid_` and 16 hexadecimal digits: how the key is named and revoked.
    pub id: String,
    /// The partner it signs in.
    pub partner: Code,
    /// The SHA-256 digest of the key, hexadecimal.
    pub digest: String,
    /// When it was made, Unix seconds.
    pub created: u64,
}

/// What a verified sign-in link or session says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalClaims {
    /// The partner signed in.
    pub partner: Code,
    /// When it stops being valid, Unix seconds.
    pub expires: u64,
    /// The link's nonce (claimed once) or the session's id, base64url.
    pub nonce: String,
    /// The id of the key that signed it.
    pub kid: String,
}

impl PortalClaims {
    /// When a session was issued (its expiry less [`SESSION_SECS`]).
    #[must_use]
    pub fn session_issued_at(&self) -> u64 {
        self.expires.saturating_sub(SESSION_SECS)
    }
}

pub(crate) fn random_b64<const N: usize>() -> Result<String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| Error::Store("no randomness".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn sign(
    ring: &Keyring,
    purpose: Purpose,
    head: &str,
    partner: Code,
    expires: u64,
) -> Result<String> {
    let nonce = random_b64::<16>()?;
    let (kid, mut mac) = ring.signer(purpose);
    let mut text = format!("{head}.{partner}.{expires}.{nonce}.{kid}");
    mac.update(text.as_bytes());
    text.push('.');
    encode_tag(&tag(mac), &mut text);
    Ok(text)
}

fn verify(
    ring: &Keyring,
    purpose: Purpose,
    head: &str,
    text: &str,
    now: u64,
) -> Result<PortalClaims> {
    let bad = || Error::malformed("portal credential", "not a credential this tracker made");
    if text.len() > MAX_TEXT || !text.is_ascii() {
        return Err(bad());
    }
    let (signed, given) = text.rsplit_once('.').ok_or_else(bad)?;
    let mut fields = signed.split('.');
    let (Some(h), Some(partner), Some(expires), Some(nonce), Some(kid), None) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err(bad());
    };
    if h != head || given.len() != TAG_B64_LEN || nonce.len() != 22 {
        return Err(bad());
    }
    let mut mac = ring.verifier(kid.as_bytes(), purpose)?.clone();
    mac.update(signed.as_bytes());
    verify_tag(mac, given.as_bytes())?;
    let expires: u64 = expires.parse().map_err(|_| bad())?;
    if now >= expires {
        return Err(Error::Claims(crate::error::ClaimsError::Expired {
            expired_at: expires,
        }));
    }
    Ok(PortalClaims {
        partner: Code::new(partner).map_err(|_| bad())?,
        expires,
        nonce: nonce.to_owned(),
        kid: kid.to_owned(),
    })
}

/// A sign-in link's credential for `partner`, valid until `expires`.
pub fn sign_link(ring: &Keyring, partner: Code, expires: u64) -> Result<String> {
    sign(ring, Purpose::PortalLink, "pl1", partner, expires)
}

/// Verifies a sign-in link's credential at `now` (signature, purpose, expiry); that
/// it was not used before is the tracker's to check.
pub fn verify_link(ring: &Keyring, text: &str, now: u64) -> Result<PortalClaims> {
    verify(ring, Purpose::PortalLink, "pl1", text, now)
}

/// A session for `partner` from `now`, valid for [`SESSION_SECS`].
pub fn sign_session(ring: &Keyring, partner: Code, now: u64) -> Result<String> {
    sign(
        ring,
        Purpose::PortalSession,
        "ps1",
        partner,
        now + SESSION_SECS,
    )
}

/// Verifies a session at `now`.
pub fn verify_session(ring: &Keyring, text: &str, now: u64) -> Result<PortalClaims> {
    verify(ring, Purpose::PortalSession, "ps1", text, now)
}

/// The name of the portal's session cookie over `http`.
pub const SESSION_COOKIE: &str = "aff_portal";

/// The name of the portal's session cookie over `https`: with the `__Host-` prefix, so
/// a browser keeps it only as sent (`Secure`, `Path=/`, no `Domain`): no other site
/// under the same domain can set or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-aff_portal";

/// The session cookie's name for links under `base_url`.
#[must_use]
pub fn session_cookie_name(base_url: &str) -> &'static str {
    if base_url.starts_with("https://") {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// Where the portal lives for links under `base_url`: the base URL without its last
/// path segment (`https://t.shop.example/go` → `https://t.shop.example`).
#[must_use]
pub fn portal_origin(base_url: &str) -> &str {
    let base = base_url.trim_end_matches('/');
    match base.rfind('/') {
        Some(i) if base[..i].contains("://") && !base[..i].ends_with('/') => &base[..i],
        _ => base,
    }
}

/// A sign-in URL for `partner` made at `now`, valid for `ttl_secs` (1 second to
/// [`MAX_LINK_SECS`]): `{portal origin}/portal/login?t=…`. Whether the partner may
/// sign in is checked when the link is used.
pub fn portal_link_url(
    ring: &Keyring,
    base_url: &str,
    partner: Code,
    now: u64,
    ttl_secs: u64,
) -> Result<String> {
    if ttl_secs == 0 || ttl_secs > MAX_LINK_SECS {
        return Err(Error::malformed("ttl", "must be 1 second to 7 days"));
    }
    let t = sign_link(ring, partner, now + ttl_secs)?;
    Ok(format!("{}/portal/login?t={t}", portal_origin(base_url)))
}

/// The `Set-Cookie` value of a portal session (`HttpOnly; SameSite=Strict; Path=/`;
/// over https `Secure` and named [`SECURE_SESSION_COOKIE`]), or, with `None`, the one
/// that clears it.
#[must_use]
pub fn session_cookie(base_url: &str, session: Option<&str>) -> String {
    let name = session_cookie_name(base_url);
    let secure = if base_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    match session {
        Some(s) => {
            format!("{name}={s}; HttpOnly; SameSite=Strict; Path=/; Max-Age={SESSION_SECS}{secure}")
        }
        None => format!("{name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}"),
    }
}

/// A new partner key (`pk_` and 32 random bytes, base64url) and its digest.
pub fn new_partner_key() -> Result<(String, String)> {
    let key = format!("pk_{}", random_b64::<32>()?);
    let digest = key_digest(&key);
    Ok((key, digest))
}

/// A new key id: `pkid_` and 8 random bytes, hexadecimal.
pub(crate) fn new_key_id() -> Result<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|_| Error::Store("no randomness".into()))?;
    Ok(format!("pkid_{:016x}", u64::from_be_bytes(bytes)))
}

/// The SHA-256 digest of a partner key, hexadecimal: what the store keeps.
#[must_use]
pub fn key_digest(key: &str) -> String {
    use std::fmt::Write as _;
    Sha256::digest(key.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Whether `text` has a partner key's shape (`pk_` and 43 base64url characters).
#[must_use]
pub fn looks_like_partner_key(text: &str) -> bool {
    text.len() == 46
        && text.starts_with("pk_")
        && text[3..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Key;

    fn ring() -> Keyring {
        Keyring::new("k1", Key::from_bytes(&[7; 32]).unwrap()).unwrap()
    }

    #[test]
    fn links_and_sessions_verify_only_as_themselves_and_expire() {
        let r = ring();
        let p = Code::new("abc123").unwrap();
        let link = sign_link(&r, p, 1_000).unwrap();
        let claims = verify_link(&r, &link, 999).unwrap();
        assert_eq!((claims.partner, claims.expires), (p, 1_000));
        assert_eq!(verify_link(&r, &link, 1_000).unwrap_err().code(), "expired");
        // A link is not a session, and a session is not a link.
        assert!(verify_session(&r, &link, 0).is_err());
        let session = sign_session(&r, p, 0).unwrap();
        assert_eq!(
            verify_session(&r, &session, 1).unwrap().expires,
            SESSION_SECS
        );
        assert!(verify_link(&r, &session, 1).is_err());
        // Another partner's code spliced in breaks the tag.
        let forged = link.replacen("abc123", "boss1", 1);
        assert_eq!(
            verify_link(&r, &forged, 0).unwrap_err().code(),
            "invalid_signature"
        );
        let other = Keyring::new("k1", Key::from_bytes(&[8; 32]).unwrap()).unwrap();
        assert!(verify_link(&other, &link, 0).is_err());
        for junk in [
            "",
            ".",
            "pl1",
            "pl1.a.b.c.d.e",
            &"x".repeat(500),
            "pl1.ab.1.é.k1.x",
        ] {
            assert!(verify_link(&r, junk, 0).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn partner_keys_have_their_shape_and_digest() {
        let (key, digest) = new_partner_key().unwrap();
        assert!(looks_like_partner_key(&key), "{key}");
        assert_eq!(digest, key_digest(&key));
        assert_eq!(digest.len(), 64);
        assert_ne!(new_partner_key().unwrap().0, key);
        assert!(!looks_like_partner_key("pk_short"));
        assert!(!looks_like_partner_key(&key.replace("pk_", "sk_")));
    }
}
