//! What a campaign accepts from the browser: the rules of the public pixel and beacon.
//!
//! * A campaign's `browser_conversions` is `signed` (the default), `open` or `off`.
//! * `signed`: the order must carry the merchant's order signature (`osig`, made by
//!   [`Keyring::sign_order`]) over its id, amount, currency and kind.
//! * `open`: a signed order is taken as in `signed`; an unsigned one only in the
//!   campaign's currency, of kind `sale` or `lead`, up to `max_browser_amount`, and at
//!   most `browser_conversions_per_click` per click (counted by the store in the same
//!   write as the conversion).
//! * `off`: none; server postbacks and manual entries only.
//! * A wrong signature is refused in every mode, never downgraded to unsigned.

use super::{BrowserConversions, Campaign, Channel, Kind};
use crate::error::{Error, Result};
use crate::key::Keyring;
use crate::order::OrderFields;

/// How a browser conversion may be recorded: its channel and, for an unsigned one,
/// the most conversions its click may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BrowserRule {
    pub channel: Channel,
    pub per_click_cap: Option<u32>,
}

/// Checks a browser conversion against its campaign's rules (see the module docs).
pub(crate) fn check_browser_order(
    campaign: &Campaign,
    keyring: &Keyring,
    osig: Option<&str>,
    order: &OrderFields<'_>,
) -> Result<BrowserRule> {
    let mode = campaign.browser_conversions();
    if mode == BrowserConversions::Off {
        return Err(Error::NotAttributable(
            format!(
                "campaign {} takes conversions from server postbacks only",
                campaign.code()
            )
            .into(),
        ));
    }
    if let Some(osig) = osig.filter(|s| !s.is_empty()) {
        keyring.verify_order(osig, order)?;
        return Ok(BrowserRule {
            channel: Channel::SignedBrowser,
            per_click_cap: None,
        });
    }
    if mode == BrowserConversions::Signed {
        return Err(Error::NotAttributable(
            format!(
                "campaign {} takes only orders signed by the merchant (osig)",
                campaign.code()
            )
            .into(),
        ));
    }
    let refuse = |why: String| Err(Error::NotAttributable(why.into()));
    if order.amount.currency() != campaign.currency() {
        return refuse(format!(
            "an unsigned browser conversion must be in the campaign's currency {}",
            campaign.currency()
        ));
    }
    if !matches!(order.kind, Kind::Sale | Kind::Lead) {
        return refuse("an unsigned browser conversion must be a sale or a lead".into());
    }
    // `open` requires a maximum (checked when the campaign was made).
    if let Some(max) = campaign.max_browser_amount()
        && order.amount.minor() > max.minor()
    {
        return refuse(format!(
            "an unsigned browser conversion may be at most {max} {}",
            max.currency()
        ));
    }
    Ok(BrowserRule {
        channel: Channel::Browser,
        per_click_cap: Some(campaign.browser_conversions_per_click()),
    })
}
