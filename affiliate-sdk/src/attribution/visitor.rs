//! Who clicked: a person or a bot. Requests from known bots, crawlers and
//! link-preview agents (the `isbot` crate's maintained patterns: Googlebot, Bingbot,
//! Slackbot, Twitterbot, facebookexternalhit, LinkedInBot, Discordbot, WhatsApp, curl,
//! python-requests, HeadlessChrome and some 300 others) land as anyone would but get
//! no token or cookie, earn nothing, and count as `bot_clicks`. The patterns need the
//! `regex` crate: feature `bots` (default); the WASM package leaves it out and takes
//! the decision from JS.

#[cfg(feature = "bots")]
use std::hash::BuildHasher as _;

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
///
/// The patterns are a regex set over the whole string, the dearest step of a click:
/// each thread keeps the verdicts on the last few hundred user agents it saw (a few
/// browser versions make most of a program's traffic), so a repeated one costs a hash
/// and a comparison.
#[cfg(feature = "bots")]
#[must_use]
pub fn is_bot(user_agent: &str) -> bool {
    if user_agent.len() > RECENT_MAX_LEN {
        return decide(user_agent);
    }
    let hash = RECENT_HASH.hash_one(user_agent);
    // Spread over the slots by the hash's high bits (`RECENT_SLOTS` is a power of two).
    let slot = (hash >> (64 - RECENT_SLOTS.trailing_zeros())) as usize;
    RECENT.with_borrow_mut(|recent| {
        let entry = &mut recent[slot];
        if let Some((h, agent, bot)) = entry
            && *h == hash
            && **agent == *user_agent
        {
            return *bot;
        }
        let bot = decide(user_agent);
        *entry = Some((hash, user_agent.into(), bot));
        bot
    })
}

#[cfg(feature = "bots")]
fn decide(user_agent: &str) -> bool {
    user_agent.trim().is_empty() || BOTS.is_bot(user_agent)
}

/// Slots of the per-thread cache of recent verdicts (a power of two).
#[cfg(feature = "bots")]
const RECENT_SLOTS: usize = 256;
/// Longer user agents are decided every time (a real browser's is under 300 bytes).
#[cfg(feature = "bots")]
const RECENT_MAX_LEN: usize = 512;
#[cfg(feature = "bots")]
static RECENT_HASH: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x5eed);

#[cfg(feature = "bots")]
type Verdict = Option<(u64, Box<str>, bool)>;

#[cfg(feature = "bots")]
thread_local! {
    /// The verdicts on recent user agents: (hash, user agent, bot), one per slot.
    static RECENT: std::cell::RefCell<Box<[Verdict; RECENT_SLOTS]>> =
        std::cell::RefCell::new(Box::new([const { None }; RECENT_SLOTS]));
}

#[cfg(all(test, feature = "bots"))]
mod tests {
    use super::{RECENT_MAX_LEN, decide, is_bot};

    /// The cache of recent verdicts answers what the patterns answer, for agents that
    /// repeat, share a slot with another, or are too long to keep.
    #[test]
    fn recent_verdicts_are_the_patterns_verdicts() {
        let mut agents: Vec<String> = Vec::new();
        for i in 0..2_000 {
            agents.push(format!(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{i}.0.0.0 Safari/537.36"
            ));
            agents.push(format!("Googlebot/{i}.1 (+http://www.google.com/bot.html)"));
            agents.push(format!("curl/8.{i}.0"));
        }
        agents.push(String::new());
        agents.push("   ".into());
        agents.push(format!("Mozilla/5.0 {}", "x".repeat(RECENT_MAX_LEN)));
        agents.push(format!(
            "Mozilla/5.0 {} Slackbot",
            "x".repeat(RECENT_MAX_LEN)
        ));
        let bots = agents.iter().filter(|a| decide(a)).count();
        assert!(bots > 4_000 && bots < agents.len() - 1_000, "{bots}");
        for round in 0..3 {
            for agent in agents.iter().chain(agents.iter().rev()) {
                assert_eq!(is_bot(agent), decide(agent), "round {round}: {agent:?}");
            }
        }
    }
}
