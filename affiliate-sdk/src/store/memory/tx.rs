//! The memory store's transaction: its lock, and an undo log so that a failed
//! transaction leaves nothing behind.

use std::collections::HashMap;

use super::inner::Inner;
use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::Result;
use crate::ledger::{Balance, Entry, EntryId, EntryState, Payout, balances};
use crate::money::Currency;
use crate::port::{ConversionRow, EventRow, PayoutRun, Tx};
use crate::records::Conversion;
use crate::store::Bindings;

/// One change a [`MemoryTx`] made, with what it changed (undone in reverse order when
/// the transaction fails).
#[derive(Debug)]
pub(super) enum Undo {
    Conversion(String, Option<Box<Conversion>>),
    Replaced(String),
    PerClick(ClickId, Option<u32>),
    Customer(String, Option<Bindings>),
    Ledger(String, Option<Vec<Entry>>),
    Payout(String, Option<Payout>),
    Run(String, Option<PayoutRun>),
    Outbox(u64),
}

/// The memory store's transaction: its lock, and an undo log so that a failed
/// transaction leaves nothing behind.
pub(super) struct MemoryTx<'a> {
    pub(super) g: &'a mut Inner,
    pub(super) undo: Vec<Undo>,
}

impl MemoryTx<'_> {
    pub(super) fn roll_back(&mut self) {
        let g = &mut *self.g;
        while let Some(u) = self.undo.pop() {
            match u {
                Undo::Conversion(k, v) => restore(&mut g.conversions, k, v.map(|b| *b)),
                Undo::Replaced(k) => {
                    if let Some(list) = g.replaced.get_mut(&k) {
                        list.pop();
                        if list.is_empty() {
                            g.replaced.remove(&k);
                        }
                    }
                }
                Undo::PerClick(k, v) => restore(&mut g.per_click, k, v),
                Undo::Customer(k, v) => restore(&mut g.customers, k, v),
                Undo::Ledger(k, v) => restore(&mut g.ledger, k, v),
                Undo::Payout(k, v) => restore(&mut g.payouts, k, v),
                Undo::Run(k, v) => restore(&mut g.payout_runs, k, v),
                Undo::Outbox(seq) => {
                    g.outbox.remove(&seq);
                    g.outbox_seq = seq - 1;
                }
            }
        }
    }

    fn save_order(&mut self, order_id: &str) {
        self.undo.push(Undo::Ledger(
            order_id.to_owned(),
            self.g.ledger.get(order_id).cloned(),
        ));
    }
}

fn restore<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, k: K, v: Option<V>) {
    match v {
        Some(v) => map.insert(k, v),
        None => map.remove(&k),
    };
}

