//! What an operator watches: `GET /metrics` in the Prometheus text format
//! (`prometheus-client`). Request counters are counted where requests are answered;
//! the click writer's figures (buffer depth, dropped clicks, writes, failures, how long
//! writes take) are read from memory at each scrape; the store's health and the
//! outbox's depth come from a watcher thread ([`watch_store`]), so a scrape never
//! waits for the store.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use affiliate_sdk::Store;
use affiliate_sdk::store::{WRITE_BUCKET_MICROS, WriterStats};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// A `result` label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    pub result: &'static str,
}

/// What was refused, and why (an error code).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Refusal {
    pub kind: &'static str,
    pub code: &'static str,
}

/// A conversion's channel and what became of it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConversionLabels {
    pub channel: &'static str,
    pub result: &'static str,
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    /// `affiliate_clicks_total{result="click|bot|refused"}`: count with
    /// [`Metrics::count_click`].
    clicks: Family<Outcome, Counter>,
    /// The three series of `clicks`, looked up once: a click costs an atomic add, not
    /// a hash of its labels under a lock.
    click_series: [Counter; 3],
    /// `affiliate_impressions_total{result="counted|refused"}`.
    pub impressions: Family<Outcome, Counter>,
    /// `affiliate_refusals_total{kind="click|impression|conversion",code}`.
    pub refusals: Family<Refusal, Counter>,
    /// `affiliate_conversions_total{channel,result="created|duplicate|replaced"}`.
    pub conversions: Family<ConversionLabels, Counter>,
    /// `affiliate_deliveries_total{result="delivered|retrying|failed"}`.
    pub deliveries: Family<Outcome, Counter>,
    /// `affiliate_ready`: 1 when the last `/readyz` answered 200.
    pub ready: Gauge,
    /// What the store watcher saw last.
    pub health: StoreHealth,
    store: StoreMetrics,
}

/// How often the watcher checks the store.
pub const WATCH_EVERY: Duration = Duration::from_secs(2);

/// A check taking longer than this counts as the store being down.
pub const WATCH_TIMEOUT: Duration = Duration::from_secs(2);

/// The store's health as the watcher last saw it: read from memory by `/metrics`.
pub struct StoreHealth {
    since: Instant,
    /// When the running check began (milliseconds since `since`), if one is running.
    checking_since: AtomicU64,
    checking: AtomicBool,
    /// The last finished check's answer.
    answered: AtomicBool,
}

impl Default for StoreHealth {
    fn default() -> StoreHealth {
        StoreHealth {
            since: Instant::now(),
            checking_since: AtomicU64::new(0),
            checking: AtomicBool::new(false),
            answered: AtomicBool::new(false),
        }
    }
}

impl StoreHealth {
    fn millis(&self) -> u64 {
        u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn begin(&self) {
        self.checking_since.store(self.millis(), Ordering::Release);
        self.checking.store(true, Ordering::Release);
    }

    fn end(&self, answered: bool) {
        self.answered.store(answered, Ordering::Release);
        self.checking.store(false, Ordering::Release);
    }

    /// Whether the store answered the last check, and the running one (if any) has
    /// waited less than [`WATCH_TIMEOUT`].
    pub fn up(&self) -> bool {
        let stuck = self.checking.load(Ordering::Acquire)
            && self
                .millis()
                .saturating_sub(self.checking_since.load(Ordering::Acquire))
                > u64::try_from(WATCH_TIMEOUT.as_millis()).unwrap_or(u64::MAX);
        !stuck && self.answered.load(Ordering::Acquire)
    }
}

/// Checks the store every [`WATCH_EVERY`] on a thread of its own (a read of the program
/// version and of the outbox's depth) for as long as `state` lives: `/metrics` shows
/// what it saw without ever waiting for the store itself.
///
/// # Errors
///
/// When the thread cannot be started.
pub fn watch_store(state: Weak<crate::http::AppState>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("affiliate-store-watch".into())
        .spawn(move || {
            while let Some(live) = state.upgrade() {
                let m = &live.metrics;
                m.health.begin();
                let store = live.tracker.store();
                let answered = store.program_version().is_ok();
                let outbox = store
                    .outbox_len()
                    .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
                m.store.outbox_events.set(outbox);
                m.health.end(answered && outbox >= 0);
                drop(live);
                std::thread::sleep(WATCH_EVERY);
            }
        })
        .map(drop)
}

/// The store's figures, brought up to date at each scrape.
struct StoreMetrics {
    buffered_bytes: Gauge,
    outbox_events: Gauge,
    dropped: Family<Outcome, Counter>,
    writes: Family<Outcome, Counter>,
    write_seconds: Arc<Mutex<WriterStats>>,
    failing: Gauge,
    up: Gauge,
    /// The store's totals at the last scrape: counters move by the difference.
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    dropped_clicks: u64,
    dropped_impressions: u64,
    writes: u64,
    failed_writes: u64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

/// The results of a click, in the order of `Metrics::click_series`.
const CLICK_RESULTS: [&str; 3] = ["click", "bot", "refused"];

impl Metrics {
    /// Counts a click by its result: `click`, `bot` or `refused`.
    pub fn count_click(&self, result: &'static str) {
        match CLICK_RESULTS.iter().position(|r| *r == result) {
            Some(i) => self.click_series[i].inc(),
            None => self.clicks.get_or_create(&Outcome { result }).inc(),
        };
    }

