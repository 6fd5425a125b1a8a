//! A partner's ads (creatives): what links and reports name.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::code::Code;
use crate::error::{Error, Result};

/// What a partner's ad is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Ad))]
pub struct AdSpec {
    /// The ad code, unique per partner.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::CodeText))]
    pub code: String,
    /// The partner whose ad it is (in the partner API, the caller when left out).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::CodeText, required = false))]
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
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::Day>))]
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
