//! The [`Store`] trait over the sled trees: reads and writes that are not money writes
//! (those are sequences over the transactional port, `tx.rs`).

use crate::store::batch::ClickBuffer;
use crate::store::buffered::BufferedClicks;
use crate::store::{ConversionReads, Maintenance};
use std::collections::BTreeMap;

use super::SledStore;
use super::fail::{corrupt, store_err};
use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::Result;
use crate::records::{Conversion, Status};
use crate::store::codec::{decode_click, decode_counter_key, decode_counters, ms_prefix};
use crate::store::{Bindings, ClickRecord, CounterKey, Counters, Store, day_of};

impl Store for SledStore {
    fn transact(&self, f: &mut crate::store::TxFn<'_>) -> Result<()> {
        self.transact_in_trees(f)
    }
}

impl BufferedClicks for SledStore {
    fn buffer(&self) -> &ClickBuffer {
        &self.batch.buffer
    }

    fn stored_click(&self, id: ClickId) -> Result<Option<ClickRecord>> {
        for entry in self.clicks.scan_prefix(ms_prefix(&id)) {
            let (_, records) = entry.map_err(store_err)?;
            let mut rest: &[u8] = &records;
            while !rest.is_empty() {
                let (head, tail) = rest.split_at_checked(18).ok_or_else(|| corrupt("click"))?;
                let len = usize::from(u16::from_le_bytes([head[16], head[17]]));
                let (record, tail) = tail.split_at_checked(len).ok_or_else(|| corrupt("click"))?;
                if head[..16] == id.as_bytes()[..] {
                    return decode_click(id, record)
                        .map(Some)
                        .ok_or_else(|| corrupt("click"));
                }
                rest = tail;
            }
        }
        Ok(None)
    }

    fn stored_counters(
        &self,
        from_day: u32,
        to_day: u32,
        _campaign: Option<&Code>,
    ) -> Result<BTreeMap<CounterKey, Counters>> {
        let start = from_day.to_be_bytes();
        let range = match to_day.checked_add(1) {
            Some(end) => self.batch.counters.range(start..end.to_be_bytes()),
            None => self.batch.counters.range(start..),
        };
        // Collected, then built at once (a sort that finds the tree's order already
        // there, and a bulk build): cheaper than an insert per key.
        range
            .map(|kv| {
                let (k, v) = kv.map_err(store_err)?;
                let key = decode_counter_key(&k).ok_or_else(|| corrupt("counter"))?;
                Ok((key, decode_counters(&v)))
            })
            .collect()
    }

    fn write_out(&self) -> Result<()> {
        self.batch.write_out()?;
        self.sync()
    }
}

impl ConversionReads for SledStore {
    fn replaced_conversions(&self, order_id: &str) -> Result<Vec<Conversion>> {
        let mut prefix = order_id.as_bytes().to_vec();
        prefix.push(0);
        self.replaced
            .scan_prefix(prefix)
            .map(|kv| {
                let (_, v) = kv.map_err(store_err)?;
                serde_json::from_slice(&v).map_err(|_| corrupt("conversion"))
            })
            .collect()
    }

