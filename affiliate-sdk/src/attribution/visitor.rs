//! Who clicked: a person or a bot. Requests from known bots, crawlers and
//! link-preview agents (the `isbot` crate's maintained patterns: Googlebot, Bingbot,
//! Slackbot, Twitterbot, facebookexternalhit, LinkedInBot, Discordbot, WhatsApp, curl,
//! python-requests, HeadlessChrome and some 300 others) land as anyone would but get
//! no token or cookie, earn nothing, and count as `bot_clicks`. The patterns need the
//! `regex` crate: feature `bots` (default); the WASM package leaves it out and takes
//! the decision from JS.

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
