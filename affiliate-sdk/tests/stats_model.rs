//! Random streams of clicks, impressions, conversions and status changes give the same
//! `stats` as a plain reference model, for every grouping (all 32 subsets of the five
//! dimensions), on every store.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use affiliate_sdk::{
    ConversionRequest, Dimension, MemoryStore, SledStore, StatsQuery, Status, Store, Tracker,
};
use common::conformance::{T0, tracker};
use proptest::prelude::*;

const CAMPAIGNS: [&str; 2] = ["haircare", "skincare"];
const PARTNERS: [&str; 3] = ["abc123", "solo", "mid"];
const ADS: [Option<&str>; 2] = [None, Some("banner")];
const SIDS: [Option<&str>; 3] = [None, Some("kw1"), Some("kw.2")];
const STATUSES: [Status; 4] = [
    Status::Approved,
    Status::Paid,
    Status::Rejected,
    Status::Reversed,
];

#[derive(Debug, Clone)]
enum Op {
    Wait(u64),
    Click {
        visitor: usize,
        campaign: usize,
        partner: usize,
        ad: usize,
        sid: usize,
    },
    Impression {
        campaign: usize,
        partner: usize,
        ad: usize,
    },
    Convert {
        visitor: usize,
        order: u8,
        cents: u64,
        lead: bool,
    },
    Status {
        order: u8,
        status: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        // Long waits, and waits around skincare's 60 s minimum.
        prop_oneof![0u64..30_000, 55u64..66].prop_map(Op::Wait),
        (0..3usize, 0..2usize, 0..3usize, 0..2usize, 0..3usize).prop_map(
            |(visitor, campaign, partner, ad, sid)| Op::Click {
                visitor,
                campaign,
                partner,
                ad,
                sid
            }
        ),
        (0..2usize, 0..3usize, 0..2usize).prop_map(|(campaign, partner, ad)| Op::Impression {
            campaign,
            partner,
            ad
        }),
        (0..3usize, 0..12u8, 0u64..100_000, any::<bool>()).prop_map(
            |(visitor, order, cents, lead)| Op::Convert {
                visitor,
                order,
                cents,
                lead
            }
        ),
        (0..12u8, 0..4usize).prop_map(|(order, status)| Op::Status { order, status }),
    ]
}

/// The reference model's view of a token a visitor carries.
#[derive(Clone, Copy)]
struct Held {
    campaign: usize,
    partner: usize,
    ad: usize,
    sid: usize,
    at: u64,
    /// Which click (each click that issues a token is a new one).
    click: u64,
}

type Key = [Option<String>; 5];

#[derive(Default, Debug, PartialEq, Eq, Clone)]
struct Row {
    clicks: u64,
    unique: u64,
    impressions: u64,
    leads: u64,
    sales: u64,
    revenue: BTreeMap<String, u128>,
    commission: BTreeMap<String, u128>,
    /// haircare's click commission (minor units) and impression commission
    /// (thousandths) per day and partner: rounded and its overrides added per day and
    /// partner, as the ledger writes them.
    traffic: BTreeMap<(u64, usize), (u64, u64)>,
}

