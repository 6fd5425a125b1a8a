//! The records the store keeps besides conversions: clicks, impressions and bot clicks,
//! a day's counters, customer bindings, program record kinds, and what the money writes
//! answer.

use serde::{Deserialize, Serialize};

use crate::click_id::ClickId;
use crate::link::Link;
use crate::money::Currency;
use crate::records::Conversion;

/// One recorded click: kept so a server postback can attribute by click id, and
/// added to its day's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClickRecord {
    /// The click's id (also in its session token).
    pub click_id: ClickId,
    /// Campaign, partner, ad and sid of the click.
    pub link: Link,
    /// When it happened, Unix seconds.
    pub at: u64,
    /// Whether it counts as a unique click.
    pub unique: bool,
    /// The campaign's currency.
    pub currency: Currency,
    /// Pay-per-click commission the click earns, in minor units of `currency` (0 for a
    /// repeated click of a campaign that pays unique clicks), before the daily cap.
    pub commission_minor: u64,
    /// The campaign's paid clicks per partner per UTC day (0: no cap). The store pays
    /// the commission of at most this many clicks of the partner's campaign a day, in
    /// the order they reach it; the others still count in `clicks`.
    pub paid_cap: u32,
}

/// A click by a known bot, crawler or link-preview agent: counted in `bot_clicks`,
/// never in `clicks`; it earns nothing and is not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BotClickRecord {
    /// Campaign, partner, ad and sid of the link.
    pub link: Link,
    /// When it happened, Unix seconds.
    pub at: u64,
    /// The campaign's currency (the counters are kept per currency).
    pub currency: Currency,
}

/// One recorded impression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImpressionRecord {
    /// Campaign, partner, ad and sid the impression was served for.
    pub link: Link,
    /// When it happened, Unix seconds.
    pub at: u64,
    /// The campaign's currency.
    pub currency: Currency,
    /// The per-mille rate in minor units: each impression earns a thousandth of it.
    pub per_mille_minor: u64,
    /// The campaign's paid impressions per partner per UTC day (0: no cap), as
    /// [`ClickRecord::paid_cap`].
    pub paid_cap: u32,
}

/// Counters by key, hashed with foldhash (seeded at random per process): a key is a
/// few hundred bytes of codes, hashed on every click, and SipHash cost more than the
/// rest of the buffer's work.
pub(crate) type CounterMap =
    std::collections::HashMap<CounterKey, Counters, foldhash::fast::RandomState>;

/// The key of a day's counters: a UTC day and the dimensions of the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CounterKey {
    /// Days since 1970-01-01 (UTC).
    pub day: u32,
    /// The link's campaign, partner, ad and sid.
    pub link: Link,
    /// The currency of the click and impression commissions.
    pub currency: Currency,
}

/// What a day's counters hold for one [`CounterKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Every click.
    pub clicks: u64,
    /// Clicks that counted as unique.
    pub unique_clicks: u64,
    /// Impressions.
    pub impressions: u64,
    /// Pay-per-click commission, minor units.
    pub click_commission_minor: u64,
    /// Impression commission in thousandths of a minor unit (the per-mille rates
    /// summed); reports round the total half away from zero.
    pub impression_commission_milli: u64,
    /// Clicks by bots, crawlers and link-preview agents (not in `clicks`).
    pub bot_clicks: u64,
}

impl Counters {
    /// Adds `other` field by field (saturating: counters never wrap).
    pub fn add(&mut self, other: &Counters) {
        self.clicks = self.clicks.saturating_add(other.clicks);
        self.unique_clicks = self.unique_clicks.saturating_add(other.unique_clicks);
        self.impressions = self.impressions.saturating_add(other.impressions);
        self.click_commission_minor = self
            .click_commission_minor
            .saturating_add(other.click_commission_minor);
        self.impression_commission_milli = self
            .impression_commission_milli
            .saturating_add(other.impression_commission_milli);
        self.bot_clicks = self.bot_clicks.saturating_add(other.bot_clicks);
    }

    /// The counters one click adds. A click under a daily cap adds no commission here:
    /// the store pays it when it settles the day's cap.
    #[must_use]
    pub fn of_click(c: &ClickRecord) -> Counters {
        Counters {
            clicks: 1,
            unique_clicks: u64::from(c.unique),
            click_commission_minor: if c.paid_cap == 0 {
                c.commission_minor
            } else {
                0
            },
            ..Counters::default()
        }
    }