    fn conversion(&self, order_id: &str) -> Result<Option<Conversion>> {
        match self
            .conversions
            .get(order_id.as_bytes())
            .map_err(store_err)?
        {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|_| corrupt("conversion")),
        }
    }

    fn customer(&self, customer_id: &str) -> Result<Bindings> {
        match self
            .customers
            .get(customer_id.as_bytes())
            .map_err(store_err)?
        {
            None => Ok(Bindings::default()),
            Some(v) => serde_json::from_slice(&v).map_err(|_| corrupt("customer")),
        }
    }

    fn conversions(&self, from_day: u32, to_day: u32) -> Result<Vec<Conversion>> {
        let mut out = Vec::new();
        let day_at = |entry: Option<(sled::IVec, sled::IVec)>| {
            entry.and_then(|(k, _)| k.first_chunk::<4>().map(|d| u32::from_be_bytes(*d)))
        };
        let first = day_at(self.conversions_by_day.first().map_err(store_err)?);
        let last = day_at(self.conversions_by_day.last().map_err(store_err)?);
        if first.is_some_and(|f| from_day <= f) && last.is_some_and(|l| to_day >= l) {
            // Every day there is: one pass over the records beats a lookup per entry.
            for kv in &self.conversions {
                let (_, v) = kv.map_err(store_err)?;
                let c: Conversion =
                    serde_json::from_slice(&v).map_err(|_| corrupt("conversion"))?;
                if (from_day..=to_day).contains(&day_of(c.converted_at)) {
                    out.push(c);
                }
            }
            return Ok(out);
        }
        for kv in self.conversions_by_day.range(from_day.to_be_bytes()..) {
            let (key, _) = kv.map_err(store_err)?;
            let (day, order_id) = key
                .split_first_chunk::<4>()
                .ok_or_else(|| corrupt("index"))?;
            let day = u32::from_be_bytes(*day);
            if day > to_day {
                break;
            }
            let Some(v) = self.conversions.get(order_id).map_err(store_err)? else {
                continue; // a crash came between the entry and the record
            };
            let c: Conversion = serde_json::from_slice(&v).map_err(|_| corrupt("conversion"))?;
            // An entry of another day (a replay or conflict that carried another time)
            // is not this record's.
            if day_of(c.converted_at) == day {
                out.push(c);
            }
        }
        Ok(out)
    }

    fn pending_due(
        &self,
        campaign: &Code,
        made_by: u64,
        after: Option<(u64, &str)>,
        max: usize,
    ) -> Result<Vec<Conversion>> {
        let mut prefix = campaign.as_str().as_bytes().to_vec();
        prefix.push(0);
        let mut out = Vec::new();
        // The index key is `campaign, \0, time (8 bytes big-endian), order id`: the
        // cursor's own key, excluded, then on.
        let mut start = prefix.clone();
        if let Some((at, id)) = after {
            start.extend_from_slice(&at.to_be_bytes());
            start.extend_from_slice(id.as_bytes());
        }
        let mut end = campaign.as_str().as_bytes().to_vec();
        end.push(1);
        let range = if after.is_some() {
            self.pending.range((
                std::ops::Bound::Excluded(start),
                std::ops::Bound::Excluded(end),
            ))
        } else {
            self.pending.range(start..end)
        };
        for kv in range {
            if out.len() >= max {
                break;
            }
            let (key, _) = kv.map_err(store_err)?;
            let rest = &key[prefix.len()..];
            let (at, order_id) = rest
                .split_first_chunk::<8>()
                .ok_or_else(|| corrupt("index"))?;
            if u64::from_be_bytes(*at) > made_by {
                break;
            }
            let Some(v) = self.conversions.get(order_id).map_err(store_err)? else {
                continue;
            };
            let c: Conversion = serde_json::from_slice(&v).map_err(|_| corrupt("conversion"))?;
            // The entry and the record are written in one transaction; checked anyway.
            if c.status == Status::Pending && c.link.campaign == *campaign {
                out.push(c);
            }
        }
        Ok(out)
    }
}

impl Maintenance for SledStore {
    fn claim_once(&self, scope: &str, key: &str, expires: u64, now: u64) -> Result<bool> {
        let mut k = scope.as_bytes().to_vec();
        k.push(0);
        k.extend_from_slice(key.as_bytes());
        let fresh = self
            .claims
            .compare_and_swap(&k, None as Option<&[u8]>, Some(&expires.to_be_bytes()[..]))
            .map_err(store_err)?
            .is_ok();
        if fresh {
            self.sync()?;
            // Now and then (one claim in 1024), forget the claims that expired.
            if self
                .db
                .generate_id()
                .map_err(store_err)?
                .is_multiple_of(1024)
            {
                for kv in &self.claims {
                    let (k, v) = kv.map_err(store_err)?;
                    let until = v.first_chunk::<8>().map_or(0, |b| u64::from_be_bytes(*b));
                    if until <= now {
                        self.claims.remove(k).map_err(store_err)?;
                    }
                }
            }
        }
        Ok(fresh)
    }

    fn erase_customer(&self, customer_id: &str) -> Result<crate::store::Erased> {
        self.erase(customer_id)
    }

    fn prune_clicks(&self, before: u64, max: usize) -> Result<usize> {
        self.prune(before, max)
    }

    fn prune_deliveries(&self, before: u64, max: usize) -> Result<usize> {
        self.prune_in_trees(before, max)
    }
}
