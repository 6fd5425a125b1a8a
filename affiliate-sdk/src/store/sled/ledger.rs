//! The ledger in sled: tree `ledger`, one entry per key `order id, \0, level, kind,
//! reference` (order ids hold no `\0`, so an order's entries share a prefix; the
//! reference, a refund's id, is empty for the others), the entry as JSON;
//! tree `ledger-sums`, each beneficiary's balance per currency (key `partner, \0,
//! currency`, five 16-byte little-endian sums), changed by every entry written, so a
//! balance read does not scan the ledger. Entries are written in the transactions of
//! the conversion, of its status change and of payouts; a database from before the
//! ledger gets its entries and sums when it is opened.

use crate::store::LedgerReads;
use sled::transaction::ConflictableTransactionError;

use super::journal::JTree;

use super::fail::{corrupt, store_err};
use super::{SledStore, day_key};
use crate::error::Result;
use crate::records::Conversion;
use crate::store::day_of;
use std::collections::BTreeMap;

use crate::code::Code;
use crate::ledger::{Balance, Entry, EntryId, EntryKind};
use crate::money::Currency;

/// The key of an entry.
pub(super) fn entry_key(id: &EntryId) -> Vec<u8> {
    let mut k = Vec::with_capacity(id.order_id.len() + 3 + id.reference.len());
    k.extend_from_slice(id.order_id.as_bytes());
    k.push(0);
    k.push(id.level);
    k.push(match id.kind {
        EntryKind::Commission => 0,
        EntryKind::Clawback => 1,
        EntryKind::Refund => 2,
        EntryKind::Adjustment => 3,
        EntryKind::Deduction => 4,
        EntryKind::Traffic => 5,
    });
    k.extend_from_slice(id.reference.as_bytes());
    k
}

type TxResult<T> = Result<T, ConflictableTransactionError<&'static str>>;

/// The trees an entry write changes, inside a transaction.
pub(super) struct LedgerTx<'a> {
    /// Tree `ledger`.
    pub entries: &'a JTree<'a>,
    /// Tree `ledger-sums`.
    pub sums: &'a JTree<'a>,
}

fn decode(v: &[u8]) -> TxResult<Entry> {
    serde_json::from_slice(v).map_err(|_| ConflictableTransactionError::Abort("ledger"))
}

/// Inside a transaction: the entry `id`.
pub(super) fn read_entry(t: &JTree<'_>, id: &EntryId) -> TxResult<Option<Entry>> {
    t.get(entry_key(id))?.map(|v| decode(&v)).transpose()
}

/// Inside a transaction: the entries of `conversion`'s order (its commission levels:
/// commission, clawback, and one refund entry per refund it records).
pub(super) fn read_order(t: &JTree<'_>, conversion: &Conversion) -> TxResult<Vec<Entry>> {
    let mut out = Vec::new();
    for c in &conversion.commissions {
        let refunds = conversion
            .refunds
            .iter()
            .map(|r| (EntryKind::Refund, r.id.as_str()));
        for (kind, reference) in [(EntryKind::Commission, ""), (EntryKind::Clawback, "")]
            .into_iter()
            .chain(refunds)
        {
            let id = EntryId {
                order_id: conversion.order_id.clone(),
                level: c.level,
                kind,
                reference: reference.to_owned(),
            };
            out.extend(read_entry(t, &id)?);
        }
    }
    Ok(out)
}

/// Inside a transaction: the balance of `partner` in `currency` (its sum).
pub(super) fn read_sum(t: &JTree<'_>, partner: Code, currency: Currency) -> TxResult<Balance> {
    match t.get(sum_key(partner, currency))? {
        Some(v) => decode_sum(&v).ok_or(ConflictableTransactionError::Abort("ledger sum")),
        None => Ok(Balance::default()),
    }
}

fn sum_key(partner: Code, currency: Currency) -> Vec<u8> {
    let mut k = partner.as_str().as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(currency.code().as_bytes());
    k
}

fn encode_sum(b: &Balance) -> Vec<u8> {
    [b.pending, b.payable, b.in_payout, b.paid, b.clawback]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect()
}

