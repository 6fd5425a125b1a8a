//! The outbox in sled.
//!
//! * Tree `outbox`: a sequence number (8, big-endian, from sled's id generator, so
//!   keys sort oldest first) → the event's JSON. The writes that cause events add them
//!   inside their own transaction ([`push`]).
//! * Tree `deliveries`: delivery id → the delivery's state as JSON, without its request
//!   and its lease (small: it is rewritten after each attempt).
//! * Tree `delivery-requests`: delivery id → its request (a webhook's body, a
//!   postback's URL), written once.
//! * Tree `deliveries-due`: `next_at` (8, big-endian), the id → nothing, for pending
//!   deliveries only.
//! * Tree `deliveries-by-target`: the target's key, `\0`, the creation time (8,
//!   big-endian), the id → nothing.
//! * Tree `deliveries-by-subject`: the subject (`conversion/…`), `\0`, the id →
//!   nothing, for deliveries with a subject (removed with the delivery when pruned).
//!
//! **Leases are kept in memory.** One process opens a sled directory, so a lease only
//! has to keep this process's own senders apart; after a crash nobody holds anything,
//! and what was being sent is due again at once.
//!
//! The delivery path uses no transaction (sled runs one transaction at a time, and the
//! conversions' own transactions should not wait for it); its writes are ordered so
//! that a crash between two of them can repeat a request but never lose one:
//!
//! * a fan-out (one at a time per store) writes the requests, the deliveries, then their
//!   indexes, then removes the events: a crash before the removal fans the events out
//!   again;
//! * a swap (one at a time per store) adds the new due key, compares and swaps the state
//!   (sled's atomic `compare_and_swap` on its bytes: encoding is deterministic), then
//!   removes the old key; a due key whose delivery has another due time is stale,
//!   skipped and removed by the next scan.
//!
//! None of it waits for an `fsync` (sled writes it out within
//! [`CLICK_FLUSH_MS`](super::CLICK_FLUSH_MS), or with the next conversion's flush):
//! losing the tail of it in a power cut repeats a request, which at-least-once delivery
//! allows. The events themselves are flushed with the conversions, payouts and partners
//! that cause them.

use crate::store::Outbox;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use sled::transaction::ConflictableTransactionError;

use super::journal::JTree;

use super::SledStore;
use super::fail::{corrupt, store_err};
use crate::error::Result;
use crate::outbound::{Delivery, Event};

type TxResult<T> = std::result::Result<T, ConflictableTransactionError<&'static str>>;

/// Adds `event` to the outbox, inside the caller's transaction.
pub(super) fn push(outbox: &JTree<'_>, event: &Event) -> TxResult<()> {
    let text = event
        .encode()
        .map_err(|_| ConflictableTransactionError::Abort("event"))?;
    push_encoded(outbox, text.as_bytes())
}

