//! The outbox's state in memory (see `outbox.rs`).

use std::collections::HashMap;
use std::sync::Mutex;

/// What the outbox keeps in memory: the leases, and the lock that makes fan-outs and
/// swaps one at a time.
#[derive(Default)]
pub(super) struct Leases {
    pub(super) until: Mutex<HashMap<String, u64>>,
    pub(super) fan_out: Mutex<()>,
}
