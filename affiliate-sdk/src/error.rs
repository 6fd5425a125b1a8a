//! The one error type of the crate.
//!
//! Every fallible function returns [`Result<T>`]. Each variant has a short lowercase
//! message and a stable machine-readable [`Error::code`] (the `code` field of the HTTP
//! API's error JSON, the Python exception class, the JS `Error.code`).
//!
//! Verification failures never say *why* a tag did not match: a wrong byte, a removed
//! key id and a purpose mix-up all read "invalid signature". Messages never contain key
//! material or whole tokens.

use std::borrow::Cow;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the SDK.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input did not have the required shape. `field` names the input
    /// (`"campaign code"`, `"token"`, `"cookie header"` …); `reason` says what is wrong.
    /// Neither ever holds a secret.
    #[error("malformed {field}: {reason}")]
    Malformed {
        /// Which input was malformed.
        field: &'static str,
        /// What is wrong with it.
        reason: Cow<'static, str>,
    },
    /// A link signature, token tag or postback signature did not verify, or was made
    /// with a key id the keyring does not (or no longer) hold.
    #[error("invalid signature")]
    InvalidSignature,
    /// A correctly signed token whose time claims do not hold now.
    #[error(transparent)]
    Claims(#[from] ClaimsError),
    /// A key or keyring could not be built.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// An amount, currency or percentage was refused (code `malformed`).
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// No campaign with this code is configured.
    #[error("unknown campaign {0:?}")]
    UnknownCampaign(String),
    /// No partner with this code is configured.
    #[error("unknown partner {0:?}")]
    UnknownPartner(String),
    /// The evidence does not credit any partner: no token, click id, coupon or
    /// customer binding that holds, or the click was too recent.
    #[error("not attributable: {0}")]
    NotAttributable(Cow<'static, str>),
    /// The order id was recorded before with another amount, currency or kind; nothing
    /// was changed.
    #[error("conflict: order {0:?} was recorded with other values")]
    Conflict(String),
    /// A status change the lifecycle does not allow (`paid` → `pending`, …).
    #[error("invalid transition from {from} to {to}")]
    InvalidTransition {
        /// The current status.
        from: &'static str,
        /// The status asked for.
        to: &'static str,
    },
    /// Nothing recorded under this id.
    #[error("not found: {0}")]
    NotFound(String),
    /// A campaign, partner or coupon with this code exists already (code `conflict`);
    /// nothing was changed.
    #[error("conflict: {0}")]
    Exists(String),
    /// The campaign or partner is set in the configuration file, which manages it:
    /// change it there. Nothing was changed.
    #[error("managed by config: {0} is set in the configuration file; change it there")]
    ManagedByConfig(String),
    /// The caller is known but may not do this (a partner reaching outside its own
    /// subtree, a suspended partner's key).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// No valid credential came with the call (a missing, wrong or revoked postback
    /// key): who is asking is unknown. Nothing was read or changed.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The store could not read or durably write; nothing was acknowledged.
    #[error("store unavailable: {0}")]
    Store(String),
}

impl Error {
    /// The stable error code (`malformed`, `invalid_signature`, `expired`, …) used by
    /// the HTTP API, the Python exceptions and the JS errors: one of [`ERROR_CODES`].
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Error::Malformed { .. } | Error::Key(_) | Error::Money(_) => "malformed",
            Error::InvalidSignature => "invalid_signature",
            Error::Claims(_) => "expired",
            Error::UnknownCampaign(_) => "unknown_campaign",
            Error::UnknownPartner(_) => "unknown_partner",
            Error::NotAttributable(_) => "not_attributable",
            Error::Conflict(_) | Error::Exists(_) => "conflict",
            Error::ManagedByConfig(_) => "managed_by_config",
            Error::Forbidden(_) => "forbidden",
            Error::Unauthorized(_) => "unauthorized",
            Error::InvalidTransition { .. } => "invalid_transition",
            Error::NotFound(_) => "not_found",
            Error::Store(_) => "store_unavailable",
        }
    }

    /// The HTTP status for this error, as `affiliate-server` answers it on a request
    /// that refers to program records ([`Addressed::Request`]; see [`http_status`]).
    ///
    /// ```
    /// assert_eq!(affiliate_sdk::Error::InvalidSignature.http_status(), 422);
    /// ```
    #[must_use]
    pub fn http_status(&self) -> u16 {
        http_status(self.code(), Addressed::Request)
    }

    /// The HTTP status for this error where it is answered: see [`http_status`].
    ///
    /// ```
    /// use affiliate_sdk::{Addressed, Error};
    /// let e = Error::UnknownPartner("ann".into());
    /// assert_eq!(e.http_status_in(Addressed::Request), 422);
    /// assert_eq!(e.http_status_in(Addressed::Resource), 404);
    /// ```
    #[must_use]
    pub fn http_status_in(&self, at: Addressed) -> u16 {
        http_status(self.code(), at)
    }

    pub(crate) fn malformed(field: &'static str, reason: impl Into<Cow<'static, str>>) -> Self {
        Error::Malformed {
            field,
            reason: reason.into(),
        }
    }
}

