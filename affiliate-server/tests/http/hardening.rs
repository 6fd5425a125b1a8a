//! The second round of hardening, over HTTP against the real binary: wrong keys are
//! throttled per address (and only that address), logged once a window without the key.

use super::*;

/// A request from source address `from` (a loopback alias such as 127.0.0.2), raw:
/// the status and the whole answer.
fn from_address(server: &Server, from: &str, path: &str, key: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr: std::net::SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
        let mut stream = socket.connect(addr).await.unwrap();
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: t.shop.example\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await.unwrap();
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text.split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0);
        (status, text)
    })
}

#[test]
fn wrong_keys_are_throttled_per_address_and_logged_once_without_the_key() {
    let server = Server::start(&config(""));
    let wrong = "wrong-key-0123456789-abcdefghijklmnop";
    let limit = affiliate_server::throttle::FAILURES_PER_WINDOW as usize;
    let mut statuses = std::collections::BTreeMap::new();
    let mut first_429 = None;
    for i in 0..10_000 {
        let r = server.get(
            "/v1/stats",
            &[("Authorization", &format!("Bearer {wrong}"))],
        );
        *statuses.entry(r.status).or_insert(0) += 1;
        if r.status == 429 && first_429.is_none() {
            first_429 = Some(i);
            let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=60).contains(&secs), "{secs}");
            assert_eq!(r.code(), "unauthorized");
        }
    }
    assert_eq!(first_429, Some(limit), "{statuses:?}");
    assert_eq!(statuses.get(&401), Some(&limit));
    assert_eq!(statuses.get(&429), Some(&(10_000 - limit)));
    // The throttled address is refused even with the right key; another address is
    // answered at once, and a partner key's failures count the same way.
    let right = server.get("/v1/stats", &[AUTH]);
    assert_eq!(right.status, 429);
    let started = std::time::Instant::now();
    let (status, _) = from_address(&server, "127.0.0.2", "/v1/stats", API_KEY);
    assert_eq!(status, 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    let (status, _) = from_address(&server, "127.0.0.2", "/v1/partner/me", "pk_wrong");
    assert_eq!(status, 401);
    // One log line for the address, without the key; /metrics counts every one.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let log = server.log();
    assert_eq!(
        log.matches("too many wrong keys from one address").count(),
        1,
        "{log}"
    );
    assert!(!log.contains(wrong));
    let (_, metrics) = from_address(&server, "127.0.0.3", "/metrics", API_KEY);
    assert!(
        metrics.contains(&format!(
            "affiliate_refusals_total{{kind=\"credentials\",code=\"api_key\"}} {limit}"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("kind=\"credentials\",code=\"throttled\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("kind=\"credentials\",code=\"partner_key\"} 1"),
        "{metrics}"
    );
}