fn decode_sum(v: &[u8]) -> Option<Balance> {
    let mut parts = v.chunks_exact(16).map(|c| {
        let mut a = [0u8; 16];
        a.copy_from_slice(c);
        i128::from_le_bytes(a)
    });
    let b = Balance {
        pending: parts.next()?,
        payable: parts.next()?,
        in_payout: parts.next()?,
        paid: parts.next()?,
        clawback: parts.next()?,
    };
    (v.len() == 80).then_some(b)
}

/// Inside a transaction: adds `sign` times what `e` counts to its beneficiary's sum.
fn add_sum(t: &JTree<'_>, e: &Entry, sign: i128) -> TxResult<()> {
    let key = sum_key(e.partner, e.currency);
    let mut b = match t.get(&key)? {
        Some(v) => decode_sum(&v).ok_or(ConflictableTransactionError::Abort("ledger sum"))?,
        None => Balance::default(),
    };
    b.add(&Balance::of_entry(e), sign);
    t.insert(key, encode_sum(&b))?;
    Ok(())
}

/// Inside a transaction: writes `entries`, and moves the sums by what they change.
pub(super) fn write(l: &LedgerTx<'_>, entries: &[Entry]) -> TxResult<()> {
    for e in entries {
        let key = entry_key(&e.id);
        if let Some(old) = l.entries.get(&key)? {
            add_sum(l.sums, &decode(&old)?, -1)?;
        }
        add_sum(l.sums, e, 1)?;
        let v = serde_json::to_vec(e).map_err(|_| ConflictableTransactionError::Abort("ledger"))?;
        l.entries.insert(key, v)?;
    }
    Ok(())
}

/// Inside a transaction: removes the entries `old` (a replaced record) had.
pub(super) fn remove_order(l: &LedgerTx<'_>, old: &Conversion) -> TxResult<()> {
    for e in read_order(l.entries, old)? {
        add_sum(l.sums, &e, -1)?;
        l.entries.remove(entry_key(&e.id))?;
    }
    Ok(())
}

impl SledStore {
    /// Indexes by day the conversions of a database written before the index existed
    /// (once: a marker records that it is done).
    pub(super) fn index_conversions_by_day(&self) -> Result<()> {
        const DONE: &[u8] = b"conversions-by-day:v1";
        if self.db.contains_key(DONE).map_err(store_err)? {
            return Ok(());
        }
        for kv in &self.conversions {
            let (order_id, v) = kv.map_err(store_err)?;
            let c: Conversion = serde_json::from_slice(&v).map_err(|_| corrupt("conversion"))?;
            self.conversions_by_day
                .insert(day_key(day_of(c.converted_at), &order_id), &[])
                .map_err(store_err)?;
        }
        self.db.insert(DONE, &[]).map_err(store_err)?;
        self.db.flush().map_err(store_err)?;
        Ok(())
    }

    /// Indexes the pending conversions of a database written before the index existed
    /// (once: a marker records that it is done).
    pub(super) fn index_pending(&self) -> Result<()> {
        const DONE: &[u8] = b"conversions-pending:v1";
        if self.db.contains_key(DONE).map_err(store_err)? {
            return Ok(());
        }
        for kv in &self.conversions {
            let (_, v) = kv.map_err(store_err)?;
            let c: Conversion = serde_json::from_slice(&v).map_err(|_| corrupt("conversion"))?;
            if c.status == crate::records::Status::Pending {
                self.pending
                    .insert(super::pending_key(&c), &[])
                    .map_err(store_err)?;
            }
        }
        self.db.insert(DONE, &[]).map_err(store_err)?;
        self.db.flush().map_err(store_err)?;
        Ok(())
    }

