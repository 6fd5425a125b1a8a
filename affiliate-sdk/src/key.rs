//! Signing keys and the keyring that rotates them.
//!
//! A [`Keyring`] holds one or more [`Key`]s, each under a key id ([`Kid`]). The
//! *current* key signs; every key in the ring verifies, so a key can be rotated in
//! (add it, make it current) and later out (remove it: what it signed stops verifying).
//!
//! Every tag is bound to its purpose by a label in the HMAC input. Link, order,
//! postback and portal messages start with theirs (`affiliate-sdk:link:v1\0`,
//! `affiliate-sdk:order:v1\0`, `affiliate-sdk:postback:v1\0`,
//! `affiliate-sdk:portal-link:v1\0`, `affiliate-sdk:portal-session:v1\0`);
//! a token message is the token's own text, which starts with `v1.`, followed by the
//! label `\0affiliate-sdk:token:v1` (so the MAC reads the token in place, from its
//! first byte). No message of one purpose can equal a message of another, so a link
//! tag can never verify as a token tag or a postback signature. The keyed HMAC state
//! with any leading label already absorbed is computed once per key and cloned per
//! use, which makes signing cost only the message itself.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{Error, KeyError, Result};

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// Bytes kept of each HMAC-SHA256 output: 128 bits.
pub(crate) const TAG_LEN: usize = 16;
/// Characters of a tag in unpadded base64url.
pub(crate) const TAG_B64_LEN: usize = 22;

/// What a tag is for. Link and postback labels are the first thing the MAC absorbs;
/// the token label, [`TOKEN_LABEL`], the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Link = 0,
    Token = 1,
    Postback = 2,
    Order = 3,
    PortalLink = 4,
    PortalSession = 5,
}

impl Purpose {
    const ALL: [Purpose; 6] = [
        Purpose::Link,
        Purpose::Token,
        Purpose::Postback,
        Purpose::Order,
        Purpose::PortalLink,
        Purpose::PortalSession,
    ];

    /// What the MAC absorbs before the message.
    fn prefix(self) -> &'static [u8] {
        match self {
            Purpose::Link => b"affiliate-sdk:link:v1\0",
            Purpose::Token => b"",
            Purpose::Postback => b"affiliate-sdk:postback:v1\0",
            Purpose::Order => b"affiliate-sdk:order:v1\0",
            Purpose::PortalLink => b"affiliate-sdk:portal-link:v1\0",
            Purpose::PortalSession => b"affiliate-sdk:portal-session:v1\0",
        }
    }
}

/// What the MAC absorbs after a token's text. At the end rather than the start, so
/// the keyed state begins on a block boundary and the token is hashed in place: a
/// label left in the state's buffer would be copied and re-read on every verify.
pub(crate) const TOKEN_LABEL: &[u8] = b"\0affiliate-sdk:token:v1";

/// A secret signing key: 32 to 256 bytes, written as unpadded base64url.
///
/// `Debug` never shows the bytes and `==` compares in constant time.
///
/// ```
/// use affiliate_sdk::Key;
/// let key = Key::generate()?;
/// assert_eq!(format!("{key:?}"), "Key { .. }");
/// assert_eq!(Key::from_base64(&key.to_base64())?, key);
/// assert!(Key::from_bytes(&[7; 16]).is_err()); // too short
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
#[derive(Clone)]
pub struct Key(Box<[u8]>);

impl Key {
    /// Fewest bytes a key may have.
    pub const MIN_LEN: usize = 32;
    /// Most bytes a key may have.
    pub const MAX_LEN: usize = 256;

