//! The real server under hostile load: idle, slow-header and slow-body clients must not
//! starve clicks or `/healthz`, and shutdown keeps its deadline. Latency figures are
//! asserted as bounds a user would notice (p99 under 100 ms), not measured as speed.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{BROWSER_UA, Http, Server, config, keyring, path_of};

/// One load test at a time: they measure latency.
static SERIAL: Mutex<()> = Mutex::new(());

fn link(campaign: &str, partner: &str) -> String {
    let signer = affiliate_sdk::LinkSigner::new(keyring(), "http://t.shop.example/go").unwrap();
    path_of(&signer.build(campaign, partner, None, None).unwrap())
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[(v.len() * 99 / 100).min(v.len() - 1)]
}

/// Raises this process's own soft open-files limit (the test holds thousands of
/// sockets).
fn raise_own_limit() {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
}

fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

#[test]
fn idle_slow_and_silent_clients_do_not_starve_clicks_and_shutdown_keeps_its_deadline() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    raise_own_limit();
    let mut server = Server::start_limited(&config("shutdown_grace_seconds = 3"), 1024);
    let a = addr(&server);
    // 2,000 connections that send nothing: more than the 1,024 soft limit it started
    // under.
    let idle: Vec<TcpStream> = (0..2000).map(|_| TcpStream::connect(&a).unwrap()).collect();
    // 200 clients sending a request head a byte at a time, 200 sending a body so.
    let mut slow = Vec::new();
    for i in 0..400 {
        let mut s = TcpStream::connect(&a).unwrap();
        let start: &[u8] = if i % 2 == 0 {
            b"GET /healthz HTTP/1.1\r\nHost: t\r\n"
        } else {
            b"POST /v1/conversions HTTP/1.1\r\nHost: t\r\nContent-Length: 4000\r\n\r\n{"
        };
        s.write_all(start).unwrap();
        slow.push(s);
    }
    let dribbling = Arc::new(AtomicBool::new(true));
    let dribbler = {
        let dribbling = dribbling.clone();
        std::thread::spawn(move || {
            while dribbling.load(Ordering::Relaxed) {
                for s in &mut slow {
                    let _ = s.write_all(b"x");
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    // Meanwhile, health checks and clicks answer quickly.
    let click = link("haircare", "abc123");
    let mut health = Vec::new();
    let mut clicks = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        assert_eq!(server.get("/healthz", &[]).status, 200);
        health.push(t.elapsed());
        let t = Instant::now();
        let (token, r) = server.click(&click, None);
        clicks.push(t.elapsed());
        assert_eq!(r.status, 302);
        assert!(token.is_some());
    }
    let (health, clicks) = (p99(health), p99(clicks));
    println!("with 2,000 idle and 400 slow clients: /healthz p99 {health:?}, click p99 {clicks:?}");
    assert!(
        health < Duration::from_millis(100),
        "/healthz p99 {health:?}"
    );
    assert!(clicks < Duration::from_millis(100), "click p99 {clicks:?}");
    assert_eq!(server.totals()["clicks"], 300);
    // SIGTERM while the slow clients still dribble: out within the 3 s grace period.
    let took = server.terminate("TERM");
    println!("stopped {took:?} after SIGTERM");
    assert!(took < Duration::from_secs(5), "took {took:?} to stop");
    dribbling.store(false, Ordering::Relaxed);
    dribbler.join().unwrap();
    drop(idle);
}

#[test]
fn a_silent_connection_is_closed_after_the_header_timeout_and_a_slow_body_gets_408() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start(&config(""));
    let t = Instant::now();
    let silent = TcpStream::connect(addr(&server)).unwrap();
    let mut slow = TcpStream::connect(addr(&server)).unwrap();
    slow.write_all(b"POST /v1/conversions HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{")
        .unwrap();
    let read_all = |mut s: TcpStream| {
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        std::thread::spawn(move || {
            let mut answer = Vec::new();
            let _ = std::io::Read::read_to_end(&mut s, &mut answer);
            (String::from_utf8_lossy(&answer).into_owned(), t.elapsed())
        })
    };
    let (silent, slow) = (read_all(silent), read_all(slow));
    let (answer, waited) = silent.join().unwrap();
    assert_eq!(answer, "", "closed without an answer");
    assert!(
        (Duration::from_secs(9)..Duration::from_secs(13)).contains(&waited),
        "closed after {waited:?}"
    );
    // A body that does not arrive within 10 s is answered 408.
    let (answer, waited) = slow.join().unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(waited < Duration::from_secs(13), "{waited:?}");
}

/// Reads `n` pipelined answers (heads, and the GIF body when there is one).
fn read_answers(conn: &mut TcpStream, n: usize) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    let complete = |buf: &[u8]| {
        let text = String::from_utf8_lossy(buf);
        let mut count = 0;
        let mut rest = text.as_ref();
        while let Some(head_end) = rest.find("\r\n\r\n") {
            let head = &rest[..head_end];
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let end = head_end + 4 + len;
            if rest.len() < end {
                break;
            }
            count += 1;
            rest = &rest[end..];
        }
        count
    };
    while complete(&buf) < n {
        let got = std::io::Read::read(conn, &mut chunk).unwrap();
        assert!(got > 0, "connection closed early");
        buf.extend_from_slice(&chunk[..got]);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[test]
fn floods_of_distinct_sids_keep_memory_counters_and_reports_bounded() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // A 16 MiB buffer: memory grows by at most it plus 112 MiB (sled's 32 MiB cache
    // and what sled keeps beyond it, connection buffers, the allocator's per-thread
    // arenas) over the idle server's. Measured on 2 cores: 64 to 98 MiB over idle, run
    // to run (the arenas vary most). Without the bounds, 700,000 distinct sids would
    // add their counters (about 150 bytes each: over 100 MiB) and a growing buffer on
    // top of that.
    let server = Server::start_limited(&config("click_buffer_bytes = 16777216"), 4096);
    let idle = server.rss_kib();
    let signer = affiliate_sdk::LinkSigner::new(keyring(), "http://t.shop.example/go").unwrap();
    let click = path_of(&signer.build("haircare", "abc123", None, None).unwrap());
    let imp = click.replacen("/go/", "/imp/", 1);
    const IMPRESSIONS: usize = 500_000;
    const CLICKS: usize = 200_000;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let peak = std::sync::atomic::AtomicU64::new(0);
    let flooding = AtomicBool::new(true);
    let a = addr(&server);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                // Pipelined batches of 500 requests on one kept-alive connection.
                let mut conn = TcpStream::connect(&a).unwrap();
                loop {
                    let from = next.fetch_add(500, Ordering::Relaxed);
                    if from >= IMPRESSIONS + CLICKS {
                        break;
                    }
                    let to = (from + 500).min(IMPRESSIONS + CLICKS);
                    let mut batch = String::new();
                    for i in from..to {
                        let target = if i < IMPRESSIONS {
                            format!("{imp}&sid=i{i}")
                        } else {
                            format!("{click}&sid=c{i}")
                        };
                        batch.push_str(&format!(
                            "GET {target} HTTP/1.1\r\nHost: t\r\nUser-Agent: {BROWSER_UA}\r\n\r\n"
                        ));
                    }
                    conn.write_all(batch.as_bytes()).unwrap();
                    let answers = read_answers(&mut conn, to - from);
                    let good = if from < IMPRESSIONS {
                        "x-affiliate-result: ok"
                    } else {
                        "set-cookie: aff_token=v1."
                    };
                    assert_eq!(
                        answers.matches(good).count(),
                        to - from,
                        "{}",
                        &answers[..300]
                    );
                }
            });
        }
        s.spawn(|| {
            while flooding.load(Ordering::Relaxed) {
                peak.fetch_max(server.rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        while next.load(Ordering::Relaxed) < IMPRESSIONS + CLICKS + 4 * 500 {
            std::thread::sleep(Duration::from_millis(100));
        }
        flooding.store(false, Ordering::Relaxed);
    });
    let peak = peak.load(Ordering::Relaxed);
    println!(
        "{IMPRESSIONS} impressions and {CLICKS} clicks with distinct sids: peak RSS {} MiB (idle {} MiB)",
        peak / 1024,
        idle / 1024
    );
    assert!(
        peak < idle + (16 + 112) * 1024,
        "peak RSS {peak} KiB, idle {idle} KiB"
    );
    // The report: at most 1,000 sids and (other), served in pages.
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &cursor {
            Some(c) => format!("/v1/stats?group_by=sid&limit=300&cursor={c}"),
            None => "/v1/stats?group_by=sid&limit=300".to_owned(),
        };
        let page = server.api_get(&q).json();
        pages += 1;
        rows.extend(page["rows"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(rows.len(), 1001, "1,000 sids and (other)");
    assert_eq!(pages, 4);
    let sum = |field: &str| rows.iter().map(|r| r[field].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("impressions"), IMPRESSIONS as u64);
    assert_eq!(sum("clicks"), CLICKS as u64);
    let other = rows.iter().find(|r| r["sid"] == "(other)").unwrap();
    assert_eq!(
        other["impressions"].as_u64().unwrap(),
        (IMPRESSIONS - 1000) as u64
    );
    assert_eq!(other["clicks"].as_u64().unwrap(), CLICKS as u64);
    // Without a limit, one page of at most 10,000 rows.
    let all = server.api_get("/v1/stats?group_by=sid").json();
    assert_eq!(all["rows"].as_array().unwrap().len(), 1001);
    assert!(all["next_cursor"].is_null());
}

#[test]
fn a_flood_of_huge_invalid_links_costs_the_log_almost_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut server = Server::start_limited(&config(""), 4096);
    let before = server.log().len();
    let junk = "x".repeat(30 * 1024);
    for i in 0..200 {
        let r = server.get(
            &format!("/go/haircare/{junk}{i}?sig=k1.AAAA&sid={junk}"),
            &[],
        );
        assert!(r.status == 302 || r.status == 404, "{}", r.status);
    }
    server.terminate("TERM");
    let log = server.log();
    let grown = log.len() - before;
    println!("200 invalid 60 KB links: the log grew {grown} bytes");
    assert!(
        grown < 4096,
        "the log grew {grown} bytes: {}",
        &log[before..before + grown.min(2000)]
    );
    assert!(log.contains("refused_clicks=200"), "{log}");
}

/// At the connection cap (a hard open-files limit of 1,024: 896 connections), 1,100
/// idle sockets do not keep a new visitor waiting: idle connections close to make
/// room, and the new request is answered within a second; busy ones are never closed.
#[test]
fn at_the_connection_cap_idle_connections_make_room_for_a_new_request() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    raise_own_limit();
    let server = Server::start_hard_limited(&config(""), 1024);
    assert!(
        server.log().contains("max_connections=896"),
        "{}",
        server.log()
    );
    let a = addr(&server);
    // Kept-alive connections that answered a request and went quiet, then silent ones.
    let mut idle: Vec<TcpStream> = Vec::new();
    for i in 0..1100 {
        let mut s = TcpStream::connect(&a).unwrap();
        if i % 2 == 0 {
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                .unwrap();
        }
        idle.push(s);
    }
    // A slow request being answered is never closed to make room: a body still to come.
    let mut busy = TcpStream::connect(&a).unwrap();
    busy.write_all(b"POST /v1/conversions HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{")
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let mut waits = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let r = server.get("/healthz", &[]);
        waits.push(t.elapsed());
        assert_eq!(r.status, 200);
    }
    let slowest = *waits.iter().max().unwrap();
    println!("1,100 idle sockets at a cap of 896: a new request answered within {slowest:?}");
    assert!(slowest < Duration::from_secs(1), "{waits:?}");
    // The slow request still gets its answer.
    busy.write_all(b"}").unwrap();
    busy.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut answer = [0u8; 12];
    std::io::Read::read_exact(&mut busy, &mut answer).unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 "), "{answer:?}");
    drop(idle);
}
