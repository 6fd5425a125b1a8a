//! The attribution decisions that need no store: what a click does with the token a
//! visitor already carries, and whether a token credits its partner now. The
//! [`Tracker`](crate::Tracker) makes them through these functions; the WASM package
//! exports them for edge workers that keep no state.

use std::borrow::Cow;

use super::Attribution;
use crate::error::{ClaimsError, Error, Result};
use crate::key::Keyring;
use crate::link::Link;
use crate::token::{TokenValidation, VerifiedToken};

/// A click counts as unique unless the visitor brought a valid token of the same
/// campaign and partner issued less than this many seconds ago (24 hours).
pub const UNIQUE_CLICK_SECS: u64 = 86_400;

/// What a click on `link` does with the visitor's earlier token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriorToken {
    /// The click counts as unique (no valid token of the same campaign and partner
    /// issued in the last 24 hours).
    pub unique: bool,
    /// The earlier token stays: its campaign is the link's and the campaign credits
    /// the first click.
    pub keep_earlier: bool,
}

/// Decides for a click on `link` at `now` (Unix seconds) given the visitor's verified
/// earlier token, if any.
///
/// ```
/// use affiliate_sdk::{Attribution, ClickId, Code, Keyring, Link, TokenClaims, decide_prior_token};
/// let ring = Keyring::generate()?;
/// let link = Link::new(Code::new("haircare")?, Code::new("abc123")?);
/// let earlier = ring.issue_token(&TokenClaims::new(ClickId::from_bytes([1; 16]), link, 1_000, 86_400 * 30))?;
/// let earlier = ring.verify_token(&earlier, 2_000)?;
/// let d = decide_prior_token(Some(&earlier), &link, Attribution::First, 2_000);
/// assert!(d.keep_earlier && !d.unique);
/// let d = decide_prior_token(Some(&earlier), &link, Attribution::Last, 1_000 + 86_400);
/// assert!(!d.keep_earlier && d.unique);
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
#[must_use]
pub fn decide_prior_token(
    prior: Option<&VerifiedToken<'_>>,
    link: &Link,
    attribution: Attribution,
    now: u64,
) -> PriorToken {
    let same_campaign = prior.filter(|v| v.campaign() == link.campaign.as_str());
    PriorToken {
        unique: !same_campaign.is_some_and(|v| {
            v.partner() == link.partner.as_str()
                && now.saturating_sub(v.issued_at()) < UNIQUE_CLICK_SECS
        }),
        keep_earlier: same_campaign.is_some() && attribution == Attribution::First,
    }
}

/// [`decide_prior_token`] for the token a visitor brought, as text (from its cookie):
/// it is verified first, and an invalid or expired one counts as none. Also returns
/// the verified token, which a first-click campaign keeps.
pub fn weigh_prior_token<'t>(
    keyring: &Keyring,
    prior: Option<&'t str>,
    link: &Link,
    attribution: Attribution,
    now: u64,
    validation: &TokenValidation,
) -> (PriorToken, Option<VerifiedToken<'t>>) {
    let verified = prior.and_then(|t| keyring.verify_token_with(t, now, validation).ok());
    (
        decide_prior_token(verified.as_ref(), link, attribution, now),
        verified,
    )
}

/// A token in a landing URL (`?aff_token=`) is taken only when it was issued at most
/// this many seconds ago (10 minutes): the time from a click to its landing page, not
/// a link to `shop/?aff_token=…` shared or posted somewhere to stuff cookies.
pub const LANDING_SECS: u64 = 600;

/// Refuses a verified landing token issued more than [`LANDING_SECS`] before `now`
/// (error `expired`). Its issue time is readable without the key, so the browser
/// snippet applies the same rule.
pub fn check_fresh_landing(token: &VerifiedToken<'_>, now: u64) -> Result<()> {
    if now.saturating_sub(token.issued_at()) > LANDING_SECS {
        return Err(ClaimsError::StaleLanding {
            issued_at: token.issued_at(),
        }
        .into());
    }
    Ok(())
}

/// Refuses a conversion sooner than `min_seconds` after its click at `clicked_at`
/// (anti-bot), with `not_attributable`.
pub fn check_min_time(min_seconds: u64, clicked_at: u64, now: u64) -> Result<()> {
    let waited = now.saturating_sub(clicked_at);
    if waited < min_seconds {
        return Err(Error::NotAttributable(Cow::Owned(format!(
            "converted {waited} s after the click; the campaign requires {min_seconds} s"
        ))));
    }
    Ok(())
}

/// Whether `token` credits its partner at `now`: it verifies, its window holds, and
/// the click is at least the campaign's minimum time old. `min_seconds` gives that
/// minimum for the verified token (the caller's campaign rules; an error, such as
/// `unknown_campaign`, credits nobody). A token carries its window.
///
/// ```
/// use affiliate_sdk::{ClickId, Code, Keyring, Link, TokenClaims, TokenValidation, attribute_token};
/// let ring = Keyring::generate()?;
/// let link = Link::new(Code::new("haircare")?, Code::new("abc123")?);
/// let token = ring.issue_token(&TokenClaims::new(ClickId::from_bytes([1; 16]), link, 1_000, 86_400))?;
/// let v = TokenValidation::default();
/// assert_eq!(attribute_token(&ring, &token, 1_030, &v, |_| Ok(60)).unwrap_err().code(), "not_attributable");
/// assert_eq!(attribute_token(&ring, &token, 1_090, &v, |_| Ok(60))?.partner(), "abc123");
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
pub fn attribute_token<'t>(
    keyring: &Keyring,
    token: &'t str,
    now: u64,
    validation: &TokenValidation,
    min_seconds: impl FnOnce(&VerifiedToken<'t>) -> Result<u64>,
) -> Result<VerifiedToken<'t>> {
    let v = keyring.verify_token_with(token, now, validation)?;
    check_min_time(min_seconds(&v)?, v.issued_at(), now)?;
    Ok(v)
}
