//! Outbound events: what they cost the conversion path, and how soon they arrive.
//!
//! `cargo bench -p affiliate-server --bench events` measures, on a `SledStore`:
//!
//! * durable conversions per second, 16 writers, with one webhook whose deliveries are
//!   sent while they write (the server's delivery loop and HTTP client, to a receiver on
//!   127.0.0.1), against the same with no webhook: the peer is the tracker without
//!   events to send. Target: at least 0.9x.
//! * delivery latency: from the conversion's acknowledgement to the receiver reading the
//!   webhook, p50 and p99.
//!
//! Under `cargo test --benches` it runs a few hundred conversions, to check that it works.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use affiliate_sdk::{
    CampaignSpec, Keyring, LinkSigner, ManualConversion, OutboundRequest, PartnerSpec, SendOutcome,
    SledStore, Tracker, Transport, WebhookRequest,
};
use affiliate_server::delivery::{
    HttpTransport, PER_ROUND, POLL, SENDERS, delivery_loop as server_loop,
};

const WRITERS: usize = 16;

/// Receives webhooks; records when each order's `conversion.created` arrived.
fn receiver(arrived: Arc<Mutex<HashMap<String, Instant>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let arrived = arrived.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(conn.try_clone().unwrap());
                loop {
                    let mut len = 0usize;
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        let mut h = String::new();
                        if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                            break;
                        }
                        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; len];
                    if r.read_exact(&mut body).is_err() {
                        return;
                    }
                    let at = Instant::now();
                    // The order id, without parsing the whole body (a receiver's cost
                    // is not the tracker's).
                    let text = String::from_utf8_lossy(&body);
                    if let Some(rest) = text.split_once("\"order_id\":\"").map(|(_, r)| r)
                        && let Some((id, _)) = rest.split_once('"')
                    {
                        arrived.lock().unwrap().insert(id.to_owned(), at);
                    }
                    let mut c = &conn;
                    if c.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    base
}

fn tracker(dir: &std::path::Path) -> Arc<Tracker> {
    let store = Arc::new(SledStore::open(dir).unwrap());
    let signer = LinkSigner::new(Keyring::generate().unwrap(), "https://t.example/go").unwrap();
    let t = Tracker::new(signer, store);
    let mut c = CampaignSpec::new("haircare", "https://shop.example/", "USD");
    c.sale_percent = Some("10".into());
    t.add_campaign(&c).unwrap();
    t.add_partner(&PartnerSpec::new("abc123")).unwrap();
    t.allow_private_destinations(true);
    Arc::new(t)
}

/// Conversions per second with `WRITERS` writers; each order id's acknowledgement time.
fn write(t: &Tracker, per_writer: usize, tag: &str) -> (f64, HashMap<String, Instant>) {
    let acked = Mutex::new(HashMap::new());
    let start = Instant::now();
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let acked = &acked;
            s.spawn(move || {
                for i in 0..per_writer {
                    let id = format!("{tag}-{w}-{i}");
                    let m = ManualConversion::sale(&id, "10.00", "USD", "haircare", "abc123");
                    t.manual(&m).unwrap();
                    acked.lock().unwrap().insert(id, Instant::now());
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    (
        (WRITERS * per_writer) as f64 / secs,
        acked.into_inner().unwrap(),
    )
}

/// Answers 204 without sending anything: what the tracker and the store spend.
struct NoSend;

impl Transport for NoSend {
    fn send(&self, _: &OutboundRequest) -> Result<u16, String> {
        Ok(204)
    }

    // Nothing to wait for: no thread of its own per request.
    fn run_all(&self, n: usize, work: &(dyn Fn(usize) -> SendOutcome + Sync)) -> Vec<SendOutcome> {
        (0..n).map(work).collect()
    }
}

/// Deliveries until `stop`: through `NoSend`, one loop; over HTTP, the server's own
/// delivery threads.
enum Sender {
    NoSend,
    Http(Arc<HttpTransport>),
}

fn delivery_loop(
    t: Arc<Tracker>,
    stop: Arc<AtomicBool>,
    sender: Sender,
) -> Vec<std::thread::JoinHandle<()>> {
    match sender {
        Sender::NoSend => vec![std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let r = t.deliver(&NoSend, PER_ROUND * SENDERS).unwrap();
                if r.sent == 0 && r.fanned_out == 0 {
                    std::thread::sleep(POLL);
                }
            }
        })],
        Sender::Http(transport) => (0..SENDERS)
            .map(|n| {
                let (t, stop, transport) = (t.clone(), stop.clone(), transport.clone());
                std::thread::spawn(move || {
                    let metrics = affiliate_server::metrics::Metrics::new();
                    server_loop(&t, &metrics, &transport, n == 0, || {
                        !stop.load(Ordering::Relaxed)
                    });
                })
            })
            .collect(),
    }
}

