//! The real server under hostile load: idle, slow-header and slow-body clients must not
//! starve clicks or `/healthz`, and shutdown keeps its deadline. Latency figures are
//! asserted as bounds a user would notice (p99 under 100 ms), not measured as speed.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Http, Server, config, keyring, path_of};

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
