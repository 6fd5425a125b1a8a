//! The rows a `PostgresStore` reads and writes: click batches, counters, conversion
//! records, and running the synchronous driver off any Tokio runtime.

use std::collections::BTreeMap;

use r2d2_postgres::postgres::Client;

use super::connect::{Attempt, Failure};
use super::schema::BATCH_ID_KEPT;
use crate::code::Code;
use crate::records::Conversion;
use crate::store::batch::Pending;
use crate::store::caps;
use crate::store::codec::{decode_parts, encode_click, encode_parts};
use crate::store::{CounterKey, Counters};

/// The stored counters of the days `from_day..=to_day` (the caller filters by campaign).
pub(super) fn read_counters(
    c: &mut Client,
    from_day: u32,
    to_day: u32,
    _campaign: Option<&Code>,
) -> Attempt<BTreeMap<CounterKey, Counters>> {
    let mut out = BTreeMap::new();
    for row in c.query(
        "SELECT day, dims, clicks, unique_clicks, impressions, click_commission,
                impression_milli, bot_clicks
         FROM affiliate_counters WHERE day BETWEEN $1 AND $2",
        &[&day_i32(from_day), &day_i32(to_day)],
    )? {
        let day = u32::try_from(row.get::<_, i32>(0)).unwrap_or(0);
        let (link, currency) = decode_parts(row.get(1)).ok_or(Failure::Corrupt("counter"))?;
        out.insert(
            CounterKey {
                day,
                link,
                currency,
            },
            Counters {
                clicks: to_u64(row.get(2)),
                unique_clicks: to_u64(row.get(3)),
                impressions: to_u64(row.get(4)),
                click_commission_minor: to_u64(row.get(5)),
                impression_commission_milli: to_u64(row.get(6)),
                bot_clicks: to_u64(row.get(7)),
            },
        );
    }
    Ok(out)
}

/// Writes one batch of clicks and counters in one transaction, once: the batch's id
/// goes in with it, and a batch whose id is already there (its commit went through,
/// the answer was lost) is not applied again.
pub(super) fn write_batch(c: &mut Client, batch: &Pending) -> Attempt<()> {
    let mut tx = c.transaction()?;
    let fresh = tx.execute(
        "INSERT INTO affiliate_batches (batch_id) VALUES ($1) ON CONFLICT DO NOTHING",
        &[&&batch.id[..]],
    )?;
    if fresh == 0 {
        return Ok(());
    }
    // Old ids go a few at a time; rows another writer is deleting are skipped, so two
    // writers never wait on (or deadlock over) each other here.
    tx.execute(
        &format!(
            "DELETE FROM affiliate_batches WHERE batch_id IN (
                 SELECT batch_id FROM affiliate_batches
                 WHERE written_at < now() - interval '{BATCH_ID_KEPT}'
                 LIMIT 100 FOR UPDATE SKIP LOCKED)"
        ),
        &[],
    )?;
    if !batch.clicks.is_empty() {
        let ids: Vec<&[u8]> = batch
            .clicks
            .iter()
            .map(|k| &k.click_id.as_bytes()[..])
            .collect();
        let records: Vec<Vec<u8>> = batch.clicks.iter().map(encode_click).collect();
        tx.execute(
            "INSERT INTO affiliate_clicks (click_id, record)
             SELECT * FROM unnest($1::bytea[], $2::bytea[])
             ON CONFLICT (click_id) DO NOTHING",
            &[&ids, &records],
        )?;
    }
    // The tallies' rows are locked until the commit, so trackers sharing the database
    // pay at most the cap between them.
    let earned = caps::settle(&batch.owed, |tally, cap, want| {
        let key = tally.key();
        tx.execute(
            "INSERT INTO affiliate_paid_tallies (tally, paid) VALUES ($1, 0)
             ON CONFLICT (tally) DO NOTHING",
            &[&key],
        )?;
        let paid: i64 = tx
            .query_one(
                "SELECT paid FROM affiliate_paid_tallies WHERE tally = $1 FOR UPDATE",
                &[&key],
            )?
            .get(0);
        let granted = caps::grantable(to_u64(paid), cap, want);
        if granted > 0 {
            tx.execute(
                "UPDATE affiliate_paid_tallies SET paid = paid + $2 WHERE tally = $1",
                &[&key, &to_i64(granted)],
            )?;
        }
        Ok::<_, Failure>(granted)
    })?;
    if !batch.counters.is_empty() {
        let n = batch.counters.len();
        let (mut days, mut dims) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut v: [Vec<i64>; 6] = Default::default();
        for (key, c) in caps::with_earned(&batch.counters, &earned) {
            days.push(day_i32(key.day));
            let mut d = Vec::with_capacity(48);
            encode_parts(&key.link, key.currency, &mut d);
            dims.push(d);
            for (col, x) in v.iter_mut().zip([
                c.clicks,
                c.unique_clicks,
                c.impressions,
                c.click_commission_minor,
                c.impression_commission_milli,
                c.bot_clicks,
            ]) {
                col.push(to_i64(x));
            }
        }
        tx.execute(
            "INSERT INTO affiliate_counters
                 (day, dims, clicks, unique_clicks, impressions, click_commission, impression_milli,
                  bot_clicks)
             SELECT * FROM unnest($1::int4[], $2::bytea[], $3::int8[], $4::int8[], $5::int8[],
                                  $6::int8[], $7::int8[], $8::int8[])
             ON CONFLICT (day, dims) DO UPDATE SET
                 clicks = affiliate_counters.clicks + EXCLUDED.clicks,
                 unique_clicks = affiliate_counters.unique_clicks + EXCLUDED.unique_clicks,
                 impressions = affiliate_counters.impressions + EXCLUDED.impressions,
                 click_commission = affiliate_counters.click_commission + EXCLUDED.click_commission,
                 impression_milli = affiliate_counters.impression_milli + EXCLUDED.impression_milli,
                 bot_clicks = affiliate_counters.bot_clicks + EXCLUDED.bot_clicks",
            &[&days, &dims, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]],
        )?;
    }
    tx.commit()?;
    Ok(())
}

pub(super) fn parse_conversion(text: &str) -> Attempt<Conversion> {
    serde_json::from_str(text).map_err(|_| Failure::Corrupt("conversion"))
}

/// What an insert whose commit answer was lost did: a replacement if the order's last
/// replaced record is one `new` replaces, else a new record.
pub(super) fn read_conversion(
    c: &mut Client,
    order_id: &str,
) -> Attempt<Option<(String, Conversion)>> {
    match c.query_opt(
        "SELECT record FROM affiliate_conversions WHERE order_id = $1",
        &[&order_id],
    )? {
        None => Ok(None),
        Some(row) => {
            let text: String = row.get(0);
            let conv = parse_conversion(&text)?;
            Ok(Some((text, conv)))
        }
    }
}

pub(super) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(super) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub(super) fn day_i32(day: u32) -> i32 {
    i32::try_from(day).unwrap_or(i32::MAX)
}