/// Conversions per second with one webhook delivered through `transport` while the
/// writers write, and the tracker (its deliveries are then all done).
fn with_webhook(
    dir: &std::path::Path,
    url: &str,
    per_writer: usize,
    tag: &str,
    sender: Sender,
) -> (f64, HashMap<String, Instant>, Arc<Tracker>) {
    let t = tracker(dir);
    t.create_webhook(&WebhookRequest {
        url: url.into(),
        events: vec!["conversion.created".into()],
        ..WebhookRequest::default()
    })
    .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let looping = delivery_loop(t.clone(), stop.clone(), sender);
    let (rate, acked) = write(&t, per_writer, tag);
    let deadline = Instant::now() + Duration::from_secs(120);
    let busy = |t: &Tracker| {
        !t.store().outbox(1).unwrap().is_empty()
            || !t
                .store()
                .due_deliveries(u64::MAX / 2, 1)
                .unwrap()
                .is_empty()
    };
    while busy(&t) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    looping.into_iter().for_each(|h| h.join().unwrap());
    (rate, acked, t)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (per_writer, rounds) = if full { (400, 5) } else { (20, 1) };
    let dir = tempfile::tempdir().unwrap();
    let arrived = Arc::new(Mutex::new(HashMap::new()));
    let base = receiver(arrived.clone());
    let (mut none, mut unsent, mut with, mut lat) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // Rounds in turn, each on fresh stores, so the machine's drift hits all three.
    for r in 0..rounds {
        // The peer: no webhook (events are still written to the outbox and fanned out
        // into nothing by the same loop, as in a server without endpoints).
        let plain = tracker(&dir.path().join(format!("plain{r}")));
        let stop = Arc::new(AtomicBool::new(false));
        let plain_loop = delivery_loop(plain.clone(), stop.clone(), Sender::NoSend);
        none.push(write(&plain, per_writer, &format!("N{r}")).0);
        stop.store(true, Ordering::Relaxed);
        plain_loop.into_iter().for_each(|h| h.join().unwrap());

        // One webhook whose deliveries are recorded without a request: the tracker's
        // and the store's part.
        unsent.push(
            with_webhook(
                &dir.path().join(format!("unsent{r}")),
                "http://127.0.0.1:9/unsent",
                per_writer,
                &format!("U{r}"),
                Sender::NoSend,
            )
            .0,
        );

        // One webhook, sent over HTTP by the server's delivery threads to a receiver in
        // this process.
        let (rate, acked, _) = with_webhook(
            &dir.path().join(format!("hooked{r}")),
            &format!("{base}/hooks"),
            per_writer,
            &format!("W{r}"),
            Sender::Http(Arc::new(HttpTransport::new(true, None))),
        );
        with.push(rate);
        let arrived = arrived.lock().unwrap();
        for (id, at) in &acked {
            let got = arrived.get(id).expect("every conversion's webhook arrived");
            lat.push(got.saturating_duration_since(*at));
        }
    }
    lat.sort();
    let ratios: Vec<f64> = with.iter().zip(&none).map(|(w, n)| w / n).collect();
    let ratio = median(ratios.clone());
    println!(
        "== outbound events: SledStore, {WRITERS} writers, {} conversions a run, {rounds} rounds (medians) ==",
        WRITERS * per_writer
    );
    println!(
        "durable conversions/s, no webhook (peer)           {:>8.0}",
        median(none.clone())
    );
    println!(
        "durable conversions/s, one webhook, recorded unsent {:>8.0} ({:.2}x)",
        median(unsent.clone()),
        median(unsent.iter().zip(&none).map(|(u, n)| u / n).collect())
    );
    println!(
        "durable conversions/s, one webhook delivered       {:>8.0}",
        median(with.clone())
    );
    println!(
        "ratio with / without: {ratio:.2}x, rounds {} (target >= 0.90x: {})",
        ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(" "),
        if ratio >= 0.9 { "met" } else { "NOT met" }
    );
    println!(
        "delivery latency (acknowledged -> received): p50 {:.1} ms, p99 {:.1} ms (idle poll {} ms, {} senders)",
        percentile(&lat, 0.5).as_secs_f64() * 1000.0,
        percentile(&lat, 0.99).as_secs_f64() * 1000.0,
        POLL.as_millis(),
        SENDERS
    );
}
