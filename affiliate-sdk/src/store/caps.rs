//! Daily paid caps. A campaign may pay at most `daily_paid_click_cap` clicks and
//! `daily_paid_impression_cap` impressions per partner per UTC day. A click or an
//! impression under a cap counts at once; its commission is *owed* until the store
//! settles it against the day's tally of what was paid, in the write that stores the
//! counters, so all the trackers sharing a store pay at most the cap between them.
//! What the cap leaves unpaid still counts in `clicks` and `impressions`.

use std::collections::HashMap;

use super::records::CounterMap;
use super::{ClickRecord, CounterKey, Counters, ImpressionRecord};
use crate::code::Code;

/// What a cap counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum PaidKind {
    Click = 0,
    Impression = 1,
}

/// What one tally counts: a partner's paid clicks or impressions of a campaign on a
/// day.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Tally {
    pub(crate) day: u32,
    pub(crate) campaign: Code,
    pub(crate) partner: Code,
    pub(crate) kind: PaidKind,
}

impl Tally {
    #[cfg(any(feature = "sled", feature = "postgres"))]
    /// `day (4, BE) | kind (1) | campaign | partner`, each code prefixed by its length
    /// in one byte: ordered by day, so old tallies are a key range.
    pub(crate) fn key(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(40);
        out.extend_from_slice(&self.day.to_be_bytes());
        out.push(self.kind as u8);
        for code in [self.campaign.as_str(), self.partner.as_str()] {
            // Codes are at most 64 bytes.
            out.push(u8::try_from(code.len()).unwrap_or(u8::MAX));
            out.extend_from_slice(code.as_bytes());
        }
        out
    }
}

/// Clicks or impressions owed under one counter key, rate and cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct OwedKey {
    pub(crate) key: CounterKey,
    pub(crate) kind: PaidKind,
    /// Minor units per click, or the per-mille rate in minor units per impression.
    pub(crate) rate: u64,
    pub(crate) cap: u32,
}

/// How many clicks or impressions are owed, per [`OwedKey`].
pub(crate) type Owed = HashMap<OwedKey, u64>;

/// Owes `click`'s commission under `key` if it is capped; `false` when it is not (its
/// commission is in [`Counters::of_click`]).
pub(crate) fn owe_click(owed: &mut Owed, key: CounterKey, click: &ClickRecord) -> bool {
    owe(
        owed,
        key,
        PaidKind::Click,
        click.commission_minor,
        click.paid_cap,
    )
}

/// [`owe_click`] for an impression.
pub(crate) fn owe_impression(owed: &mut Owed, key: CounterKey, i: &ImpressionRecord) -> bool {
    owe(
        owed,
        key,
        PaidKind::Impression,
        i.per_mille_minor,
        i.paid_cap,
    )
}

fn owe(owed: &mut Owed, key: CounterKey, kind: PaidKind, rate: u64, cap: u32) -> bool {
    if cap == 0 || rate == 0 {
        return false;
    }
    let n = owed.entry(OwedKey {
        key,
        kind,
        rate,
        cap,
    });
    *n.or_insert(0) += 1;
    true
}

/// How many of `want` more are paid when `paid` are paid already under `cap`.
pub(crate) fn grantable(paid: u64, cap: u32, want: u64) -> u64 {
    want.min(u64::from(cap).saturating_sub(paid))
}

/// Settles what is owed, in a fixed order: `grant(tally, cap, want)` adds at most
/// `want` to the tally without passing `cap` (see [`grantable`]) and answers how many
/// it added. Returns the commission each counter key earned.
pub(crate) fn settle<E>(
    owed: &Owed,
    mut grant: impl FnMut(&Tally, u32, u64) -> Result<u64, E>,
) -> Result<CounterMap, E> {
    let mut entries: Vec<_> = owed.iter().collect();
    entries.sort();
    let mut out = CounterMap::default();
    for (k, &units) in entries {
        let tally = Tally {
            day: k.key.day,
            campaign: k.key.link.campaign,
            partner: k.key.link.partner,
            kind: k.kind,
        };
        let paid = grant(&tally, k.cap, units)?;
        if paid == 0 {
            continue;
        }
        let earned = paid.saturating_mul(k.rate);
        let delta = match k.kind {
            PaidKind::Click => Counters {
                click_commission_minor: earned,
                ..Counters::default()
            },
            PaidKind::Impression => Counters {
                impression_commission_milli: earned,
                ..Counters::default()
            },
        };
        out.entry(k.key).or_default().add(&delta);
    }
    Ok(out)
}

/// A batch's counters with the commission its owed entries earned added: every key
/// of `earned` is one of `counters` (a capped click counts under the key it owes
/// under).
#[cfg(any(feature = "sled", feature = "postgres"))]
pub(crate) fn with_earned<'a>(
    counters: &'a CounterMap,
    earned: &'a CounterMap,
) -> impl Iterator<Item = (&'a CounterKey, Counters)> + 'a {
    counters.iter().map(|(k, c)| {
        let mut c = *c;
        if let Some(e) = earned.get(k) {
            c.add(e);
        }
        (k, c)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::Link;
    use crate::money::Currency;

    #[test]
    fn a_cap_pays_up_to_it_across_keys_and_batches_and_nothing_after() {
        let key = |sid: &str| CounterKey {
            day: 7,
            link: Link::parse("c", "p", None, Some(sid)).unwrap(),
            currency: Currency::new("USD").unwrap(),
        };
        let mut tallies: HashMap<Tally, u64> = HashMap::new();
        let mut grant = |t: &Tally, cap: u32, want: u64| -> Result<u64, ()> {
            let paid = tallies.entry(t.clone()).or_insert(0);
            let n = grantable(*paid, cap, want);
            *paid += n;
            Ok(n)
        };
        let mut owed = Owed::new();
        for i in 0..30u32 {
            let sid = if i % 2 == 0 { "a" } else { "b" };
            let click = ClickRecord {
                click_id: crate::click_id::ClickId::from_bytes([0; 16]),
                link: key(sid).link,
                at: 7 * 86_400,
                unique: true,
                currency: key(sid).currency,
                commission_minor: 10,
                paid_cap: 20,
            };
            assert!(owe_click(&mut owed, key(sid), &click));
        }
        let paid: u64 = settle(&owed, &mut grant)
            .unwrap()
            .values()
            .map(|c| c.click_commission_minor)
            .sum();
        assert_eq!(paid, 200, "20 clicks of 30 at 10");
        // The next batch of the day earns nothing; the next day pays again.
        assert!(settle(&owed, &mut grant).unwrap().is_empty());
        let next_day: Owed = owed
            .iter()
            .map(|(k, n)| {
                let mut k = *k;
                k.key.day = 8;
                (k, *n)
            })
            .collect();
        let paid: u64 = settle(&next_day, &mut grant)
            .unwrap()
            .values()
            .map(|c| c.click_commission_minor)
            .sum();
        assert_eq!(paid, 200);
    }
}
