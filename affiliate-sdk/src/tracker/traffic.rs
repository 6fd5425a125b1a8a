//! The [`Tracker`]'s traffic earnings: each partner's paid clicks and impressions of a
//! UTC day become ledger entries once the day is over and every server's buffered
//! clicks have landed ([`TRAFFIC_GRACE_SECS`]), payable after the campaign's
//! `approve_after_days`; the merchant may reject a day's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Tracker;
use crate::answers::TrafficAnswer;
use crate::attribution::days::{parse_day, traffic_reference};
use crate::code::{Code, code_field};
use crate::error::{Error, Result};
use crate::ledger::{Entry, EntryFilter, EntryKind, EntryState, traffic_entries, traffic_minor};
use crate::money::{Currency, Money};
use crate::store::{CounterKey, Counters, RecordKind};
use crate::writes::StoreWrites as _;

/// How long after the end of a UTC day (midnight UTC) its clicks and impressions wait
/// before they are written to the ledger: every server writes its buffered clicks
/// within seconds, and one that was restarting has this long to come back. 1 hour.
pub const TRAFFIC_GRACE_SECS: u64 = 3_600;

/// The meta record that says how far the ledger has traffic.
const MARK_KEY: &str = "traffic_ledger";

/// Days of traffic whose units are written in one transaction.
const DAYS_PER_WRITE: u32 = 7;

/// The most references approved in one transaction.
const APPROVALS_PER_WRITE: usize = 500;

/// How far traffic is in the ledger.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Mark {
    /// The last day whose traffic is written.
    closed_through: Option<u32>,
    /// Per campaign, the last day whose traffic was approved (or found not due).
    #[serde(default)]
    approved_through: BTreeMap<String, u32>,
    /// The first day written.
    #[serde(default)]
    first: Option<u32>,
}

/// What [`Tracker::close_traffic`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrafficClosed {
    /// The last day whose traffic is now in the ledger (`YYYY-MM-DD`), if any.
    #[serde(skip)]
    pub closed_through: Option<u32>,
    /// Days closed by this call.
    pub days: u32,
    /// Ledger entries written.
    pub written: usize,
    /// Pending traffic entries made payable.
    pub approved: usize,
}

/// The last day that is over, grace included, at `now`.
fn closable_through(now: u64) -> Option<u32> {
    let day = now.checked_sub(TRAFFIC_GRACE_SECS)? / 86_400;
    u32::try_from(day).ok()?.checked_sub(1)
}

/// When a day's traffic becomes payable: the end of the day plus the approval period.
fn due_at(day: u32, approve_after_days: u32) -> u64 {
    (u64::from(day) + 1 + u64::from(approve_after_days)) * 86_400
}

/// The traffic per day, campaign, partner and currency: click commission (minor
/// units) and impression commission (thousandths), those that earned something.
fn units(
    counters: &BTreeMap<CounterKey, Counters>,
) -> BTreeMap<(u32, Code, Code, Currency), (u64, u64)> {
    let mut out: BTreeMap<(u32, Code, Code, Currency), (u64, u64)> = BTreeMap::new();
    for (k, c) in counters {
        if c.click_commission_minor == 0 && c.impression_commission_milli == 0 {
            continue;
        }
        let u = out
            .entry((k.day, k.link.campaign, k.link.partner, k.currency))
            .or_default();
        u.0 = u.0.saturating_add(c.click_commission_minor);
        u.1 = u.1.saturating_add(c.impression_commission_milli);
    }
    out
}

impl Tracker {
    fn traffic_mark(&self) -> Result<Mark> {
        match self
            .store
            .records(RecordKind::Meta)?
            .into_iter()
            .find(|(k, _)| k == MARK_KEY)
        {
            Some((_, json)) => serde_json::from_str(&json)
                .map_err(|_| Error::Store("corrupt traffic ledger record".into())),
            None => Ok(Mark::default()),
        }
    }

    fn put_traffic_mark(&self, mark: &Mark) -> Result<()> {
        let json = serde_json::to_string(mark).map_err(|e| Error::Store(e.to_string()))?;
        self.store
            .put_record(RecordKind::Meta, MARK_KEY, &json, false)?;
        Ok(())
    }

