//! The program's records around campaigns and partners: the campaign settings that
//! traffic quality, deep links and the ledger act on, partner profiles, coupons and
//! partner ads, and the JSON merge patch (RFC 7396) the API's `PATCH` applies.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::code::Code;
use crate::error::{Error, Result};

/// Which clicks earn a campaign's per-click commission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClickCommission {
    /// Unique clicks only (the default): a visitor's repeated clicks pay once.
    #[default]
    Unique,
    /// Every click.
    Every,
}

impl ClickCommission {
    /// `unique` or `every`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ClickCommission::Unique => "unique",
            ClickCommission::Every => "every",
        }
    }
}

impl FromStr for ClickCommission {
    type Err = Error;
    fn from_str(s: &str) -> Result<ClickCommission> {
        match s {
            "unique" => Ok(ClickCommission::Unique),
            "every" => Ok(ClickCommission::Every),
            _ => Err(Error::malformed(
                "click_commission",
                "expected \"unique\" or \"every\"",
            )),
        }
    }
}

impl fmt::Display for ClickCommission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a campaign's cookie waits for the visitor's consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CookieConsent {
    /// The click sets the cookie (the default).
    #[default]
    NotRequired,
    /// The click sets no cookie; the token rides in the landing URL and the snippet
    /// stores it once the visitor consents.
    Required,
}

impl CookieConsent {
    /// `not_required` or `required`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CookieConsent::NotRequired => "not_required",
            CookieConsent::Required => "required",
        }
    }
}

impl FromStr for CookieConsent {
    type Err = Error;
    fn from_str(s: &str) -> Result<CookieConsent> {
        match s {
            "not_required" => Ok(CookieConsent::NotRequired),
            "required" => Ok(CookieConsent::Required),
            _ => Err(Error::malformed(
                "cookie_consent",
                "expected \"not_required\" or \"required\"",
            )),
        }
    }
}

impl fmt::Display for CookieConsent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// At most this many deep-link hosts per campaign.
pub const MAX_DEEP_LINK_HOSTS: usize = 100;

/// Checks a campaign's `deep_link_hosts`: each a lower-case DNS name (IDNs in their
/// `xn--` form) of at most 253 bytes, optionally `*.`-prefixed for every subdomain; no
/// scheme, port, path or trailing dot. Returns them in order without repeats.
pub(crate) fn check_deep_link_hosts(hosts: &[String]) -> Result<Vec<String>> {
    if hosts.len() > MAX_DEEP_LINK_HOSTS {
        return Err(Error::malformed(
            "deep_link_hosts",
            format!("at most {MAX_DEEP_LINK_HOSTS} hosts"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(hosts.len());
    for h in hosts {
        let name = h.strip_prefix("*.").unwrap_or(h);
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if h.len() > 253 || !name.contains('.') || !name.split('.').all(label_ok) {
            return Err(Error::malformed(
                "deep_link_hosts",
                format!(
                    "{:?} is not a lower-case host name such as \"shop.example\" or \"*.shop.example\"",
                    cut(h)
                ),
            ));
        }
        if !out.contains(h) {
            out.push(h.clone());
        }
    }
    Ok(out)
}

/// `s` cut to 64 bytes for an error message.
fn cut(s: &str) -> &str {
    crate::error::cut(s, 64)
}

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

/// What a partner's ad is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    /// A text link (the default).
    #[default]
    Text,
    /// A banner or picture.
    Image,
    /// A video.
    Video,
    /// A mailing.
    Email,
    /// A social media post.
    Social,
    /// Anything else.
    Other,
}

impl FromStr for MediaType {
    type Err = Error;
    fn from_str(s: &str) -> Result<MediaType> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
            Error::malformed(
                "media_type",
                "expected text, image, video, email, social or other",
            )
        })
    }
}

/// A partner's ad (a creative): links name it (`/go/{campaign}/{partner}/{ad}`) and
/// reports group by it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AdSpec {
    /// The ad code, unique per partner.
    pub code: String,
    /// The partner whose ad it is.
    pub partner: String,
    /// A display name, at most 200 characters.
    pub name: String,
    /// A description, at most 2,000 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// Text, image, video, email, social or other.
    #[serde(default)]
    pub media_type: MediaType,
    /// The first day it runs, `YYYY-MM-DD`.
    #[serde(default)]
    pub starts_on: Option<String>,
}