/// Where an error is answered, which decides its HTTP status ([`http_status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Addressed {
    /// A request that refers to program records by code (a conversion, a click, a
    /// payout run): an unknown campaign or partner is well formed but credits nobody.
    Request,
    /// A request for a program record addressed by its code (the merchant's campaign,
    /// partner and key endpoints, a partner's own records): an unknown campaign or
    /// partner is not found, and the partner API cannot tell another subtree's
    /// records from records that do not exist.
    Resource,
}

/// The HTTP status of an error `code` (one of [`ERROR_CODES`]) where it is answered,
/// decided here for every skin: `400` `malformed`; `401` `unauthorized`; `403`
/// `forbidden`; `404` `not_found`, and `unknown_campaign`/`unknown_partner` on a
/// [`Addressed::Resource`]; `409` `conflict`, `invalid_transition`,
/// `managed_by_config`; `503` `store_unavailable`; `422` for the rest
/// (`invalid_signature`, `expired`, `unknown_campaign`, `unknown_partner`,
/// `not_attributable`: well formed, but it credits nobody).
#[must_use]
pub fn http_status(code: &str, at: Addressed) -> u16 {
    match (code, at) {
        ("malformed", _) => 400,
        ("unauthorized", _) => 401,
        ("forbidden", _) => 403,
        ("not_found", _) | ("unknown_campaign" | "unknown_partner", Addressed::Resource) => 404,
        ("conflict" | "invalid_transition" | "managed_by_config", _) => 409,
        ("store_unavailable", _) => 503,
        _ => 422,
    }
}

/// Every error code, in the order the docs list them: the codes of [`Error::code`].
/// The Python exceptions and the JS package's `ERROR_CODES` are tested to equal
/// this list.
pub const ERROR_CODES: [&str; 13] = [
    "malformed",
    "invalid_signature",
    "expired",
    "unknown_campaign",
    "unknown_partner",
    "not_attributable",
    "conflict",
    "invalid_transition",
    "unauthorized",
    "not_found",
    "store_unavailable",
    "forbidden",
    "managed_by_config",
];

/// A signed token whose time window does not contain "now" (error code `expired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsError {
    /// The window ended (more than the allowed clock skew ago).
    #[error("expired")]
    Expired {
        /// When the token's window ended, in Unix seconds.
        expired_at: u64,
    },
    /// A token in a landing URL was issued longer ago than a landing may take
    /// ([`LANDING_SECS`](crate::LANDING_SECS)): a shared or posted link, not a fresh
    /// click; it is ignored.
    #[error("issued more than 10 minutes ago: a landing URL's token must come from a fresh click")]
    StaleLanding {
        /// The token's issued-at time, in Unix seconds.
        issued_at: u64,
    },
    /// The token claims to be issued further in the future than the allowed clock skew.
    #[error("not yet valid")]
    NotYetValid {
        /// The token's issued-at time, in Unix seconds.
        issued_at: u64,
    },
}