struct ModelConversion {
    key: Key,
    cents: u64,
    lead: bool,
    /// (currency, minor) of every commission share.
    shares: Vec<(&'static str, u64)>,
    status: Status,
    click: u64,
}

/// Days since the epoch to `YYYY-MM-DD` (Howard Hinnant's civil-from-days).
fn civil(days: u64) -> String {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn key(campaign: usize, partner: usize, ad: usize, sid: usize, now: u64) -> Key {
    [
        Some(CAMPAIGNS[campaign].to_owned()),
        Some(PARTNERS[partner].to_owned()),
        ADS[ad].map(str::to_owned),
        SIDS[sid].map(str::to_owned),
        Some(civil(now / 86_400)),
    ]
}

fn half_up(num: u64, den: u64) -> u64 {
    (num + den / 2) / den
}

struct Model {
    now: u64,
    visitors: [Option<Held>; 3],
    rows: BTreeMap<Key, Row>,
    conversions: BTreeMap<u8, ModelConversion>,
    clicks_made: u64,
}

impl Model {
    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Wait(s) => self.now += s,
            Op::Click {
                visitor,
                campaign,
                partner,
                ad,
                sid,
            } => {
                let prior = self.visitors[visitor].filter(|h| {
                    let w = if h.campaign == 0 { 28 } else { 7 } * 86_400;
                    self.now < h.at + w + 60
                });
                let same = prior.filter(|h| h.campaign == campaign);
                let unique =
                    !same.is_some_and(|h| h.partner == partner && self.now - h.at < 86_400);
                let row = self
                    .rows
                    .entry(key(campaign, partner, ad, sid, self.now))
                    .or_default();
                row.clicks += 1;
                row.unique += u64::from(unique);
                // Campaign 0 pays 0.05 per click, unique clicks only (the default).
                if campaign == 0 && unique {
                    row.traffic
                        .entry((self.now / 86_400, partner))
                        .or_default()
                        .0 += 5;
                }
                let keep = campaign == 1 && same.is_some();
                if !keep {
                    self.clicks_made += 1;
                    self.visitors[visitor] = Some(Held {
                        click: self.clicks_made,
                        campaign,
                        partner,
                        ad,
                        sid,
                        at: self.now,
                    });
                }
            }
            Op::Impression {
                campaign,
                partner,
                ad,
            } => {
                let row = self
                    .rows
                    .entry(key(campaign, partner, ad, 0, self.now))
                    .or_default();
                row.impressions += 1;
                if campaign == 0 {
                    row.traffic
                        .entry((self.now / 86_400, partner))
                        .or_default()
                        .1 += 150;
                }
            }
            Op::Convert {
                visitor,
                order,
                cents,
                lead,
            } => {
                // A replay or a conflict changes nothing, except that a rejected
                // order id is attributed again by another click.
                let existing = self.conversions.get(&order).map(|e| (e.status, e.click));
                if existing.is_some_and(|(status, _)| status != Status::Rejected) {
                    return;
                }
                let Some(h) = self.visitors[visitor] else {
                    return;
                };
                let window = if h.campaign == 0 { 28 } else { 7 } * 86_400;
                if self.now >= h.at + window + 60 {
                    return;
                }
                if h.campaign == 1 && self.now - h.at < 60 {
                    return; // skincare's minimum time to convert
                }
                if existing.is_some_and(|(_, click)| click == h.click) {
                    return;
                }
                let shares = if h.campaign == 0 {
                    let base = if lead { 200 } else { half_up(cents * 10, 100) };
                    let mut v = vec![("USD", base)];
                    // abc123 -> mid -> boss; mid -> boss; solo has no parent.
                    match PARTNERS[h.partner] {
                        "abc123" => {
                            v.push(("USD", half_up(base * 10, 100)));
                            v.push(("USD", half_up(base * 5, 100)));
                        }
                        "mid" => v.push(("USD", half_up(base * 10, 100))),
                        _ => {}
                    }
                    v
                } else {
                    vec![("EUR", if lead { 0 } else { 500 })]
                };
                self.conversions.insert(
                    order,
                    ModelConversion {
                        key: key(h.campaign, h.partner, h.ad, h.sid, self.now),
                        cents,
                        lead,
                        shares,
                        status: Status::Pending,
                        click: h.click,
                    },
                );
            }
            Op::Status { order, status } => {
                if let Some(c) = self.conversions.get_mut(&order)
                    && c.status.can_become(STATUSES[status])
                {
                    c.status = STATUSES[status];
                }
            }
        }
    }

    fn rows(&self, mask: u8) -> BTreeMap<Vec<Option<String>>, Row> {
        let pick = |k: &Key| -> Vec<Option<String>> {
            (0..5)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| k[i].clone())
                .collect()
        };
        let mut out: BTreeMap<Vec<Option<String>>, Row> = BTreeMap::new();
        for (k, r) in &self.rows {
            let o = out.entry(pick(k)).or_default();
            o.clicks += r.clicks;
            o.unique += r.unique;
            o.impressions += r.impressions;
            for (unit, (clicks, milli)) in &r.traffic {
                let t = o.traffic.entry(*unit).or_default();
                t.0 += clicks;
                t.1 += milli;
            }
            for (c, v) in &r.commission {
                *o.commission.entry(c.clone()).or_default() += v;
            }
        }
        for c in self.conversions.values() {
            let o = out.entry(pick(&c.key)).or_default();
            if c.lead {
                o.leads += 1;
            } else {
                o.sales += 1;
            }
            if !matches!(c.status, Status::Rejected | Status::Reversed) {
                *o.revenue.entry("USD".into()).or_default() += u128::from(c.cents);
                for (cur, v) in &c.shares {
                    *o.commission.entry((*cur).into()).or_default() += u128::from(*v);
                }
            }
        }
        for r in out.values_mut() {
            for ((_, partner), (clicks, milli)) in std::mem::take(&mut r.traffic) {
                let base = clicks + half_up(milli, 1000);
                let overrides = match PARTNERS[partner] {
                    "abc123" => half_up(base * 10, 100) + half_up(base * 5, 100),
                    "mid" => half_up(base * 10, 100),
                    _ => 0,
                };
                *r.commission.entry("USD".into()).or_default() += u128::from(base + overrides);
            }
            r.revenue.retain(|_, v| *v > 0);
            r.commission.retain(|_, v| *v > 0);
        }
        out
    }
}

