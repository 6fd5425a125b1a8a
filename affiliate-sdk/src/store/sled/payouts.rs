//! Payouts in sled: tree `payouts` (id → the payout as JSON) and tree `payout-runs`
//! (idempotency key → the request's fingerprint and the payout ids), both written in the
//! transactions of the port (`tx.rs`).

use super::SledStore;
use super::fail::{corrupt, store_err};
use crate::error::Result;
use crate::ledger::{Payout, PayoutFilter, newest_first};

impl SledStore {
    pub(super) fn payout_in_tree(&self, id: &str) -> Result<Option<Payout>> {
        match self.payouts.get(id).map_err(store_err)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|_| corrupt("payout")),
        }
    }

    pub(super) fn payouts_in_tree(&self, filter: &PayoutFilter) -> Result<Vec<Payout>> {
        let mut out = Vec::new();
        for kv in &self.payouts {
            let (_, v) = kv.map_err(store_err)?;
            let p: Payout = serde_json::from_slice(&v).map_err(|_| corrupt("payout"))?;
            if filter.matches(&p) {
                out.push(p);
            }
        }
        newest_first(&mut out);
        Ok(out)
    }
}
