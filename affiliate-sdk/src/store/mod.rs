//! Storage: the small [`Store`] trait the [`Tracker`](crate::Tracker) writes through,
//! and its backends.
//!
//! * [`MemoryStore`]: always built; tests, wasm, short-lived tools. Nothing survives
//!   the process.
//! * [`SledStore`] (feature `sled`, on by default): an embedded database in a
//!   directory.
//! * `PostgresStore` (feature `postgres`): one PostgreSQL database shared by many
//!   trackers (`store::postgres` has the design).
//!
//! Every backend passes the same conformance suite (`tests/store_conformance.rs`).
//!
//! # Durability
//!
//! * Conversions and status changes are durable (flushed to disk) before the call
//!   returns; a replayed order id is also flushed before it is answered, so an
//!   acknowledgement never depends on a write that a crash can lose.
//! * Clicks and impressions may be buffered. Each backend documents the bound on what a
//!   power cut can lose ([`SledStore`]: at most [`sled::CLICK_FLUSH_MS`] milliseconds of
//!   clicks).
//!
//! # Memory
//!
//! Recording a click or an impression never waits for storage: it goes into a
//! bounded buffer ([`StoreLimits::click_buffer_bytes`]) that a background thread
//! writes. A store that stalls lets the buffer fill; then clicks and impressions are
//! dropped and counted ([`ClickSink::dropped`]) while the tracker goes on redirecting with
//! tokens. A day's counters keep at most [`StoreLimits::max_sids_per_day`] sids per
//! campaign and partner; the rest count under sid `(other)`.

use crate::error::Result;

#[cfg(any(feature = "sled", feature = "postgres"))]
mod batch;
#[cfg(any(feature = "sled", feature = "postgres"))]
mod buffered;
pub(crate) mod caps;
#[cfg(any(feature = "sled", feature = "postgres"))]
mod codec;
mod erase;
#[cfg(feature = "sled")]
mod group_commit;
mod limits;
mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
mod records;
mod roles;
#[cfg(feature = "sled")]
pub mod sled;

#[cfg(feature = "postgres")]
pub use self::postgres::PostgresStore;
#[cfg(feature = "sled")]
pub use self::sled::SledStore;
pub use crate::port::{ConversionRow, EventRow, PayoutRun, Tx, TxFn};
pub use crate::records::{Binding, Bindings};
pub use erase::Erased;
pub use limits::{
    DEFAULT_CLICK_BUFFER_BYTES, DEFAULT_MAX_SIDS_PER_DAY, Dropped, StoreLimits,
    WRITE_BUCKET_MICROS, WriterStats,
};
pub use memory::MemoryStore;
pub use records::{
    BotClickRecord, ClickRecord, CounterKey, Counters, ImpressionRecord, Inserted, PayoutsMade,
    RecordKind, StatusChange, day_of,
};
pub use roles::{ClickSink, ConversionReads, LedgerReads, Maintenance, Outbox, ProgramRecords};

/// What the [`Tracker`](crate::Tracker) needs from storage: the role traits
/// ([`ClickSink`], [`ConversionReads`], [`LedgerReads`], [`ProgramRecords`],
/// [`Outbox`], [`Maintenance`]) and the transactional port the money writes run over.
/// Implementations are safe to share between threads; each method is atomic on its
/// own.
pub trait Store:
    ClickSink + ConversionReads + LedgerReads + ProgramRecords + Outbox + Maintenance + Send + Sync
{
    /// Runs `f` in one transaction over the [`Tx`] port (see [`tx`](self::Tx) for the
    /// contract): all it writes is durable before this returns `Ok`, and none of it is
    /// kept when `f` or the store fails. `f` may run more than once. The money writes
    /// ([`StoreWrites`](crate::writes::StoreWrites)) are sequences over this.
    fn transact(&self, f: &mut TxFn<'_>) -> Result<()>;
}

/// Runs `f` in one transaction of `store` and returns what its last run returned.
pub fn run<S, R, F>(store: &S, mut f: F) -> Result<R>
where
    S: Store + ?Sized,
    R: Send,
    F: FnMut(&mut dyn Tx) -> Result<R> + Send,
{
    let mut out = None;
    store.transact(&mut |tx| {
        out = Some(f(tx)?);
        Ok(())
    })?;
    out.ok_or_else(|| crate::error::Error::Store("a transaction ended without an answer".into()))
}