impl AdSpec {
    /// Checks the ad; errors name the field.
    pub fn check(&self) -> Result<(Code, Code)> {
        let code = Code::new(&self.code).map_err(|e| crate::error::rename(e, "ad code"))?;
        let partner =
            Code::new(&self.partner).map_err(|e| crate::error::rename(e, "partner code"))?;
        if self.name.trim().is_empty() {
            return Err(Error::malformed("name", "must not be empty"));
        }
        text("name", Some(&self.name), 200, false)?;
        text("description", self.description.as_deref(), 2000, true)?;
        if let Some(d) = &self.starts_on {
            super::days::parse_day(d).map_err(|e| crate::error::rename(e, "starts_on"))?;
        }
        Ok((code, partner))
    }

    /// The store key of the ad: `partner/code`.
    #[must_use]
    pub fn key(&self) -> String {
        format!("{}/{}", self.partner, self.code)
    }
}

/// Checks a free-text field: at most `max` bytes, no control characters (newlines
/// allowed where `lines`).
fn text(name: &'static str, v: Option<&str>, max: usize, lines: bool) -> Result<()> {
    match v {
        Some(s) if s.len() > max => Err(Error::malformed(name, format!("longer than {max} bytes"))),
        Some(s) if s.chars().any(|c| c.is_control() && !(lines && c == '\n')) => {
            Err(Error::malformed(name, "contains control characters"))
        }
        _ => Ok(()),
    }
}

/// Applies a JSON merge patch (RFC 7396) to `target`: each member of `patch` replaces
/// the target's, `null` removes it, objects merge member by member. A patch that is not
/// an object replaces the whole target.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in members {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribution::{Catalogue, PartnerSpec, PartnerStatus};

    #[test]
    fn partner_profiles_are_validated_and_a_refused_one_changes_nothing() {
        let mut c = Catalogue::new("aff_token").unwrap();
        let good = PartnerSpec {
            name: Some("Ann's Reviews".into()),
            email: Some("ann@reviews.example".into()),
            payout_details: Some("IBAN DE00 1234\nBIC X".into()),
            postback_url: Some("https://ann.example/pb?cid={click_id}".into()),
            ..PartnerSpec::new("ann")
        };
        c.add_partner(&good).unwrap();
        let bad = [
            (
                "name",
                PartnerSpec {
                    name: Some("x".repeat(201)),
                    ..good.clone()
                },
            ),
            (
                "name",
                PartnerSpec {
                    name: Some("a\nb".into()),
                    ..good.clone()
                },
            ),
            (
                "email",
                PartnerSpec {
                    email: Some("ann".into()),
                    ..good.clone()
                },
            ),
            (
                "email",
                PartnerSpec {
                    email: Some("a@b@c.example".into()),
                    ..good.clone()
                },
            ),
            (
                "email",
                PartnerSpec {
                    email: Some("a <b@c.example>".into()),
                    ..good.clone()
                },
            ),
            (
                "payout_details",
                PartnerSpec {
                    payout_details: Some("x".repeat(1025)),
                    ..good.clone()
                },
            ),
            (
                "payout_details",
                PartnerSpec {
                    payout_details: Some("a\u{7}".into()),
                    ..good.clone()
                },
            ),
            (
                "postback_url",
                PartnerSpec {
                    postback_url: Some("javascript:alert(1)".into()),
                    ..good.clone()
                },
            ),
            (
                "postback_url",
                PartnerSpec {
                    postback_url: Some("https://u:p@x.example/".into()),
                    ..good.clone()
                },
            ),
            (
                "postback_url",
                PartnerSpec {
                    postback_url: Some("https:///x".into()),
                    ..good.clone()
                },
            ),
        ];
        for (field, spec) in bad {
            match c.add_partner(&spec) {
                Err(Error::Malformed { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        assert_eq!(c.partner("ann").unwrap().status, PartnerStatus::Active);
        // Unknown fields are refused where specs come from outside (JSON, TOML).
        assert!(serde_json::from_str::<PartnerSpec>(r#"{"code":"x","nickname":"y"}"#).is_err());
        let s: PartnerSpec = serde_json::from_str(r#"{"code":"x","status":"suspended"}"#).unwrap();
        assert_eq!(s.status, PartnerStatus::Suspended);
        assert!(serde_json::from_str::<PartnerSpec>(r#"{"code":"x","status":"gone"}"#).is_err());
    }
}