fn run(store: Arc<dyn Store>, ops: &[Op]) -> Result<(), TestCaseError> {
    let (t, clock) = tracker(store);
    let mut model = Model {
        now: T0,
        visitors: [None; 3],
        rows: BTreeMap::new(),
        conversions: BTreeMap::new(),
        clicks_made: 0,
    };
    let mut tokens: [Option<String>; 3] = [None, None, None];
    for op in ops {
        apply(&t, &clock, &mut tokens, op);
        model.apply(op);
    }
    let dims = [
        Dimension::Campaign,
        Dimension::Partner,
        Dimension::Ad,
        Dimension::Sid,
        Dimension::Day,
    ];
    for mask in 0u8..32 {
        let group: Vec<Dimension> = (0..5)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| dims[i])
            .collect();
        let got: BTreeMap<Vec<Option<String>>, Row> = t
            .stats(&StatsQuery::new(&group))
            .unwrap()
            .into_iter()
            .map(|r| {
                let k = r.group.iter().map(|(_, v)| v.clone()).collect();
                let amounts = |a: &affiliate_sdk::Amounts| {
                    a.0.iter()
                        .map(|(c, v)| (c.code().to_owned(), *v))
                        .collect::<BTreeMap<_, _>>()
                };
                let row = Row {
                    clicks: r.clicks,
                    unique: r.unique_clicks,
                    impressions: r.impressions,
                    leads: r.leads,
                    sales: r.sales,
                    revenue: amounts(&r.revenue),
                    commission: amounts(&r.commission),
                    traffic: BTreeMap::new(),
                };
                (k, row)
            })
            .collect();
        prop_assert_eq!(&got, &model.rows(mask), "grouping {:?}", group);
    }
    Ok(())
}

fn apply(
    t: &Tracker,
    clock: &affiliate_sdk::FixedClock,
    tokens: &mut [Option<String>; 3],
    op: &Op,
) {
    match *op {
        Op::Wait(s) => clock.advance_secs(s),
        Op::Click {
            visitor,
            campaign,
            partner,
            ad,
            sid,
        } => {
            let url = t
                .signer()
                .build(CAMPAIGNS[campaign], PARTNERS[partner], ADS[ad], SIDS[sid])
                .unwrap();
            let out = t.click(&url, tokens[visitor].as_deref()).unwrap();
            tokens[visitor] = Some(out.token);
        }
        Op::Impression {
            campaign,
            partner,
            ad,
        } => {
            let url = t
                .signer()
                .build(CAMPAIGNS[campaign], PARTNERS[partner], ADS[ad], None)
                .unwrap();
            t.impression(&url).unwrap();
        }
        Op::Convert {
            visitor,
            order,
            cents,
            lead,
        } => {
            let mut r = ConversionRequest::sale(
                &format!("o{order}"),
                &affiliate_sdk::format_minor(cents.into(), 2),
                "USD",
            );
            if lead {
                r.kind = "lead".into();
            }
            r.token = tokens[visitor].clone();
            // Errors (no token, expired, too soon, conflict) are part of the stream.
            let _ = t.convert(&r);
        }
        Op::Status { order, status } => {
            let _ = t.set_status(&format!("o{order}"), STATUSES[status]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn memory_store_stats_match_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        run(Arc::new(MemoryStore::new()), &ops)?;
    }

    #[test]
    fn sled_store_stats_match_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        let dir = tempfile::tempdir().unwrap();
        run(Arc::new(SledStore::open(dir.path()).unwrap()), &ops)?;
    }
}