    /// The counters one impression adds (its commission as for [`Counters::of_click`]).
    #[must_use]
    pub fn of_impression(i: &ImpressionRecord) -> Counters {
        Counters {
            impressions: 1,
            impression_commission_milli: if i.paid_cap == 0 {
                i.per_mille_minor
            } else {
                0
            },
            ..Counters::default()
        }
    }

    /// The counters one bot click adds.
    #[must_use]
    pub fn of_bot_click() -> Counters {
        Counters {
            bot_clicks: 1,
            ..Counters::default()
        }
    }
}

/// The UTC day (days since 1970-01-01) of a Unix time in seconds.
#[must_use]
pub fn day_of(unix_secs: u64) -> u32 {
    u32::try_from(unix_secs / 86_400).unwrap_or(u32::MAX)
}

/// What [`StoreWrites::insert_conversion`](crate::writes::StoreWrites::insert_conversion) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// The conversion is new and now durable.
    New,
    /// A conversion with this order id was already recorded (and is durable); it is
    /// returned unchanged.
    Existing(Box<Conversion>),
    /// The order id's record was one the new conversion replaces
    /// (the replacement rule of [`StoreWrites::insert_conversion`](crate::writes::StoreWrites::insert_conversion)): the new one is durable in its place, and the
    /// old one, returned here, is kept for audit ([`ConversionReads::replaced_conversions`](super::ConversionReads::replaced_conversions)).
    Replaced(Box<Conversion>),
    /// The conversion's click has made its quota of conversions; nothing was written.
    CapReached,
}

/// A kind of program record ([`ProgramRecords::put_record`](super::ProgramRecords::put_record)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    /// A campaign: its spec as JSON, keyed by code.
    Campaign = 0,
    /// A partner: its spec as JSON, keyed by code.
    Partner = 1,
    /// A coupon: `{code, partner, campaign}`, keyed by its upper-case code, so one
    /// code belongs to one partner across every server.
    Coupon = 2,
    /// A partner's ad, keyed by `partner/code`.
    Ad = 3,
    /// The program's own settings, such as which entries the configuration manages.
    Meta = 4,
    /// A partner API key: `{id, partner, digest, created}` (the SHA-256 digest of the
    /// key, never the key), keyed by its id.
    PartnerKey = 5,
    /// A merchant webhook endpoint ([`outbound::Webhook`](crate::outbound::Webhook)),
    /// keyed by its id.
    Webhook = 6,
    /// A postback key ([`PostbackKey`](crate::PostbackKey): its digest, never the
    /// key), keyed by its id.
    PostbackKey = 7,
}

impl RecordKind {
    /// Every kind.
    pub const ALL: [RecordKind; 8] = [
        RecordKind::Campaign,
        RecordKind::Partner,
        RecordKind::Coupon,
        RecordKind::Ad,
        RecordKind::Meta,
        RecordKind::PartnerKey,
        RecordKind::Webhook,
        RecordKind::PostbackKey,
    ];

    /// `campaign`, `partner`, `coupon`, `ad` or `meta`: how stores name the kind.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Campaign => "campaign",
            RecordKind::Partner => "partner",
            RecordKind::Coupon => "coupon",
            RecordKind::Ad => "ad",
            RecordKind::Meta => "meta",
            RecordKind::PartnerKey => "partner_key",
            RecordKind::Webhook => "webhook",
            RecordKind::PostbackKey => "postback_key",
        }
    }
}

/// What [`StoreWrites::create_payouts`](crate::writes::StoreWrites::create_payouts) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutsMade {
    /// The payouts are new and durable (none when nobody was due).
    Created(Vec<crate::ledger::Payout>),
    /// The key was used before with this request: the payouts it made, as they are now.
    Replayed(Vec<crate::ledger::Payout>),
}

impl PayoutsMade {
    /// The payouts, made now or before.
    #[must_use]
    pub fn payouts(&self) -> &[crate::ledger::Payout] {
        match self {
            PayoutsMade::Created(p) | PayoutsMade::Replayed(p) => p,
        }
    }
}

/// What [`StoreWrites::set_status`](crate::writes::StoreWrites::set_status) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusChange {
    /// The status was `from` and is now the new one; the record after the change.
    Changed(Conversion),
    /// The status was not `from`; nothing changed. The current record.
    Unchanged(Conversion),
    /// No conversion with this order id.
    Missing,
}