/// Why a [`Key`](crate::Key) or [`Keyring`](crate::Keyring) could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key has fewer than [`Key::MIN_LEN`](crate::Key::MIN_LEN) bytes.
    #[error("key too short: {len} bytes, at least 32 required")]
    TooShort {
        /// The length that was given.
        len: usize,
    },
    /// The key has more than [`Key::MAX_LEN`](crate::Key::MAX_LEN) bytes.
    #[error("key too long: {len} bytes, at most 256 allowed")]
    TooLong {
        /// The length that was given.
        len: usize,
    },
    /// The key text is not unpadded base64url.
    #[error("key is not unpadded base64url")]
    Encoding,
    /// A key id is not 1–16 bytes of `[A-Za-z0-9_-]`.
    #[error("invalid key id: must be 1-16 bytes of [A-Za-z0-9_-]")]
    InvalidKid,
    /// The same key id was added twice.
    #[error("duplicate key id {0:?}")]
    DuplicateKid(String),
    /// The key id named as current is not in the ring.
    #[error("current key id {0:?} is not in the keyring")]
    UnknownCurrent(String),
    /// The operating system's random source failed.
    #[error("random source unavailable")]
    Random,
}

/// `s` cut to at most `max` bytes (on a character boundary), for an error message or a
/// log of attempts.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::{ClaimsError, ERROR_CODES, Error};

    #[test]
    fn every_code_is_listed_once_and_every_listed_code_is_used() {
        let errors = [
            Error::malformed("x", "y"),
            Error::InvalidSignature,
            Error::Claims(ClaimsError::Expired { expired_at: 0 }),
            Error::UnknownCampaign("c".into()),
            Error::UnknownPartner("p".into()),
            Error::NotAttributable("n".into()),
            Error::Conflict("o".into()),
            Error::InvalidTransition {
                from: "paid",
                to: "pending",
            },
            Error::NotFound("o".into()),
            Error::Store("s".into()),
            Error::Exists("e".into()),
            Error::ManagedByConfig("m".into()),
            Error::Forbidden("f".into()),
            Error::Unauthorized("u".into()),
        ];
        let used: Vec<&str> = errors.iter().map(Error::code).collect();
        for code in &used {
            assert!(ERROR_CODES.contains(code), "{code} is not in ERROR_CODES");
        }
        for code in ERROR_CODES {
            assert_eq!(ERROR_CODES.iter().filter(|c| **c == code).count(), 1);
            assert!(used.contains(&code), "{code} is listed but no error has it");
        }
    }
}

/// Why an amount, currency or percentage was refused (error code `malformed`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// Not a plain decimal number (`"49.90"`, `"5"`): signs, exponents, spaces,
    /// separators and empty parts are refused.
    #[error("amount is not a decimal number such as \"49.90\"")]
    Syntax,
    /// A minus sign: amounts are never negative.
    #[error("amount is negative")]
    Negative,
    /// More decimals than the currency's minor unit has.
    #[error("{currency} allows at most {max} decimals")]
    TooManyDecimals {
        /// The currency code.
        currency: &'static str,
        /// Its ISO 4217 exponent.
        max: u8,
    },
    /// The amount does not fit in 64 bits of minor units.
    #[error("amount too large")]
    Overflow,
    /// Not an active ISO 4217 currency with a minor unit (codes are upper case).
    #[error("unknown currency {0:?}")]
    UnknownCurrency(String),
    /// A percentage that is not a decimal between 0 and 100 with at most 4 decimals.
    #[error("percentage must be a decimal between 0 and 100 with at most 4 decimals")]
    Percent,
    /// Two amounts in different currencies were combined.
    #[error("currency mismatch: {0} and {1}")]
    CurrencyMismatch(&'static str, &'static str),
}

/// Names the spec field in a validation error.
pub(crate) fn field<T>(name: &'static str, r: Result<T>) -> Result<T> {
    r.map_err(|e| match e {
        Error::Malformed { reason, .. } => Error::Malformed {
            field: name,
            reason,
        },
        other => Error::Malformed {
            field: name,
            reason: other.to_string().into(),
        },
    })
}

/// Names the field of a malformed-input error.
pub(crate) fn rename(e: Error, field: &'static str) -> Error {
    match e {
        Error::Malformed { reason, .. } => Error::Malformed { field, reason },
        other => other,
    }
}
