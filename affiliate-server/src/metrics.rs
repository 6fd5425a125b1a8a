//! What an operator watches: `GET /metrics` in the Prometheus text format
//! (`prometheus-client`). Request counters are counted where requests are answered;
//! the store's figures (buffer depth, dropped clicks, writes, failures, time spent
//! writing) are read from the store at each scrape.

use std::sync::Mutex;

use affiliate_sdk::Store;
use prometheus_client::encoding::EncodeLabelSet;
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
    /// `affiliate_clicks_total{result="click|bot|refused"}`.
    pub clicks: Family<Outcome, Counter>,
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
    store: StoreMetrics,
}

/// The store's figures, brought up to date at each scrape.
struct StoreMetrics {
    buffered_bytes: Gauge,
    outbox_events: Gauge,
    dropped: Family<Outcome, Counter>,
    writes: Family<Outcome, Counter>,
    write_seconds: Counter<f64, std::sync::atomic::AtomicU64>,
    failing: Gauge,
    /// The store's totals at the last scrape: counters move by the difference.
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    dropped_clicks: u64,
    dropped_impressions: u64,
    writes: u64,
    failed_writes: u64,
    write_micros: u64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Every metric, registered under the `affiliate` prefix.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("affiliate");
        let m = Metrics {
            clicks: Family::default(),
            impressions: Family::default(),
            refusals: Family::default(),
            conversions: Family::default(),
            deliveries: Family::default(),
            ready: Gauge::default(),
            store: StoreMetrics {
                buffered_bytes: Gauge::default(),
                outbox_events: Gauge::default(),
                dropped: Family::default(),
                writes: Family::default(),
                write_seconds: Counter::default(),
                failing: Gauge::default(),
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
        registry.register(
            "store_write_seconds",
            "Time the click writer spent writing batches",
            m.store.write_seconds.clone(),
        );
        registry.register(
            "store_failing",
            "1 while the click writer's latest write failed",
            m.store.failing.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Counts a refused public request.
    pub fn refused(&self, kind: &'static str, code: &'static str) {
        self.refusals.get_or_create(&Refusal { kind, code }).inc();
    }

    /// The text exposition, with the store's figures read now. **Blocking**: reads
    /// the outbox's length from the store.
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
        s.outbox_events.set(
            store
                .outbox_len()
                .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX)),
        );
        let mut seen = s
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
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
        let micros = stats.write_micros.saturating_sub(seen.write_micros);
        seen.write_micros = seen.write_micros.max(stats.write_micros);
        // Metrics are not money: seconds as a float is the exposition's own unit.
        #[allow(clippy::cast_precision_loss)]
        s.write_seconds.inc_by(micros as f64 / 1e6);
    }
}