    /// A fresh key of 32 bytes from the operating system's random source.
    pub fn generate() -> Result<Key> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| KeyError::Random)?;
        Key::from_bytes(&bytes)
    }

    /// A key from raw bytes; refused when shorter than [`Key::MIN_LEN`] or longer than
    /// [`Key::MAX_LEN`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Key> {
        if bytes.len() < Self::MIN_LEN {
            return Err(KeyError::TooShort { len: bytes.len() }.into());
        }
        if bytes.len() > Self::MAX_LEN {
            return Err(KeyError::TooLong { len: bytes.len() }.into());
        }
        Ok(Key(bytes.into()))
    }

    /// A key from its unpadded base64url text (what [`Key::to_base64`] and
    /// `affiliate-server keygen` print).
    pub fn from_base64(text: &str) -> Result<Key> {
        // Bound the work before decoding: 256 bytes are 342 characters.
        if text.len() > 400 {
            return Err(KeyError::TooLong {
                len: text.len() * 3 / 4,
            }
            .into());
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| KeyError::Encoding)?;
        Key::from_bytes(&bytes)
    }

    /// The key as unpadded base64url. This is the secret itself: write it only to
    /// the configuration that needs it.
    #[must_use]
    pub fn to_base64(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.0)
    }

    /// Number of bytes in the key.
    #[must_use]
    #[allow(clippy::len_without_is_empty)] // a key is never empty
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key { .. }")
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        // Lengths are not secret; contents are compared in constant time.
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Key {}

/// A key id: 1–16 bytes of `[A-Za-z0-9_-]`, carried in every signature and token so
/// the verifier knows which key to use.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kid(arrayvec::ArrayString<16>);

impl Kid {
    /// Longest key id, in bytes.
    pub const MAX_LEN: usize = 16;

    /// Validates a key id.
    pub fn new(s: &str) -> Result<Kid> {
        if s.is_empty() || s.len() > Self::MAX_LEN || !s.bytes().all(crate::code::is_code_byte) {
            return Err(KeyError::InvalidKid.into());
        }
        arrayvec::ArrayString::from(s)
            .map(Kid)
            .map_err(|_| KeyError::InvalidKid.into())
    }

    /// The key id's text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone)]
struct Entry {
    kid: Kid,
    key: Key,
    /// Keyed HMAC states with each purpose's prefix absorbed, indexed by `Purpose as usize`.
    macs: [HmacSha256; 6],
}

impl Entry {
    fn new(kid: Kid, key: Key) -> Entry {
        let macs = Purpose::ALL.map(|p| {
            let mut mac = HmacSha256::new_from_slice(&key.0)
                .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
            mac.update(p.prefix());
            mac
        });
        Entry { kid, key, macs }
    }
}

/// The set of keys a tracker signs and verifies with.
///
/// ```
/// use affiliate_sdk::{Key, Keyring};
/// let old = Key::generate()?;
/// let mut ring = Keyring::new("k1", old)?;
/// ring.insert("k2", Key::generate()?)?;
/// ring.set_current("k2")?;          // k2 signs from now on; k1 still verifies
/// assert_eq!(ring.current_kid().as_str(), "k2");
/// ring.remove("k1");                // what k1 signed no longer verifies
/// assert_eq!(ring.kids().count(), 1);
/// assert!(format!("{ring:?}").contains("k2") && !format!("{ring:?}").contains("Key("));
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
#[derive(Clone)]
pub struct Keyring {
    entries: Vec<Entry>,
    current: usize,
}

impl Keyring {
    /// A ring holding one key, which is current.
    pub fn new(kid: &str, key: Key) -> Result<Keyring> {
        Ok(Keyring {
            entries: vec![Entry::new(Kid::new(kid)?, key)],
            current: 0,
        })
    }

    /// A ring with one freshly generated key under the id `k1`.
    pub fn generate() -> Result<Keyring> {
        Keyring::new("k1", Key::generate()?)
    }

    /// A ring from `(kid, base64url key)` pairs, with `current` signing. This is the
    /// shape of the `[keys]` config table and the Python `Keyring({...}, current=...)`.
    pub fn from_base64<'a, I>(keys: I, current: &str) -> Result<Keyring>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut entries: Vec<Entry> = Vec::new();
        for (kid, text) in keys {
            let kid = Kid::new(kid)?;
            if entries.iter().any(|e| e.kid == kid) {
                return Err(KeyError::DuplicateKid(kid.as_str().to_owned()).into());
            }
            entries.push(Entry::new(kid, Key::from_base64(text)?));
        }
        let current = entries
            .iter()
            .position(|e| e.kid.as_str() == current)
            .ok_or_else(|| KeyError::UnknownCurrent(current.to_owned()))?;
        Ok(Keyring { entries, current })
    }