    /// Every metric, registered under the `affiliate` prefix.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("affiliate");
        let clicks = Family::<Outcome, Counter>::default();
        let click_series =
            CLICK_RESULTS.map(|result| clicks.get_or_create(&Outcome { result }).clone());
        let m = Metrics {
            clicks,
            click_series,
            impressions: Family::default(),
            refusals: Family::default(),
            conversions: Family::default(),
            deliveries: Family::default(),
            ready: Gauge::default(),
            health: StoreHealth::default(),
            store: StoreMetrics {
                buffered_bytes: Gauge::default(),
                outbox_events: Gauge::default(),
                dropped: Family::default(),
                writes: Family::default(),
                write_seconds: Arc::default(),
                failing: Gauge::default(),
                up: Gauge::default(),
                seen: Mutex::new(Seen::default()),
            },
            registry: Registry::default(),
        };
        registry.register(
            "clicks",
            "Clicks on /go/ links, by result",
            m.clicks.clone(),
        );
        registry.register(
            "impressions",
            "Impressions on /imp/ links, by result",
            m.impressions.clone(),
        );
        registry.register(
            "refusals",
            "Refused public requests by kind and error code",
            m.refusals.clone(),
        );
        registry.register(
            "conversions",
            "Conversions recorded, by channel and result",
            m.conversions.clone(),
        );
        registry.register(
            "deliveries",
            "Webhook and postback deliveries sent, by result",
            m.deliveries.clone(),
        );
        registry.register(
            "ready",
            "1 when the last readiness check passed",
            m.ready.clone(),
        );
        registry.register(
            "click_buffer_bytes",
            "Bytes of clicks and impressions waiting to be written",
            m.store.buffered_bytes.clone(),
        );
        registry.register(
            "outbox_events",
            "Events in the outbox waiting to be fanned out into deliveries (-1: the store did not answer)",
            m.store.outbox_events.clone(),
        );
        registry.register(
            "dropped",
            "Clicks and impressions not recorded because the buffer was full",
            m.store.dropped.clone(),
        );
        registry.register(
            "store_writes",
            "Batch writes of the click writer, by result",
            m.store.writes.clone(),
        );
        registry.register_collector(Box::new(WriteLatency(m.store.write_seconds.clone())));
        registry.register(
            "store_failing",
            "1 while the click writer's latest write failed",
            m.store.failing.clone(),
        );
        registry.register(
            "store_up",
            "1 when the store answered the watcher's latest check (every 2 s) within 2 s",
            m.store.up.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Counts a refused public request.
    pub fn refused(&self, kind: &'static str, code: &'static str) {
        self.refusals.get_or_create(&Refusal { kind, code }).inc();
    }

    /// The text exposition, with the click writer's figures read now (from memory) and
    /// the store's health as the watcher last saw it. Never waits for the store.
    pub fn render(&self, store: &dyn Store) -> String {
        self.sync_store(store);
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    fn sync_store(&self, store: &dyn Store) {
        let stats = store.writer_stats();
        let dropped = store.dropped();
        let s = &self.store;
        s.buffered_bytes
            .set(i64::try_from(stats.buffered_bytes).unwrap_or(i64::MAX));
        s.failing.set(i64::from(stats.failing));
        s.up.set(i64::from(self.health.up()));
        let mut seen = s.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let grow = |counter: &Counter, last: &mut u64, now: u64| {
            counter.inc_by(now.saturating_sub(*last));
            *last = (*last).max(now);
        };
        grow(
            &s.dropped.get_or_create(&Outcome { result: "click" }),
            &mut seen.dropped_clicks,
            dropped.clicks,
        );
        grow(
            &s.dropped.get_or_create(&Outcome {
                result: "impression",
            }),
            &mut seen.dropped_impressions,
            dropped.impressions,
        );
        grow(
            &s.writes.get_or_create(&Outcome { result: "ok" }),
            &mut seen.writes,
            stats.writes,
        );
        grow(
            &s.writes.get_or_create(&Outcome { result: "failed" }),
            &mut seen.failed_writes,
            stats.failed_writes,
        );
        *s.write_seconds
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = stats;
    }
}

/// `affiliate_store_write_seconds`: a histogram of the click writer's write attempts
/// (failed ones included), from the store's figures at the last scrape.
#[derive(Debug)]
struct WriteLatency(Arc<Mutex<WriterStats>>);

impl Collector for WriteLatency {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = *self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // Metrics are not money: seconds as a float is the exposition's own unit.
        #[allow(clippy::cast_precision_loss)]
        let seconds = |micros: u64| micros as f64 / 1e6;
        let buckets: Vec<(f64, u64)> = WRITE_BUCKET_MICROS
            .iter()
            .map(|&b| seconds(b))
            .chain([f64::INFINITY])
            .zip(stats.write_buckets)
            .collect();
        encoder
            .encode_descriptor(
                "store_write_seconds",
                "How long the click writer's batch writes took (failed attempts included)",
                None,
                MetricType::Histogram,
            )?
            .encode_histogram::<NoLabelSet>(
                seconds(stats.write_micros),
                stats.write_buckets.iter().sum(),
                &buckets,
                None,
            )
    }
}