impl Tx for MemoryTx<'_> {
    fn conversion(&mut self, order_id: &str) -> Result<Option<Conversion>> {
        Ok(self.g.conversions.get(order_id).cloned())
    }

    fn insert_conversion(&mut self, row: ConversionRow<'_>) -> Result<()> {
        let c = row.record.clone();
        let old = self.g.conversions.insert(c.order_id.clone(), c);
        self.undo.push(Undo::Conversion(
            row.record.order_id.clone(),
            old.map(Box::new),
        ));
        Ok(())
    }

    fn update_conversion(&mut self, _old: &Conversion, row: ConversionRow<'_>) -> Result<()> {
        let c = row.record.clone();
        let old = self.g.conversions.insert(c.order_id.clone(), c);
        self.undo.push(Undo::Conversion(
            row.record.order_id.clone(),
            old.map(Box::new),
        ));
        Ok(())
    }

    fn keep_replaced(&mut self, old: &Conversion) -> Result<()> {
        self.g
            .replaced
            .entry(old.order_id.clone())
            .or_default()
            .push(old.clone());
        self.undo.push(Undo::Replaced(old.order_id.clone()));
        Ok(())
    }

    fn last_replaced(&mut self, order_id: &str) -> Result<Option<Conversion>> {
        Ok(self
            .g
            .replaced
            .get(order_id)
            .and_then(|l| l.last().cloned()))
    }

    fn count_click_conversion(&mut self, click: ClickId, cap: u32) -> Result<bool> {
        let made = self.g.per_click.get(&click).copied();
        if made.unwrap_or(0) >= cap {
            return Ok(false);
        }
        self.g.per_click.insert(click, made.unwrap_or(0) + 1);
        self.undo.push(Undo::PerClick(click, made));
        Ok(true)
    }

    fn customer(&mut self, customer_id: &str) -> Result<Bindings> {
        Ok(self
            .g
            .customers
            .get(customer_id)
            .cloned()
            .unwrap_or_default())
    }

    fn put_customer(&mut self, customer_id: &str, bindings: &Bindings) -> Result<()> {
        let old = self
            .g
            .customers
            .insert(customer_id.to_owned(), bindings.clone());
        self.undo.push(Undo::Customer(customer_id.to_owned(), old));
        Ok(())
    }

    fn order_entries(&mut self, conversion: &Conversion) -> Result<Vec<Entry>> {
        Ok(self
            .g
            .ledger
            .get(&conversion.order_id)
            .cloned()
            .unwrap_or_default())
    }

    fn remove_order_entries(&mut self, conversion: &Conversion) -> Result<()> {
        let old = self.g.ledger.remove(&conversion.order_id);
        self.undo
            .push(Undo::Ledger(conversion.order_id.clone(), old));
        Ok(())
    }

    fn put_entries(&mut self, entries: &[Entry]) -> Result<()> {
        for e in entries {
            self.save_order(&e.id.order_id);
            let mine = self.g.ledger.entry(e.id.order_id.clone()).or_default();
            match mine.iter_mut().find(|x| x.id == e.id) {
                Some(slot) => *slot = e.clone(),
                None => mine.push(e.clone()),
            }
        }
        Ok(())
    }

    fn entry(&mut self, id: &EntryId) -> Result<Option<Entry>> {
        Ok(self
            .g
            .ledger
            .get(&id.order_id)
            .and_then(|v| v.iter().find(|e| e.id == *id))
            .cloned())
    }

    fn balance(&mut self, partner: Code, currency: Currency) -> Result<Balance> {
        Ok(balances(self.g.ledger.values().flatten())
            .remove(&(partner, currency))
            .unwrap_or_default())
    }

    fn payable_entries(
        &mut self,
        partner: Option<Code>,
        currency: Option<Currency>,
    ) -> Result<Vec<Entry>> {
        let mut out: Vec<Entry> = self
            .g
            .ledger
            .values()
            .flatten()
            .filter(|e| {
                e.state == EntryState::Payable
                    && partner.is_none_or(|p| e.partner == p)
                    && currency.is_none_or(|c| e.currency == c)
            })
            .cloned()
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    fn claim_payout_run(&mut self, key: &str, fingerprint: &str) -> Result<Option<PayoutRun>> {
        if let Some(run) = self.g.payout_runs.get(key) {
            return Ok(Some(run.clone()));
        }
        let run = PayoutRun {
            fingerprint: fingerprint.to_owned(),
            payouts: Vec::new(),
        };
        self.g.payout_runs.insert(key.to_owned(), run);
        self.undo.push(Undo::Run(key.to_owned(), None));
        Ok(None)
    }

    fn finish_payout_run(&mut self, key: &str, run: &PayoutRun) -> Result<()> {
        let old = self.g.payout_runs.insert(key.to_owned(), run.clone());
        self.undo.push(Undo::Run(key.to_owned(), old));
        Ok(())
    }

    fn payout(&mut self, id: &str) -> Result<Option<Payout>> {
        Ok(self.g.payouts.get(id).cloned())
    }

    fn put_payout(&mut self, payout: &Payout) -> Result<()> {
        let old = self.g.payouts.insert(payout.id.clone(), payout.clone());
        self.undo.push(Undo::Payout(payout.id.clone(), old));
        Ok(())
    }

    fn push_event(&mut self, event: EventRow<'_>) -> Result<()> {
        self.g.push(event.event.clone());
        self.undo.push(Undo::Outbox(self.g.outbox_seq));
        Ok(())
    }
}