    /// Writes the traffic earnings of every UTC day that is over (midnight UTC plus
    /// [`TRAFFIC_GRACE_SECS`]) and not yet written: per day, campaign and partner, the
    /// paid clicks' commission plus the impressions' (rounded half away from zero to
    /// minor units), and each ancestor's override of it as the campaign's plan gives,
    /// one ledger entry per beneficiary (kind `traffic`). They are payable once the
    /// campaign's `approve_after_days` have passed since the end of the day (at once
    /// when it is 0), pending until then; this call also makes payable those whose time
    /// has come. The first call writes every past day the store has counters for.
    ///
    /// Safe to run on several servers at once and to run again: a day is written once.
    /// [`Housekeeping`](crate::Housekeeping) runs it every 5 minutes.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use affiliate_sdk::*;
    /// let clock = Arc::new(FixedClock::from_secs(1_764_547_200)); // 2025-12-01 00:00 UTC
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     Arc::new(MemoryStore::new())).with_clock(clock.clone());
    /// let mut cpc = CampaignSpec::new("cpc", "https://shop.example/", "USD");
    /// cpc.click_flat = Some("0.05".into());
    /// tracker.add_campaign(&cpc)?;
    /// tracker.add_partner(&PartnerSpec::new("abc123"))?;
    /// let link = tracker.signer().build("cpc", "abc123", None, None)?;
    /// for _ in 0..3 {
    ///     tracker.click(&link, None)?;
    /// }
    /// tracker.flush()?;
    /// clock.advance_secs(86_400 + 3_600); // the day is over, and the grace period
    /// let closed = tracker.close_traffic()?;
    /// assert_eq!((closed.days, closed.written), (1, 1));
    /// assert_eq!(tracker.balances(Some("abc123"), None)?[0].2.payable, 15);
    /// assert_eq!(tracker.close_traffic()?.written, 0); // written once
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn close_traffic(&self) -> Result<TrafficClosed> {
        let now = self.clock.now();
        let mut mark = self.traffic_mark()?;
        let mut done = TrafficClosed {
            closed_through: mark.closed_through,
            ..TrafficClosed::default()
        };
        let Some(last) = closable_through(now) else {
            return Ok(done);
        };
        let from = mark.closed_through.map_or(0, |d| d.saturating_add(1));
        if from <= last {
            done.written = self.write_traffic_days(from, last, now, &mut mark)?;
            done.days = last - mark.first.unwrap_or(from).max(from) + 1;
            mark.closed_through = Some(last);
            done.closed_through = Some(last);
            self.put_traffic_mark(&mark)?;
        }
        done.approved = self.approve_traffic_due(now, &mut mark)?;
        Ok(done)
    }

    /// Writes the traffic of days `from..=last`, a few days per transaction. On the
    /// first close (`from` 0) the first day with counters is the mark's `first`.
    fn write_traffic_days(&self, from: u32, last: u32, now: u64, mark: &mut Mark) -> Result<usize> {
        let mut written = 0;
        let mut day = from;
        while day <= last {
            let to = if from == 0 && mark.first.is_none() {
                last
            } else {
                day.saturating_add(DAYS_PER_WRITE - 1).min(last)
            };
            let counters = self.store.counters(day, to, None)?;
            let units = units(&counters);
            if mark.first.is_none() {
                mark.first = Some(units.keys().next().map_or(last, |u| u.0));
            }
            let days: Vec<Vec<Entry>> = {
                let catalogue = self.read();
                units
                    .iter()
                    .map(|((d, campaign, partner, currency), (clicks, milli))| {
                        let base = Money::from_minor(traffic_minor(*clicks, *milli), *currency);
                        let days = catalogue
                            .campaign(campaign.as_str())
                            .map_or(0, |c| c.spec().approve_after_days);
                        let due = due_at(*d, days);
                        let (state, at) = if due <= now {
                            (EntryState::Payable, Some(due))
                        } else {
                            (EntryState::Pending, None)
                        };
                        traffic_entries(
                            &traffic_reference(*d, campaign, partner),
                            &catalogue.traffic_commissions(campaign, partner, base),
                            state,
                            at,
                        )
                    })
                    .filter(|e| !e.is_empty())
                    .collect()
            };
            written += self.store.write_traffic(&days)?;
            day = to.saturating_add(1);
            if to == u32::MAX {
                break;
            }
        }
        Ok(written)
    }

    /// Makes payable the pending traffic of each campaign whose approval period has
    /// passed since the last call, and moves the campaign's mark.
    fn approve_traffic_due(&self, now: u64, mark: &mut Mark) -> Result<usize> {
        let Some(closed) = mark.closed_through else {
            return Ok(0);
        };
        let first = mark.first.unwrap_or(closed);
        let mut approved = 0;
        let mut moved = false;
        for campaign in self.campaigns() {
            let days = campaign.spec().approve_after_days;
            // The last day whose traffic is due now.
            let Some(due_day) = (now / 86_400)
                .checked_sub(u64::from(days) + 1)
                .and_then(|d| u32::try_from(d).ok())
            else {
                continue;
            };
            let through = due_day.min(closed);
            let code = campaign.code();
            let from = mark
                .approved_through
                .get(code.as_str())
                .map_or(first, |d| d.saturating_add(1));
            if from > through {
                continue;
            }
            let counters = self.store.counters(from, through, Some(&code))?;
            let references: Vec<String> = units(&counters)
                .keys()
                .map(|(d, c, p, _)| traffic_reference(*d, c, p))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            for chunk in references.chunks(APPROVALS_PER_WRITE) {
                approved += self.store.approve_traffic(chunk, now)?;
            }
            mark.approved_through.insert(code.to_string(), through);
            moved = true;
        }
        if moved {
            self.put_traffic_mark(mark)?;
        }
        Ok(approved)
    }

    /// Rejects the traffic earnings of `partner` in `campaign` on `day` (`YYYY-MM-DD`),
    /// every level: what no payout took is void; what a payout took is owed back by a
    /// clawback its beneficiary's next payout nets. Rejecting again changes nothing.
    /// `not_found` when the day has no traffic earnings in the ledger (not over yet,
    /// or nothing earned); `malformed` for a bad day or code.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn reject_traffic(
        &self,
        day: &str,
        campaign: &str,
        partner: &str,
    ) -> Result<Vec<TrafficAnswer>> {
        let d = parse_day(day)?;
        let campaign = code_field("campaign", campaign)?;
        let partner = code_field("partner", partner)?;
        let reference = traffic_reference(d, &campaign, &partner);
        match self.store.reject_traffic(&reference, self.clock.now())? {
            Some(entries) => Ok(entries.iter().filter_map(TrafficAnswer::of).collect()),
            None => Err(Error::NotFound(format!(
                "no traffic earnings of partner {partner} in campaign {campaign} on {day} \
                 in the ledger (a day is written {} minutes after it ends)",
                TRAFFIC_GRACE_SECS / 60
            ))),
        }
    }

    /// The traffic entries (earnings and their clawbacks) of days `from..=to`, every
    /// level; optionally only those whose beneficiary is `partner`. By day, campaign,
    /// referring partner, level.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn traffic(
        &self,
        partner: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<TrafficAnswer>> {
        let from = from.map(parse_day).transpose()?;
        let to = to.map(parse_day).transpose()?;
        let filter = EntryFilter {
            partner: partner.map(|p| code_field("partner", p)).transpose()?,
            currency: None,
            order_id: Some(String::new()),
        };
        let mut out: Vec<TrafficAnswer> = self
            .store
            .ledger_entries(&filter)?
            .iter()
            .filter(|e| matches!(e.id.kind, EntryKind::Traffic | EntryKind::Clawback))
            .filter_map(TrafficAnswer::of)
            .filter(|t| {
                from.is_none_or(|f| t.day_number >= f) && to.is_none_or(|l| t.day_number <= l)
            })
            .collect();
        // The earning, then its clawback.
        let key = |t: &TrafficAnswer| {
            (
                t.day_number,
                t.campaign,
                t.partner,
                t.level,
                t.kind != EntryKind::Traffic.as_str(),
            )
        };
        out.sort_by_key(key);
        Ok(out)
    }
}