    /// Gives the conversions of a database written before the ledger their entries,
    /// and a database written before the sums its sums (each once: a marker records
    /// that it is done).
    pub(super) fn backfill_ledger(&self) -> Result<()> {
        const DONE: &[u8] = b"ledger:v1";
        const SUMS_DONE: &[u8] = b"ledger-sums:v1";
        /// Conversions given their entries per transaction.
        const BATCH: usize = 1_000;
        if !self.db.contains_key(DONE).map_err(store_err)? {
            let mut batch = Vec::with_capacity(BATCH);
            let mut conversions = self.conversions.iter();
            loop {
                batch.clear();
                for kv in conversions.by_ref().take(BATCH) {
                    let (_, v) = kv.map_err(store_err)?;
                    batch.push(
                        serde_json::from_slice::<Conversion>(&v)
                            .map_err(|_| corrupt("conversion"))?,
                    );
                }
                if batch.is_empty() {
                    break;
                }
                self.transact_in_trees(&mut |tx| {
                    batch
                        .iter()
                        .try_for_each(|c| crate::port::backfill::give_entries(tx, c))
                })?;
            }
            self.db.insert(DONE, &[]).map_err(store_err)?;
        }
        if !self.db.contains_key(SUMS_DONE).map_err(store_err)? {
            self.ledger_sums.clear().map_err(store_err)?;
            let mut sums: BTreeMap<(Code, Currency), Balance> = BTreeMap::new();
            for kv in &self.ledger {
                let (_, v) = kv.map_err(store_err)?;
                let e: Entry = serde_json::from_slice(&v).map_err(|_| corrupt("ledger"))?;
                sums.entry((e.partner, e.currency))
                    .or_default()
                    .add(&Balance::of_entry(&e), 1);
            }
            for ((p, c), b) in &sums {
                self.ledger_sums
                    .insert(sum_key(*p, *c), encode_sum(b))
                    .map_err(store_err)?;
            }
            self.db.insert(SUMS_DONE, &[]).map_err(store_err)?;
        }
        self.db.flush().map_err(store_err)?;
        Ok(())
    }
}

impl LedgerReads for SledStore {
    fn ledger_entries(
        &self,
        filter: &crate::ledger::EntryFilter,
    ) -> Result<Vec<crate::ledger::Entry>> {
        let prefix = filter.order_id.as_ref().map(|o| {
            let mut p = o.as_bytes().to_vec();
            p.push(0);
            p
        });
        let iter = match &prefix {
            Some(p) => self.ledger.scan_prefix(p),
            None => self.ledger.iter(),
        };
        let mut out = Vec::new();
        for kv in iter {
            let (_, v) = kv.map_err(store_err)?;
            let e: Entry = serde_json::from_slice(&v).map_err(|_| corrupt("ledger"))?;
            if filter.matches(&e) {
                out.push(e);
            }
        }
        Ok(out)
    }

    fn balances(
        &self,
        filter: &crate::ledger::EntryFilter,
    ) -> Result<BTreeMap<(Code, crate::money::Currency), crate::ledger::Balance>> {
        let prefix = filter.partner.map(|p| {
            let mut k = p.as_str().as_bytes().to_vec();
            k.push(0);
            k
        });
        let mut out = BTreeMap::new();
        for kv in self.ledger_sums.scan_prefix(prefix.unwrap_or_default()) {
            let (k, v) = kv.map_err(store_err)?;
            let b = decode_sum(&v).ok_or_else(|| corrupt("ledger sum"))?;
            let mut parts = k.splitn(2, |b| *b == 0);
            let (Some(p), Some(c)) = (parts.next(), parts.next()) else {
                return Err(corrupt("ledger sum"));
            };
            let partner = std::str::from_utf8(p)
                .ok()
                .and_then(|p| Code::new(p).ok())
                .ok_or_else(|| corrupt("ledger sum"))?;
            let currency = std::str::from_utf8(c)
                .ok()
                .and_then(|c| Currency::new(c).ok())
                .ok_or_else(|| corrupt("ledger sum"))?;
            if filter.currency.is_none_or(|f| f == currency) && !b.is_zero() {
                out.insert((partner, currency), b);
            }
        }
        Ok(out)
    }

    fn payouts(&self, filter: &crate::ledger::PayoutFilter) -> Result<Vec<crate::ledger::Payout>> {
        self.payouts_in_tree(filter)
    }

    fn payout(&self, id: &str) -> Result<Option<crate::ledger::Payout>> {
        self.payout_in_tree(id)
    }
}
