//! Coupons: codes that credit a partner when an order carries them.

use serde::{Deserialize, Serialize};

use crate::code::Code;
use crate::error::{Error, Result};

/// A coupon as sent to the API: its code and, optionally, the one campaign it credits
/// (without one, a coupon credits the campaign the order names, or the only one).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CouponRequest, description = "A coupon to give a partner."))]
pub struct CouponSpec {
    /// The coupon code (`[A-Za-z0-9_-]`, matched without regard to case).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::CodeText))]
    pub code: String,
    /// The campaign it credits, if only one.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::CodeText>, nullable = false))]
    pub campaign: Option<String>,
}

/// A partner's coupon: a code that credits the partner when an order carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Coupon {
    /// The code, upper-cased.
    pub code: Code,
    /// The partner it credits.
    pub partner: Code,
    /// The one campaign it credits, if set.
    pub campaign: Option<Code>,
}

/// How a coupon is stored: its partner with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CouponRecord {
    pub(crate) code: String,
    pub(crate) partner: String,
    #[serde(default)]
    pub(crate) campaign: Option<String>,
}

/// Normalises a coupon code: the code alphabet, compared in upper case.
pub(crate) fn coupon_code(s: &str) -> Result<Code> {
    Code::new(&s.to_ascii_uppercase()).map_err(|e| match e {
        Error::Malformed { reason, .. } => Error::Malformed {
            field: "coupon",
            reason,
        },
        other => other,
    })
}
