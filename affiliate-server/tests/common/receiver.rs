//! A webhook and postback receiver on 127.0.0.1 for the tests: records every request
//! (method, target, headers, body) and answers the status it is told, or is "down"
//! (closes each connection without an answer).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub target: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

pub struct Receiver {
    pub base: String,
    got: Arc<Mutex<Vec<Received>>>,
    /// The status answered; 0: down.
    status: Arc<AtomicU16>,
    /// How long each answer waits, milliseconds.
    delay_ms: Arc<AtomicU64>,
    /// Requests read and not yet answered.
    in_flight: Arc<AtomicUsize>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let shared = (
            got.clone(),
            status.clone(),
            delay_ms.clone(),
            in_flight.clone(),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (g, s, d, f) = shared.clone();
                std::thread::spawn(move || {
                    if let Some(req) = read(conn.try_clone().unwrap()) {
                        // The answer is decided when the request arrives.
                        let code = s.load(Ordering::SeqCst);
                        f.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(
                            d.load(Ordering::SeqCst),
                        ));
                        answer(conn, req, &g, code);
                        f.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        Receiver {
            base,
            got,
            status,
            delay_ms,
            in_flight,
        }
    }

    /// Each answer waits `ms` milliseconds from now on.
    pub fn delay(&self, ms: u64) {
        self.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Requests read and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Answers `status` from now on (0: down, no answer).
    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits up to `timeout` until `pred` holds over what was received.
    pub fn wait(&self, timeout: Duration, pred: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let end = Instant::now() + timeout;
        loop {
            let all = self.all();
            if pred(&all) || Instant::now() > end {
                return all;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn read(conn: std::net::TcpStream) -> Option<Received> {
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn answer(mut conn: std::net::TcpStream, req: Received, got: &Mutex<Vec<Received>>, code: u16) {
    if code == 0 {
        return; // down: the connection closes without an answer
    }
    got.lock().unwrap().push(req);
    let _ = write!(
        conn,
        "HTTP/1.1 {code} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
}
