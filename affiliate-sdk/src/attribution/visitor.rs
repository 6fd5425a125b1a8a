//! Who clicked: a person or a bot. Requests from known bots, crawlers and
//! link-preview agents (the `isbot` crate's maintained patterns: Googlebot, Bingbot,
//! Slackbot, Twitterbot, facebookexternalhit, LinkedInBot, Discordbot, WhatsApp, curl,
//! python-requests, HeadlessChrome and some 300 others) land as anyone would but get
//! no token or cookie, earn nothing, and count as `bot_clicks`. The patterns need the
//! `regex` crate: feature `bots` (default); the WASM package leaves it out and takes
//! the decision from JS.

use super::click::{ClickOutcome, ClickPlan};
use crate::store::BotClickRecord;

#[cfg(feature = "bots")]
static BOTS: std::sync::LazyLock<isbot::Bots> = std::sync::LazyLock::new(isbot::Bots::default);

/// Whether a request with this `User-Agent` comes from a bot: a known bot, crawler or
/// link-preview agent, or no user agent at all (every browser sends one).
///
/// ```
/// use affiliate_sdk::is_bot;
/// assert!(is_bot("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"));
/// assert!(is_bot("curl/8.5.0"));
/// assert!(is_bot(""));
/// assert!(!is_bot(
///     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
/// ));
/// ```
#[cfg(feature = "bots")]
#[must_use]
pub fn is_bot(user_agent: &str) -> bool {
    user_agent.trim().is_empty() || BOTS.is_bot(user_agent)
}

/// A bot's click: what to count and where it lands (the campaign's destination, with
/// no token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotPlan {
    /// What to add to the day's `bot_clicks`.
    pub record: BotClickRecord,
    /// Where the bot lands: the link's allowed `to=` target or the campaign's
    /// destination, with no token.
    pub location: String,
    /// Why the link's `to=` target was not followed, if it was not.
    pub refused_to: Option<crate::Error>,
}

/// What a visit plans: a person's click, or a bot's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Planned {
    /// A person's click: counted, credited, with its token.
    Click(ClickPlan),
    /// A bot's click: counted in `bot_clicks`, no token.
    Bot(BotPlan),
}

/// Where a visitor lands, once the visit is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Landing {
    /// A person's click, with its token, cookie and redirect.
    Click(ClickOutcome),
    /// A bot: it lands on `location` with no token or cookie.
    Bot {
        /// The link's allowed `to=` target or the campaign's destination.
        location: String,
        /// Why the link's `to=` target was not followed, if it was not.
        refused_to: Option<crate::Error>,
    },
}

impl Landing {
    /// Where the visitor is redirected.
    #[must_use]
    pub fn location(&self) -> &str {
        match self {
            Landing::Click(c) => &c.location,
            Landing::Bot { location, .. } => location,
        }
    }
}
