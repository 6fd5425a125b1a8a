//! Partners: a partner's spec as the merchant writes it ([`PartnerSpec`]), its status,
//! and the checked [`Partner`] the catalogue keeps.

use serde::{Deserialize, Serialize};

use crate::code::Code;
use crate::error::{Error, Result};

/// Whether a partner is credited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum PartnerStatus {
    /// Credited (the default).
    #[default]
    Active,
    /// Its clicks land uncredited, its new conversions are `not_attributable`, and it
    /// earns no override on its children's; what was recorded stays.
    Suspended,
}

impl std::str::FromStr for PartnerStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<PartnerStatus> {
        match s {
            "active" => Ok(PartnerStatus::Active),
            "suspended" => Ok(PartnerStatus::Suspended),
            _ => Err(Error::malformed(
                "status",
                "expected \"active\" or \"suspended\"",
            )),
        }
    }
}

/// A partner as written in configuration or sent to the API.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = PartnerRequest, description = "A new partner: the fields of a `[[partner]]` entry."))]
pub struct PartnerSpec {
    /// The partner code.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::CodeText))]
    pub code: String,
    /// The parent partner, which must exist already.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::CodeText>))]
    pub parent: Option<String>,
    /// Personal coupon codes (`[A-Za-z0-9_-]`, matched without regard to case),
    /// unique across partners.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::formats::CodeText>))]
    pub coupons: Vec<String>,
    /// Active (the default) or suspended.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub status: PartnerStatus,
    /// A display name, at most 200 characters, no control characters.
    #[serde(default)]
    pub name: Option<String>,
    /// A contact address (`local@domain`), at most 254 characters.
    #[serde(default)]
    pub email: Option<String>,
    /// How the partner is paid (free text for the merchant), at most 1 KiB.
    #[serde(default)]
    pub payout_details: Option<String>,
    /// Where the partner's own tracker hears of its conversions: an absolute `http(s)`
    /// URL, at most 2,048 bytes (sent to by a later release).
    #[serde(default)]
    pub postback_url: Option<String>,
}

impl PartnerSpec {
    /// A partner without parent or coupons.
    #[must_use]
    pub fn new(code: &str) -> PartnerSpec {
        PartnerSpec {
            code: code.into(),
            ..PartnerSpec::default()
        }
    }

    /// This spec with `parent` as the partner's parent.
    ///
    /// ```
    /// use affiliate_sdk::PartnerSpec;
    /// let spec = PartnerSpec::new("abc123").with_parent("boss1").with_coupons(&["ABC10"]);
    /// assert_eq!((spec.parent.as_deref(), spec.coupons.len()), (Some("boss1"), 1));
    /// ```
    #[must_use]
    pub fn with_parent(mut self, parent: &str) -> PartnerSpec {
        self.parent = Some(parent.into());
        self
    }

    /// This spec with these coupon codes.
    #[must_use]
    pub fn with_coupons(mut self, coupons: &[&str]) -> PartnerSpec {
        self.coupons = coupons.iter().map(|c| (*c).to_owned()).collect();
        self
    }
}

/// A validated partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// The code.
    pub code: Code,
    /// The parent, if any.
    pub parent: Option<Code>,
    /// Coupon codes, upper-cased.
    pub coupons: Vec<Code>,
    /// Active or suspended.
    pub status: PartnerStatus,
    /// The display name.
    pub name: Option<String>,
    /// The contact address.
    pub email: Option<String>,
    /// How the partner is paid.
    pub payout_details: Option<String>,
    /// The partner's postback URL template.
    pub postback_url: Option<String>,
}

impl Partner {
    /// The partner as written back (the API's and the store's form): its spec with
    /// every coupon it holds.
    #[must_use]
    pub fn spec(&self) -> PartnerSpec {
        PartnerSpec {
            code: self.code.to_string(),
            parent: self.parent.map(|p| p.to_string()),
            coupons: self.coupons.iter().map(ToString::to_string).collect(),
            status: self.status,
            name: self.name.clone(),
            email: self.email.clone(),
            payout_details: self.payout_details.clone(),
            postback_url: self.postback_url.clone(),
        }
    }
}

/// Checks a partner's profile fields (name, email, payout details, postback URL).
pub(crate) fn check_profile(spec: &PartnerSpec) -> Result<()> {
    let text = |name: &'static str, v: &Option<String>, max: usize| -> Result<()> {
        match v {
            Some(s) if s.len() > max => {
                Err(Error::malformed(name, format!("longer than {max} bytes")))
            }
            Some(s) if s.chars().any(|c| c.is_control() && c != '\n') => {
                Err(Error::malformed(name, "contains control characters"))
            }
            _ => Ok(()),
        }
    };
    text("name", &spec.name, 200)?;
    text("payout_details", &spec.payout_details, 1024)?;
    if spec.name.as_deref().is_some_and(|n| n.contains('\n')) {
        return Err(Error::malformed("name", "contains control characters"));
    }
    if let Some(email) = &spec.email {
        let ok = email.len() <= 254
            && email
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"<>()[]\\,;:\"".contains(&b))
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if !ok {
            return Err(Error::malformed("email", "expected local@domain.tld"));
        }
    }
    if let Some(u) = &spec.postback_url {
        // A postback template: an http(s) URL whose macros are known, none in the host.
        crate::outbound::PostbackTemplate::parse(u)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribution::Catalogue;
    use crate::error::Error;

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