/// Adds an event encoded before the transaction (sled runs one transaction at a time:
/// the less done inside, the less the others wait).
pub(super) fn push_encoded(outbox: &JTree<'_>, event: &[u8]) -> TxResult<()> {
    outbox.insert(outbox.generate_id()?.to_be_bytes(), event)?;
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The state as stored: no request, no lease.
fn state_bytes(d: &Delivery) -> Result<Vec<u8>> {
    Ok(Delivery {
        request: String::new(),
        leased_until: 0,
        ..d.clone()
    }
    .encode()?
    .into_bytes())
}

/// The due key of a pending delivery.
fn due_key_of(d: &Delivery) -> Option<Vec<u8>> {
    (d.state == crate::outbound::DeliveryState::Pending).then(|| due_key(d.next_at, &d.id))
}

fn due_key(due: u64, id: &str) -> Vec<u8> {
    [&due.to_be_bytes()[..], id.as_bytes()].concat()
}

fn subject_key(d: &Delivery) -> Option<Vec<u8>> {
    d.subject
        .as_ref()
        .map(|s| [s.as_bytes(), b"\0", d.id.as_bytes()].concat())
}

fn target_key(d: &Delivery) -> Vec<u8> {
    let mut k = d.target.key().into_bytes();
    k.push(0);
    k.extend_from_slice(&d.created.to_be_bytes());
    k.extend_from_slice(d.id.as_bytes());
    k
}

impl SledStore {
    fn swap_one(
        &self,
        leases: &mut HashMap<String, u64>,
        expected: &Delivery,
        new: &Delivery,
    ) -> Result<bool> {
        if expected.id != new.id
            || leases.get(&expected.id).copied().unwrap_or(0) != expected.leased_until
        {
            return Ok(false);
        }
        let (old_state, new_state) = (state_bytes(expected)?, state_bytes(new)?);
        if old_state != new_state {
            let (old_due, new_due) = (due_key_of(expected), due_key_of(new));
            if let Some(k) = &new_due {
                self.deliveries_due.insert(k, &[]).map_err(store_err)?;
            }
            let swapped = self
                .deliveries
                .compare_and_swap(expected.id.as_bytes(), Some(old_state), Some(new_state))
                .map_err(store_err)?
                .is_ok();
            let stale = if swapped { old_due } else { new_due };
            let keep = if swapped {
                due_key_of(new)
            } else {
                // Lost to another writer (not of this process's swaps: a retry's state
                // read before a fan-out wrote it, say); its key stays.
                // (The state alone: the lease lock is held here.)
                self.delivery_state(&expected.id)?
                    .as_ref()
                    .and_then(due_key_of)
            };
            if let Some(k) = stale
                && keep.as_ref() != Some(&k)
            {
                self.deliveries_due.remove(k).map_err(store_err)?;
            }
            if !swapped {
                return Ok(false);
            }
        } else if self
            .deliveries
            .get(expected.id.as_bytes())
            .map_err(store_err)?
            .is_none_or(|stored| stored.as_ref() != old_state.as_slice())
        {
            // Only the lease changes: the state must still be the one expected (it
            // may have been sent and finished since it was read).
            return Ok(false);
        }
        if new.leased_until == 0 {
            leases.remove(&new.id);
        } else {
            leases.insert(new.id.clone(), new.leased_until);
        }
        Ok(true)
    }

    pub(super) fn prune_in_trees(&self, before: u64, max: usize) -> Result<usize> {
        let _one_at_a_time = lock(&self.leases.until);
        let mut over = Vec::new();
        for kv in &self.deliveries {
            if over.len() >= max {
                break;
            }
            let (_, v) = kv.map_err(store_err)?;
            let text = std::str::from_utf8(&v).map_err(|_| corrupt("delivery"))?;
            let d = Delivery::decode(text)?;
            if d.state != crate::outbound::DeliveryState::Pending && d.created < before {
                over.push(d);
            }
        }
        let mut batches: [sled::Batch; 4] = Default::default();
        let [states, requests, by_target, by_subject] = &mut batches;
        for d in &over {
            states.remove(d.id.as_bytes());
            requests.remove(d.id.as_bytes());
            by_target.remove(target_key(d));
            if let Some(k) = subject_key(d) {
                by_subject.remove(k);
            }
        }
        let [states, requests, by_target, by_subject] = batches;
        // The indexes first: a crash in between leaves a record no listing shows, which
        // the next prune removes.
        self.deliveries_by_target
            .apply_batch(by_target)
            .map_err(store_err)?;
        self.deliveries_by_subject
            .apply_batch(by_subject)
            .map_err(store_err)?;
        self.deliveries.apply_batch(states).map_err(store_err)?;
        self.delivery_requests
            .apply_batch(requests)
            .map_err(store_err)?;
        Ok(over.len())
    }

    /// The stored state of a delivery (no request, no lease).
    fn delivery_state(&self, id: &str) -> Result<Option<Delivery>> {
        let Some(state) = self.deliveries.get(id.as_bytes()).map_err(store_err)? else {
            return Ok(None);
        };
        let text = std::str::from_utf8(&state).map_err(|_| corrupt("delivery"))?;
        Delivery::decode(text).map(Some)
    }
}

impl Outbox for SledStore {
    fn outbox(&self, max: usize) -> Result<Vec<(u64, crate::outbound::Event)>> {
        let mut out = Vec::new();
        for kv in self.outbox.iter().take(max) {
            let (k, v) = kv.map_err(store_err)?;
            let seq = k
                .as_ref()
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| corrupt("event"))?;
            let text = std::str::from_utf8(&v).map_err(|_| corrupt("event"))?;
            out.push((seq, Event::decode(text)?));
        }
        Ok(out)
    }

    fn outbox_len(&self) -> Result<u64> {
        // The outbox is drained within moments: counting its keys is cheap.
        Ok(self.outbox.len() as u64)
    }

    fn fan_out(&self, planned: &[(u64, Vec<crate::outbound::Delivery>)]) -> Result<usize> {
        let mut batches: [sled::Batch; 6] = Default::default();
        let [requests, states, by_target, by_subject, due, events] = &mut batches;
        let _one_at_a_time = lock(&self.leases.fan_out);
        let mut taken = 0;
        for (seq, ds) in planned {
            let key = seq.to_be_bytes();
            if !self.outbox.contains_key(key).map_err(store_err)? {
                continue; // taken before
            }
            taken += 1;
            events.remove(&key);
            for d in ds {
                requests.insert(d.id.as_bytes(), d.request.as_bytes());
                states.insert(d.id.as_bytes(), state_bytes(d)?);
                by_target.insert(target_key(d), &[]);
                if let Some(k) = subject_key(d) {
                    by_subject.insert(k, &[]);
                }
                if let Some(k) = due_key_of(d) {
                    due.insert(k, &[]);
                }
            }
        }
        let [requests, states, by_target, by_subject, due, events] = batches;
        self.delivery_requests
            .apply_batch(requests)
            .map_err(store_err)?;
        self.deliveries.apply_batch(states).map_err(store_err)?;
        self.deliveries_by_target
            .apply_batch(by_target)
            .map_err(store_err)?;
        self.deliveries_by_subject
            .apply_batch(by_subject)
            .map_err(store_err)?;
        self.deliveries_due.apply_batch(due).map_err(store_err)?;
        self.outbox.apply_batch(events).map_err(store_err)?;
        Ok(taken)
    }

    fn due_deliveries(&self, now: u64, max: usize) -> Result<Vec<crate::outbound::Delivery>> {
        let mut out = Vec::new();
        for kv in self
            .deliveries_due
            .range(..due_key(now.saturating_add(1), ""))
        {
            if out.len() >= max {
                break;
            }
            let (k, _) = kv.map_err(store_err)?;
            let id = std::str::from_utf8(k.get(8..).unwrap_or_default())
                .map_err(|_| corrupt("delivery"))?;
            match self.delivery(id)? {
                Some(d) if d.due_at().is_some_and(|at| at <= now) => out.push(d),
                // A stale key: the delivery has another due time, or none.
                Some(d) if due_key_of(&d).as_deref() != Some(&k[..]) => {
                    self.deliveries_due.remove(&k).map_err(store_err)?;
                }
                _ => {} // leased
            }
        }
        Ok(out)
    }

    fn pending_about(&self, subject: &str) -> Result<Vec<crate::outbound::Delivery>> {
        let prefix = [subject.as_bytes(), b"\0"].concat();
        let mut out = Vec::new();
        for kv in self.deliveries_by_subject.scan_prefix(&prefix) {
            let (k, _) = kv.map_err(store_err)?;
            let id = std::str::from_utf8(k.get(prefix.len()..).unwrap_or_default())
                .map_err(|_| corrupt("delivery"))?;
            // Only what will be sent: a crash between a fan-out's writes can leave a
            // pending state without its due key (the event, fanned out again, is sent
            // by its second delivery), which must not hold later events back.
            if let Some(d) = self.delivery(id)?
                && let Some(due) = due_key_of(&d)
                && self.deliveries_due.contains_key(due).map_err(store_err)?
            {
                out.push(d);
            }
        }
        Ok(out)
    }

    fn swap_delivery(
        &self,
        expected: &crate::outbound::Delivery,
        new: &crate::outbound::Delivery,
    ) -> Result<bool> {
        Ok(self.swap_deliveries(&[(expected.clone(), new.clone())])?[0])
    }

    fn swap_deliveries(
        &self,
        swaps: &[(crate::outbound::Delivery, crate::outbound::Delivery)],
    ) -> Result<Vec<bool>> {
        let mut leases = lock(&self.leases.until);
        swaps
            .iter()
            .map(|(e, n)| self.swap_one(&mut leases, e, n))
            .collect()
    }

    fn delivery(&self, id: &str) -> Result<Option<crate::outbound::Delivery>> {
        let Some(mut d) = self.delivery_state(id)? else {
            return Ok(None);
        };
        let request = self
            .delivery_requests
            .get(id.as_bytes())
            .map_err(store_err)?
            .ok_or_else(|| corrupt("delivery"))?;
        d.request = String::from_utf8(request.to_vec()).map_err(|_| corrupt("delivery"))?;
        d.leased_until = lock(&self.leases.until).get(id).copied().unwrap_or(0);
        Ok(Some(d))
    }

    fn deliveries(
        &self,
        filter: &crate::outbound::DeliveryFilter,
    ) -> Result<Vec<crate::outbound::Delivery>> {
        let mut prefix = filter.target.key().into_bytes();
        prefix.push(0);
        let mut out = Vec::new();
        for kv in self.deliveries_by_target.scan_prefix(&prefix).rev() {
            if out.len() >= filter.limit {
                break;
            }
            let (k, _) = kv.map_err(store_err)?;
            let id = std::str::from_utf8(k.get(prefix.len() + 8..).unwrap_or_default())
                .map_err(|_| corrupt("delivery"))?;
            if let Some(d) = self.delivery(id)?
                && filter.matches(&d)
            {
                out.push(d);
            }
        }
        Ok(out)
    }
}