    /// Adds a verifying key. It does not sign until made current.
    pub fn insert(&mut self, kid: &str, key: Key) -> Result<()> {
        let kid = Kid::new(kid)?;
        if self.entries.iter().any(|e| e.kid == kid) {
            return Err(KeyError::DuplicateKid(kid.as_str().to_owned()).into());
        }
        self.entries.push(Entry::new(kid, key));
        Ok(())
    }

    /// Makes `kid` the signing key.
    pub fn set_current(&mut self, kid: &str) -> Result<()> {
        self.current = self
            .position(kid)
            .ok_or_else(|| KeyError::UnknownCurrent(kid.to_owned()))?;
        Ok(())
    }

    /// Removes a key; links and tokens it signed stop verifying. The current key
    /// cannot be removed (returns `false`), nor can an absent one.
    pub fn remove(&mut self, kid: &str) -> bool {
        match self.position(kid) {
            Some(i) if i != self.current => {
                let current_kid = self.entries[self.current].kid;
                self.entries.remove(i);
                self.current = self.position(current_kid.as_str()).unwrap_or(0);
                true
            }
            _ => false,
        }
    }

    /// The id of the signing key.
    #[must_use]
    pub fn current_kid(&self) -> Kid {
        self.entries[self.current].kid
    }

    /// Every key id in the ring, in insertion order.
    pub fn kids(&self) -> impl Iterator<Item = Kid> + '_ {
        self.entries.iter().map(|e| e.kid)
    }

    /// The key stored under `kid`, if any. It is the secret: handle with care.
    #[must_use]
    pub fn key(&self, kid: &str) -> Option<&Key> {
        self.position(kid).map(|i| &self.entries[i].key)
    }

    fn position(&self, kid: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.kid.as_str() == kid)
    }

    /// The current key's id and its keyed MAC state for `purpose`.
    pub(crate) fn signer(&self, purpose: Purpose) -> (Kid, HmacSha256) {
        let e = &self.entries[self.current];
        (e.kid, e.macs[purpose as usize].clone())
    }

    /// The keyed MAC state of `kid` for `purpose`; an unknown kid is an invalid
    /// signature (the verifier does not say which keys it holds).
    pub(crate) fn verifier(&self, kid: &[u8], purpose: Purpose) -> Result<&HmacSha256> {
        self.entries
            .iter()
            .find(|e| e.kid.as_str().as_bytes() == kid)
            .map(|e| &e.macs[purpose as usize])
            .ok_or(Error::InvalidSignature)
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current_kid())
            .field("kids", &self.kids().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Finishes `mac` and returns the first 128 bits.
#[inline]
pub(crate) fn tag(mac: HmacSha256) -> [u8; TAG_LEN] {
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(&full[..TAG_LEN]);
    out
}

/// Checks a base64url tag against `mac` in constant time.
///
/// The given tag is decoded strictly (22 characters, unused low bits zero, so a
/// non-canonical spelling never matches) and compared as bytes. Decoding the input
/// rather than encoding the expected tag keeps the base64 work off the path that
/// waits for the hash: it does not depend on the MAC, so the CPU does it while
/// SHA-256 runs, and only the 16-byte comparison follows the hash.
#[inline]
pub(crate) fn verify_tag(mac: HmacSha256, tag_b64: &[u8]) -> Result<()> {
    let given = decode_128(tag_b64);
    // Word-wise XOR fold without early exit (subtle's byte-wise slice compare costs
    // more than a third of the HMAC itself here). The hash is finished even when the
    // tag did not decode, so a malformed tag takes as long as a wrong one.
    let expected = tag(mac);
    let equal = constant_time_eq::constant_time_eq_16(&expected, &given.unwrap_or_default());
    if equal & given.is_some() {
        Ok(())
    } else {
        Err(Error::InvalidSignature)
    }
}

/// The value of each base64url character; 0xFF for every other byte.
static BASE64URL_VALUE: [u8; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut t = [0xFF; 256];
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Decodes exactly 22 characters of unpadded base64url into 128 bits (a tag or a
/// click id), strictly: any other length, any byte outside the alphabet, or unused
/// low bits that are not zero (a second spelling of the same bytes) is `None`.
///
/// It gives the same answer as `base64`'s `URL_SAFE_NO_PAD.decode_slice` for these
/// inputs (a unit test holds it to that), in two thirds of the time: a verified token
/// decodes two such fields, and the general decoder's set-up for 22 characters cost
/// about 5 ns each, 5 % of the whole verification.
#[inline]
pub(crate) fn decode_128(text: &[u8]) -> Option<[u8; 16]> {
    let text: &[u8; TAG_B64_LEN] = text.try_into().ok()?;
    let value = |i: usize| u32::from(BASE64URL_VALUE[usize::from(text[i])]);
    let mut out = [0u8; 16];
    let mut invalid = 0u32;
    // Five groups of 4 characters carry 15 bytes; the last 2 carry 8 bits and 4
    // unused bits that must be zero.
    for (g, bytes) in out.chunks_exact_mut(3).enumerate() {
        let (a, b, c, d) = (
            value(4 * g),
            value(4 * g + 1),
            value(4 * g + 2),
            value(4 * g + 3),
        );
        invalid |= a | b | c | d;
        let word = a << 18 | b << 12 | c << 6 | d;
        bytes.copy_from_slice(&word.to_be_bytes()[1..]);
    }
    let (a, b) = (value(20), value(21));
    invalid |= a | b | (b & 0x0F) << 6;
    out[15] = (a << 2 | b >> 4) as u8;
    // Every valid value is below 64; 0xFF (not in the alphabet) and the shifted
    // unused bits are not.
    (invalid < 64).then_some(out)
}

/// Encodes a tag as unpadded base64url (22 characters).
pub(crate) fn encode_tag(tag: &[u8; TAG_LEN], out: &mut String) {
    // Through a buffer on the stack: `encode_string`'s chunked writer costs more than
    // the encoding of 16 bytes.
    let mut buf = [0u8; TAG_B64_LEN + 2];
    let n = URL_SAFE_NO_PAD.encode_slice(tag, &mut buf).unwrap_or(0);
    out.push_str(std::str::from_utf8(&buf[..n]).unwrap_or(""));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(text: &[u8]) -> Option<[u8; 16]> {
        let mut out = [0u8; 16];
        match URL_SAFE_NO_PAD.decode_slice(text, &mut out) {
            Ok(16) if text.len() == TAG_B64_LEN => Some(out),
            _ => None,
        }
    }

    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    proptest! {
        #[test]
        fn decode_128_round_trips_every_value(bytes in any::<[u8; 16]>()) {
            let text = URL_SAFE_NO_PAD.encode(bytes);
            prop_assert_eq!(decode_128(text.as_bytes()), Some(bytes));
        }

        #[test]
        fn decode_128_agrees_with_the_base64_crate(
            text in prop::collection::vec(
                prop_oneof![prop::sample::select(ALPHABET), any::<u8>()],
                20..24,
            )
        ) {
            prop_assert_eq!(decode_128(&text), reference(&text));
        }
    }

    #[test]
    fn decode_128_refuses_every_other_spelling_and_byte() {
        let good = URL_SAFE_NO_PAD.encode([0xA5; 16]).into_bytes();
        // Every byte value in every position: valid exactly when the base64 crate says so.
        for i in 0..good.len() {
            for b in 0..=255u8 {
                let mut text = good.clone();
                text[i] = b;
                assert_eq!(decode_128(&text), reference(&text), "byte {b:#x} at {i}");
            }
        }
        // The last character carries 4 unused bits: only the 4 spellings with them
        // zero decode.
        let last_ok = ALPHABET
            .iter()
            .filter(|&&c| {
                let mut text = good.clone();
                text[21] = c;
                decode_128(&text).is_some()
            })
            .count();
        assert_eq!(last_ok, 4);
        assert_eq!(decode_128(&good[..21]), None);
        assert_eq!(decode_128(&[good.as_slice(), b"A"].concat()), None);
    }
}
