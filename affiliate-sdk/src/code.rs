//! Validated identifiers: campaign, partner and ad [`Code`]s and the partner's [`Sid`].
//!
//! Both are stored inline (no heap allocation) and are `Copy`. Their alphabets need no
//! escaping in a URL path, a query string, a cookie or a header, so nothing a partner
//! writes can reach a header unescaped.

use std::fmt;
use std::str::FromStr;

use arrayvec::ArrayString;

use crate::error::{Error, Result};

/// Longest code or sid, in bytes.
pub const MAX_CODE_LEN: usize = 64;

macro_rules! ascii_id {
    ($(#[$doc:meta])* $name:ident, $field:literal, $allowed:expr, $alphabet:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(ArrayString<MAX_CODE_LEN>);

        impl $name {
            /// Validates `s`: 1–64 bytes of
            #[doc = concat!("`", $alphabet, "`.")]
            /// Anything else is an [`Error::Malformed`]; input is never truncated.
            pub fn new(s: &str) -> Result<Self> {
                Self::check(s, $field)?;
                // Length was checked above, so this cannot fail.
                ArrayString::from(s)
                    .map($name)
                    .map_err(|_| Error::malformed($field, "longer than 64 bytes"))
            }

            /// What [`Self::new`] checks, without making the value; errors name `field`.
            pub(crate) fn check(s: &str, field: &'static str) -> Result<()> {
                if s.is_empty() {
                    return Err(Error::malformed(field, "empty"));
                }
                if s.len() > MAX_CODE_LEN {
                    return Err(Error::malformed(field, "longer than 64 bytes"));
                }
                if !s.bytes().all($allowed) {
                    return Err(Error::malformed(
                        field,
                        concat!("only ", $alphabet, " allowed"),
                    ));
                }
                Ok(())
            }

            /// For text already checked by the caller (a verified token's fields):
            /// the length and alphabet are asserted in debug builds only.
            pub(crate) fn trusted(s: &str) -> Self {
                debug_assert!(Self::new(s).is_ok(), "unchecked {}", $field);
                let mut a = ArrayString::new();
                // Cannot fail for checked input; never panics for any input.
                let _ = a.try_push_str(s);
                $name(a)
            }

            /// The text of the value.
            #[must_use]
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Error;
            fn try_from(s: &str) -> Result<Self> {
                Self::new(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::new(&s).map_err(serde::de::Error::custom)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

pub(crate) const fn is_code_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

pub(crate) const fn is_sid_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-')
}

ascii_id!(
    /// A campaign, partner or ad code: 1–64 bytes of `[A-Za-z0-9_-]`, case-sensitive.
    ///
    /// ```
    /// use affiliate_sdk::Code;
    /// assert_eq!(Code::new("haircare")?.as_str(), "haircare");
    /// assert_eq!(Code::new("hair care").unwrap_err().code(), "malformed");
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    Code,
    "code",
    is_code_byte,
    "[A-Za-z0-9_-]"
);

ascii_id!(
    /// A partner's sub-id (`sid`): 1–64 bytes of `[A-Za-z0-9._~-]`. Not signed: the
    /// partner appends it to its link to measure keywords or placements.
    ///
    /// ```
    /// use affiliate_sdk::Sid;
    /// assert!(Sid::new("kw.1~a").is_ok());
    /// assert!(Sid::new("kw 1").is_err());
    /// assert!(Sid::new(&"x".repeat(65)).is_err());
    /// ```
    Sid,
    "sid",
    is_sid_byte,
    "[A-Za-z0-9._~-]"
);

/// Validates a code and names the field it came from in the error.
pub(crate) fn code_field(field: &'static str, s: &str) -> Result<Code> {
    Code::check(s, field)?;
    Ok(Code::trusted(s))
}

impl Sid {
    /// The text of [`Sid::other`].
    pub const OTHER: &'static str = "(other)";

    /// The sid the day's counters use for every sid over a campaign and partner's
    /// daily cap: `(other)`, which no partner can write (parentheses are not in the
    /// alphabet), so it never mixes with a real one.
    #[must_use]
    pub fn other() -> Sid {
        let mut a = ArrayString::new();
        let _ = a.try_push_str(Sid::OTHER);
        Sid(a)
    }

    /// Whether this is [`Sid::other`].
    #[must_use]
    pub fn is_other(&self) -> bool {
        self.0.as_str() == Sid::OTHER
    }
}
