//! [`PostgresStore`] (feature `postgres`): many stateless trackers on one PostgreSQL
//! database.
//!
//! Trackers verify links and tokens without storage; what they share through the
//! database is counting and exactly-once conversions:
//!
//! * **Conversions** are one row per order id. Exactly once is the primary key:
//!   `INSERT … ON CONFLICT (order_id) DO NOTHING`, then the row in force is read back.
//!   A conversion, its customer binding (first writer wins, like conversions), its
//!   click's count (`affiliate_conversions_per_click`, for capped browser conversions)
//!   and the record it replaces (moved to `affiliate_replaced_conversions`, the row
//!   locked `FOR UPDATE`) are one transaction, committed before the call returns (PostgreSQL's
//!   `synchronous_commit` is on by default), so nothing is acknowledged before it is
//!   durable. Status changes are a compare-and-swap `UPDATE … WHERE status = $from`.
//! * **Clicks and impressions** are buffered in memory (reads see them at once) and
//!   written every [`CLICK_BATCH_MS`] milliseconds in one transaction: the click rows
//!   (`unnest` arrays, `ON CONFLICT DO NOTHING`) and one counter upsert per link and
//!   day (`ON CONFLICT (day, dims) DO UPDATE SET clicks = clicks + …`). Another
//!   tracker sees them once written. A crash of the process loses at most the buffered
//!   batch; a clean shutdown ([`ClickSink::flush`](crate::store::ClickSink::flush) or
//!   drop) loses none.
//! * **Failures**: connections come from an `r2d2` pool (at most [`POOL_SIZE`],
//!   0.5 s to get one). A connection error, an administrator shutdown, a serialization
//!   failure or a deadlock is retried with backoff for up to [`RETRY_BUDGET`] (2 s);
//!   then the call fails with `store_unavailable` (the server answers 503) and nothing
//!   is acknowledged. Retries are safe: a conversion whose commit went through but whose
//!   answer was lost is found on the retry and recognised as the same record, and a
//!   click batch carries a random id, stored with it (table `affiliate_batches`, kept
//!   for an hour), so a batch written again after a lost answer is applied once.
//!   (Until that retry, 100 ms later, a report may count such a batch twice: once
//!   stored, once buffered.)
//! * **Schema**: created and migrated by the store when it opens, under an advisory
//!   lock so trackers starting together do not race. Tables are prefixed
//!   `affiliate_` in the connection's schema (set `options=-csearch_path=…` in the URL
//!   to use another).
//!
//! * **TLS**: with `sslmode=require` in the URL the connection is TLS (rustls) and
//!   the server's certificate must be valid for the host name in the URL and chain to
//!   a public root (Mozilla's, from `webpki-roots`) or, with
//!   [`PostgresStore::open_with_ca`], to your own CA. That is libpq's `verify-full`:
//!   stricter than its `require`, which checks nothing. Without `sslmode=require` the
//!   connection is plain TCP (libpq's default `prefer` gives no protection either): use
//!   that on a private network or a loopback address only.

use super::buffered::BufferedClicks;
use crate::store::{ConversionReads, Maintenance};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::postgres;
use r2d2_postgres::postgres::config::SslMode;

mod connect;
mod erase;
mod ledger;
mod outbox;
mod payouts;
mod program_records;
mod rows;
mod schema;
#[cfg(test)]
mod tests;
mod tx;

pub use self::connect::RETRY_BUDGET;
use self::connect::{Failure, Inner, LastConnectError, OffRuntimeDrop, off_runtime, tls};
use self::rows::{
    day_i32, parse_conversion, read_conversion, read_counters, to_i64, to_u64, write_batch,
};
use self::schema::migrate;
use super::batch::{ClickBuffer, spawn_writer};
use super::codec::decode_click;
use super::{Bindings, ClickRecord, CounterKey, Counters, Store, StoreLimits, day_of};
use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::{Error, Result};
use crate::records::Conversion;

/// How often buffered clicks and impressions are written, in milliseconds.
pub const CLICK_BATCH_MS: u64 = 100;

/// The most connections one store holds.
pub const POOL_SIZE: u32 = 16;

/// How long a call waits for a connection (and a new connection for the server).
const CONNECTION_TIMEOUT: Duration = Duration::from_millis(500);

