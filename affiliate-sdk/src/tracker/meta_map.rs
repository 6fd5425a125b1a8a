//! Small per-partner maps kept in one meta record each, written by compare-and-swap so
//! that trackers sharing a store never lose each other's entries: up to when a
//! partner's portal sessions are revoked, and since when a partner has its current
//! parent.

use std::collections::HashMap;
use std::sync::PoisonError;

use super::Tracker;
use super::record::to_json;
use crate::code::Code;
use crate::error::{Error, Result};
use crate::store::RecordKind;

/// The meta record of revoked portal sessions: per partner, the time (Unix seconds)
/// up to which the sessions it was issued are refused.
pub(super) const REVOKED_SESSIONS: &str = "portal_sessions_revoked";

/// The meta record of moves: per partner moved to another parent, when (Unix seconds).
/// Its new ancestors see its records from then on only.
pub(super) const PARTNER_MOVES: &str = "partner_moves";

/// A per-partner map of times.
pub(super) type TimeMap = HashMap<Code, u64>;

/// The map `key` among the meta records (empty when there is none).
pub(super) fn read_map(records: &[(String, String)], key: &str) -> Result<TimeMap> {
    match records.iter().find(|(k, _)| k == key) {
        Some((_, json)) => {
            serde_json::from_str(json).map_err(|_| Error::Store(format!("corrupt {key} record")))
        }
        None => Ok(HashMap::new()),
    }
}

impl Tracker {
    /// Changes the map `key` with `change`, again while another tracker wrote it
    /// meanwhile; returns the map as written.
    pub(super) fn update_map(&self, key: &str, change: impl Fn(&mut TimeMap)) -> Result<TimeMap> {
        for _ in 0..16 {
            let current = self
                .store
                .records(RecordKind::Meta)?
                .into_iter()
                .find(|(k, _)| k == key)
                .map(|(_, json)| json);
            let mut map: TimeMap = match &current {
                Some(json) => serde_json::from_str(json)
                    .map_err(|_| Error::Store(format!("corrupt {key} record")))?,
                None => HashMap::new(),
            };
            change(&mut map);
            let json = to_json(&map)?;
            let written = match &current {
                Some(old) => self.store.swap_record(RecordKind::Meta, key, old, &json)?,
                None => self.store.put_record(RecordKind::Meta, key, &json, true)?,
            };
            if written {
                return Ok(map);
            }
        }
        Err(Error::Store(format!(
            "could not write the {key} record: it kept changing"
        )))
    }

    /// Records that `partner` has a new parent from now on.
    pub(super) fn record_move(&self, partner: Code) -> Result<()> {
        let now = self.clock.now();
        let map = self.update_map(PARTNER_MOVES, |m| {
            m.insert(partner, now);
        })?;
        *self.moves.write().unwrap_or_else(PoisonError::into_inner) = map;
        Ok(())
    }
}