/// The longest a statement may run before the database cancels it.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// A [`Store`] in a PostgreSQL database, shared by any number of trackers. Cheap to
/// share: wrap it in an `Arc`.
pub struct PostgresStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`, or
    /// `host=… user=… dbname=…`), creating or migrating the schema.
    ///
    /// `sslmode=require` in the URL asks for TLS with the server's certificate checked
    /// against the public roots (see the module docs).
    ///
    /// Errors: `malformed` for a URL that is not one, `store_unavailable` when the
    /// database cannot be reached or migrated (a certificate that does not verify
    /// included).
    ///
    /// **Blocking**: opens files or connects, and may wait (up to about 3 s) for the
    /// database; from async code, call it off the runtime's workers.
    pub fn open(url: &str) -> Result<PostgresStore> {
        PostgresStore::open_with_ca(url, None)
    }

    /// Like [`PostgresStore::open`]; with `sslmode=require`, the server's certificate
    /// must chain to one of the PEM certificates in `ca_pem` (your own CA, such as a
    /// cloud provider's bundle) instead of the public roots.
    ///
    /// Errors: also `malformed` when `ca_pem` holds no certificate, or when a CA is
    /// given but the URL does not say `sslmode=require` (it would be ignored, and the
    /// connection in the clear).
    ///
    /// **Blocking**: opens files or connects, and may wait (up to about 3 s) for the
    /// database; from async code, call it off the runtime's workers.
    pub fn open_with_ca(url: &str, ca_pem: Option<&str>) -> Result<PostgresStore> {
        PostgresStore::open_with(url, ca_pem, &StoreLimits::default())
    }

    /// [`PostgresStore::open_with_ca`] with these memory bounds.
    ///
    /// **Blocking**: opens files or connects, and may wait (up to about 3 s) for the
    /// database; from async code, call it off the runtime's workers.
    pub fn open_with(
        url: &str,
        ca_pem: Option<&str>,
        limits: &StoreLimits,
    ) -> Result<PostgresStore> {
        off_runtime(|| PostgresStore::connect(url, ca_pem, limits))
    }

    fn connect(url: &str, ca_pem: Option<&str>, limits: &StoreLimits) -> Result<PostgresStore> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| Error::malformed("database url", format!("{e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECTION_TIMEOUT);
        }
        config.application_name("affiliate-sdk");
        // A stalled or unreachable database answers within bounds: no statement runs
        // longer than STATEMENT_TIMEOUT, and TCP keepalive finds a peer that vanished.
        let options = format!(
            "{} -c statement_timeout={}",
            config.get_options().unwrap_or_default(),
            STATEMENT_TIMEOUT.as_millis()
        );
        config.options(options.trim_start());
        config
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(10))
            .keepalives_interval(Duration::from_secs(5))
            .keepalives_retries(3);
        // `prefer` would try TLS and accept any certificate; only `require` is TLS,
        // and then verified.
        if config.get_ssl_mode() != SslMode::Require {
            if ca_pem.is_some() {
                // A CA without TLS would silently connect in the clear.
                return Err(Error::malformed(
                    "database url",
                    "a CA certificate was given but the URL does not ask for TLS: add sslmode=require",
                ));
            }
            config.ssl_mode(SslMode::Disable);
        }
        let last_error = LastConnectError::default();
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(CONNECTION_TIMEOUT)
            .test_on_check_out(false)
            .error_handler(Box::new(last_error.clone()))
            .build(PostgresConnectionManager::new(config, tls(ca_pem)?))
            .map_err(|e| {
                let why = last_error.take().unwrap_or_else(|| e.to_string());
                Error::Store(format!("no database connection: {why}"))
            })?;
        let inner = Arc::new(Inner {
            pool: OffRuntimeDrop(Some(pool)),
            buffer: ClickBuffer::new(limits),
        });
        inner.attempt(migrate)?;
        // The sids already counted today and yesterday keep their places under the cap.
        let today = day_of(crate::clock::Clock::now(&crate::clock::SystemClock));
        let stored = inner.attempt(|c| read_counters(c, today.saturating_sub(1), today, None))?;
        inner.buffer.seed_sids(stored.keys());
        spawn_writer(
            Arc::downgrade(&inner),
            Duration::from_millis(CLICK_BATCH_MS),
            "affiliate-pg-clicks",
            Inner::write_out,
        )?;
        Ok(PostgresStore { inner })
    }
}

impl Inner {
    fn write_out(&self) -> Result<()> {
        self.buffer
            .write_out(|batch| self.attempt(|c| write_batch(c, batch)))
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Best effort: a clean shutdown loses no buffered click.
        let _ = self.inner.write_out();
    }
}

impl Store for PostgresStore {
    fn transact(&self, f: &mut super::TxFn<'_>) -> Result<()> {
        self.transact_in_db(f)
    }
}

impl BufferedClicks for PostgresStore {
    fn buffer(&self) -> &ClickBuffer {
        &self.inner.buffer
    }

    fn stored_click(&self, id: ClickId) -> Result<Option<ClickRecord>> {
        self.inner.attempt(|c| {
            let key = &id.as_bytes()[..];
            match c.query_opt(
                "SELECT record FROM affiliate_clicks WHERE click_id = $1",
                &[&key],
            )? {
                None => Ok(None),
                Some(row) => decode_click(id, row.get::<_, &[u8]>(0))
                    .map(Some)
                    .ok_or(Failure::Corrupt("click")),
            }
        })
    }

    fn stored_counters(
        &self,
        from_day: u32,
        to_day: u32,
        campaign: Option<&Code>,
    ) -> Result<BTreeMap<CounterKey, Counters>> {
        self.inner
            .attempt(|c| read_counters(c, from_day, to_day, campaign))
    }

    fn write_out(&self) -> Result<()> {
        self.inner.write_out()
    }
}

impl ConversionReads for PostgresStore {
    fn replaced_conversions(&self, order_id: &str) -> Result<Vec<Conversion>> {
        self.inner.attempt(|c| {
            c.query(
                "SELECT record FROM affiliate_replaced_conversions WHERE order_id = $1
                 ORDER BY seq",
                &[&order_id],
            )?
            .iter()
            .map(|row| parse_conversion(row.get(0)))
            .collect()
        })
    }

    fn conversion(&self, order_id: &str) -> Result<Option<Conversion>> {
        self.inner
            .attempt(|c| Ok(read_conversion(c, order_id)?.map(|(_, conv)| conv)))
    }

    fn customer(&self, customer_id: &str) -> Result<Bindings> {
        self.inner.attempt(|c| {
            match c.query_opt(
                "SELECT record FROM affiliate_customers WHERE customer_id = $1",
                &[&customer_id],
            )? {
                None => Ok(Bindings::default()),
                Some(row) => serde_json::from_str(row.get::<_, &str>(0))
                    .map_err(|_| Failure::Corrupt("customer")),
            }
        })
    }

    fn conversions(&self, from_day: u32, to_day: u32) -> Result<Vec<Conversion>> {
        self.inner.attempt(|c| {
            c.query(
                "SELECT record FROM affiliate_conversions WHERE day BETWEEN $1 AND $2",
                &[&day_i32(from_day), &day_i32(to_day)],
            )?
            .iter()
            .map(|row| parse_conversion(row.get(0)))
            .collect()
        })
    }

    fn pending_due(
        &self,
        campaign: &Code,
        made_by: u64,
        after: Option<(u64, &str)>,
        max: usize,
    ) -> Result<Vec<Conversion>> {
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        // No cursor reads as one before every row (times are never negative).
        let (after_at, after_id) = after.map_or((-1, ""), |(at, id)| (to_i64(at), id));
        self.inner.attempt(|c| {
            c.query(
                "SELECT record FROM affiliate_conversions
                 WHERE status = 'pending' AND campaign = $1 AND converted_at <= $2
                   AND (converted_at, order_id) > ($3, $4)
                 ORDER BY converted_at, order_id LIMIT $5",
                &[
                    &campaign.as_str(),
                    &to_i64(made_by),
                    &after_at,
                    &after_id,
                    &max,
                ],
            )?
            .iter()
            .map(|row| parse_conversion(row.get(0)))
            .collect()
        })
    }
}

impl Maintenance for PostgresStore {
    fn claim_once(&self, scope: &str, key: &str, expires: u64, now: u64) -> Result<bool> {
        self.inner.attempt(|c| {
            let mut tx = c.transaction()?;
            // The expired claims go first (an index range), so the table stays small.
            tx.execute(
                "DELETE FROM affiliate_claims WHERE expires <= $1",
                &[&to_i64(now)],
            )?;
            let fresh = tx.execute(
                "INSERT INTO affiliate_claims (scope, key, expires) VALUES ($1, $2, $3)
                 ON CONFLICT (scope, key) DO NOTHING",
                &[&scope, &key, &to_i64(expires)],
            )?;
            tx.commit()?;
            // A retry after a lost commit answer finds its own claim and answers
            // `false`: the safe side (a sign-in link is refused, never used twice).
            Ok(fresh == 1)
        })
    }

    fn erase_customer(&self, customer_id: &str) -> Result<crate::store::Erased> {
        self.erase_in_db(customer_id)
    }

    fn prune_clicks(&self, before: u64, max: usize) -> Result<usize> {
        self.prune_clicks_in_db(before, max)
    }

    fn prune_deliveries(&self, before: u64, max: usize) -> Result<usize> {
        self.prune_in_db(before, max)
    }
}
