//! Starts the real `affiliate-server` binary on a free loopback port and talks HTTP to
//! it.

#![allow(dead_code)] // each test file uses its own part

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use affiliate_sdk::{Key, Keyring};

pub mod inproc;
pub mod receiver;

pub const BIN: &str = env!("CARGO_BIN_EXE_affiliate-server");

/// The API key of [`config`].
pub const API_KEY: &str = "test-api-key-0123456789abcdef";

/// The signing key of [`config`] (32 bytes, base64url).
pub fn signing_key() -> String {
    Key::from_bytes(&[7u8; 32]).unwrap().to_base64()
}

/// The keyring the server signs with, so tests can mint and read tokens.
pub fn keyring() -> Keyring {
    Keyring::from_base64([("k1", signing_key().as_str())], "k1").unwrap()
}

/// A config on port 0: haircare (USD, 10 %, lead 2.00, click 0.01, 1.50 per mille,
/// overrides 10/5, last click) and skincare (EUR, flat 5.00, first click), both taking
/// signed browser conversions only (the default); beauty (USD, 10 %, unsigned browser
/// conversions up to 100.00, 3 per click) and postonly (USD, no browser conversions);
/// partners boss1 ← abc123 (coupon ABC10) and solo; CORS for https://shop.example.
pub fn config(extra_server: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
public_url = "http://t.shop.example"
data_dir = "data"
api_keys = ["{API_KEY}"]
allowed_origins = ["https://shop.example"]
{extra_server}

[keys]
current = "k1"
k1 = "{key}"

[[campaign]]
code = "haircare"
destination = "https://shop.example/hair?utm_source=aff"
cookie_days = 28
currency = "USD"
sale_percent = "10"
lead_flat = "2.00"
click_flat = "0.01"
impression_per_mille = "1.50"
override_percents = ["10", "5"]

[[campaign]]
code = "skincare"
destination = "https://shop.example/skin"
cookie_days = 7
attribution = "first"
currency = "EUR"
sale_flat = "5.00"

[[campaign]]
code = "beauty"
destination = "https://shop.example/beauty"
currency = "USD"
sale_percent = "10"
browser_conversions = "open"
max_browser_amount = "100.00"

[[campaign]]
code = "postonly"
destination = "https://shop.example/post"
currency = "USD"
sale_percent = "10"
browser_conversions = "off"

[[partner]]
code = "abc123"
parent = "boss1"
coupons = ["ABC10"]

[[partner]]
code = "boss1"

[[partner]]
code = "solo"
"#,
        key = signing_key()
    )
}

/// Waits until `f` holds, looking every 50 ms; fails naming `what` after `limit`.
#[allow(dead_code)]
pub fn wait_until(what: &str, limit: Duration, f: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running server; killed when dropped.
pub struct Server {
    pub dir: tempfile::TempDir,
    pub base: String,
    child: Child,
    agent: ureq::Agent,
}

/// A response: status, headers (lower-case names) and body.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The error code of an error answer.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

impl Server {
    /// Writes `config_text` into a fresh directory and serves it.
    pub fn start(config_text: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("affiliate.toml"), config_text).unwrap();
        Server::start_in(dir)
    }

    /// [`Server::start`] under a soft open-files limit of `soft_nofile` (the server
    /// raises it to the hard limit itself), logging at `info`.
    pub fn start_limited(config_text: &str, soft_nofile: u64) -> Server {
        Server::start_under(config_text, &format!("ulimit -Sn {soft_nofile}"))
    }

    /// [`Server::start`] under a hard (and soft) open-files limit of `nofile`: the
    /// server cannot raise it, so its connection cap is `nofile` less its reserve.
    #[allow(dead_code)]
    pub fn start_hard_limited(config_text: &str, nofile: u64) -> Server {
        Server::start_under(
            config_text,
            &format!("ulimit -Sn {nofile} && ulimit -Hn {nofile}"),
        )
    }

    /// The server started by `sh` after `limits` (`ulimit` commands), logging at `info`.
    fn start_under(config_text: &str, limits: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("affiliate.toml"), config_text).unwrap();
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("{limits} && exec \"$0\" serve --config \"$1\""))
            .arg(BIN)
            .arg(dir.path().join("affiliate.toml"))
            .env("RUST_LOG", "info");
        Server::spawn(dir, cmd)
    }

    /// [`Server::start`] with these environment variables set for the server.
    #[allow(dead_code)]
    pub fn start_with_env(config_text: &str, env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("affiliate.toml"), config_text).unwrap();
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--config"])
            .arg(dir.path().join("affiliate.toml"))
            .env("RUST_LOG", "debug")
            .envs(env.iter().copied());
        Server::spawn(dir, cmd)
    }

    /// Serves `affiliate.toml` of `dir` (written by the caller, with any files it names).
    pub fn start_in(dir: tempfile::TempDir) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--config"])
            .arg(dir.path().join("affiliate.toml"))
            .env("RUST_LOG", "debug");
        Server::spawn(dir, cmd)
    }

    fn spawn(dir: tempfile::TempDir, mut cmd: Command) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.path().join("server.log"))
            .unwrap();
        let mut child = cmd.stdout(Stdio::piped()).stderr(log).spawn().unwrap();
        let base = wait_for_listening(&mut child, &dir.path().join("server.log"));
        Server {
            dir,
            base,
            child,
            agent: agent(),
        }
    }

    /// The server's process id.
    /// The server's resident memory, KiB.
    #[allow(dead_code)]
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap()
    }

    /// Stops with `signal` (TERM or INT: pending clicks are flushed), waits, and starts
    /// again on the same directory.
    pub fn restart(mut self, signal: &str) -> Server {
        self.terminate(signal);
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Server::start_in(dir)
    }

    /// Kills the process with SIGKILL (nothing is flushed, no handler runs), waits for
    /// it, and starts again on the same directory.
    pub fn crash_and_restart(mut self) -> Server {
        let _ = self.child.kill(); // may be dead already (killed by pid)
        self.child.wait().unwrap();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Server::start_in(dir)
    }

    /// Sends `signal` (`TERM`, `INT`) and waits; panics unless the server exits
    /// successfully within 10 s. Returns how long it took.
    pub fn terminate(&mut self, signal: &str) -> Duration {
        let start = std::time::Instant::now();
        let pid = self.child.id().to_string();
        let flag = format!("-{signal}");
        assert!(
            Command::new("kill")
                .args([flag.as_str(), &pid])
                .status()
                .unwrap()
                .success()
        );
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "server exited with {status}: {}",
                    self.log()
                );
                return start.elapsed();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not stop on {signal}");
    }
}

impl Server {
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let url = self.url(path);
        macro_rules! with_headers {
            ($req:expr) => {{
                let mut req = $req;
                for (n, v) in headers {
                    req = req.header(*n, *v);
                }
                req
            }};
        }
        match method {
            "GET" => with_headers!(self.agent.get(&url)).call(),
            "HEAD" => with_headers!(self.agent.head(&url)).call(),
            "OPTIONS" => with_headers!(self.agent.options(&url)).call(),
            "POST" => with_headers!(self.agent.post(&url)).send(body),
            "PATCH" => with_headers!(self.agent.patch(&url)).send(body),
            "DELETE" => with_headers!(self.agent.delete(&url)).call(),
            other => panic!("no {other} in the test client"),
        }
    }

    /// Like [`Http::send`], `None` when the connection fails (the server is gone).
    pub fn try_send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Option<Resp> {
        let mut r = self.request(method, path, headers, body).ok()?;
        let bytes = r.body_mut().read_to_vec().ok()?;
        Some(resp_of(r.status().as_u16(), r.headers(), &bytes))
    }
}

impl Http for Server {
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        into_resp(self.request(method, path, headers, body))
    }
}

/// An HTTP client of the app: the real binary ([`Server`]) or the app in this process
/// ([`inproc::App`]). The tests are written once against it.
pub trait Http {
    /// Sends one request and reads the whole answer.
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp;

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.send("GET", path, headers, "")
    }

    fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        self.send("POST", path, headers, body)
    }

    fn head(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.send("HEAD", path, headers, "")
    }

    fn options(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.send("OPTIONS", path, headers, "")
    }

    /// POST with the API key.
    fn api_post(&self, path: &str, body: &serde_json::Value) -> Resp {
        self.post(path, &[AUTH], &body.to_string())
    }

    /// GET with the API key.
    fn api_get(&self, path: &str) -> Resp {
        self.get(path, &[AUTH])
    }

    /// `/v1/stats` rows for `query`.
    fn stats(&self, query: &str) -> Vec<serde_json::Value> {
        let r = self.api_get(&format!("/v1/stats?{query}"));
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["rows"].as_array().unwrap().clone()
    }

    /// Totals over everything (stats with no grouping; no rows before any data).
    fn totals(&self) -> serde_json::Value {
        let rows = self.stats("");
        assert!(rows.len() <= 1);
        rows.first().cloned().unwrap_or_else(|| {
            serde_json::json!({"clicks": 0, "unique_clicks": 0, "impressions": 0, "leads": 0,
                               "sales": 0, "revenue": {}, "commission": {}})
        })
    }

    /// Clicks a link; returns the token and the response.
    fn click(&self, link_path: &str, cookie_token: Option<&str>) -> (Option<String>, Resp) {
        let cookie = cookie_token.map(|t| format!("aff_token={t}"));
        let headers: Vec<(&str, &str)> = cookie.iter().map(|c| ("Cookie", c.as_str())).collect();
        let r = self.get(link_path, &headers);
        let token = r.header("set-cookie").map(|c| {
            c.strip_prefix("aff_token=")
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned()
        });
        (token, r)
    }
}

pub const AUTH: (&str, &str) = ("Authorization", "Bearer test-api-key-0123456789abcdef");

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the test clients send as `User-Agent` unless a test sends its own: a current
/// desktop Chrome's (a bot's clicks earn nothing).
pub const BROWSER_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .user_agent(BROWSER_UA)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn into_resp(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Resp {
    let mut r = r.unwrap();
    let body = r.body_mut().read_to_vec().unwrap();
    resp_of(r.status().as_u16(), r.headers(), &body)
}

/// A response as the tests see it: status, headers (lower-case names) and the body as
/// text, or `<N bytes of gif>` for the pixel.
pub fn resp_of(status: u16, headers: &ureq::http::HeaderMap, body: &[u8]) -> Resp {
    let is_gif = headers
        .get("content-type")
        .is_some_and(|v| v.as_bytes() == b"image/gif");
    Resp {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().unwrap_or("<binary>").to_owned(),
                )
            })
            .collect(),
        body: if is_gif {
            format!("<{} bytes of gif>", body.len())
        } else {
            String::from_utf8_lossy(body).into_owned()
        },
    }
}

/// Reads the child's stdout until "listening on http://…"; the rest of stdout is
/// drained in the background.
pub fn wait_for_listening(child: &mut Child, log: &Path) -> String {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let Ok(line) = line else { return };
            if let Some(addr) = line.strip_prefix("listening on ") {
                let _ = tx.send(addr.to_owned());
                break;
            }
        }
        for _ in lines {}
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(base) => base,
        Err(_) => {
            let _ = child.kill();
            panic!(
                "server did not start: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
    }
}

/// Runs the binary with `args` to completion: (success, stdout, stderr).
pub fn run(args: &[&str], cwd: Option<&Path>) -> (bool, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The path and query of a full link URL.
pub fn path_of(url: &str) -> String {
    let after = url.split_once("://").unwrap().1;
    after[after.find('/').unwrap()..].to_owned()
}

/// The config file of a server directory.
pub fn config_path(dir: &Path) -> PathBuf {
    dir.join("affiliate.toml")
}

/// A fresh database in the test cluster; its URL.
#[allow(dead_code)]
pub fn fresh_database() -> String {
    let url = std::env::var("AFFILIATE_TEST_POSTGRES_URL").expect(
        "AFFILIATE_TEST_POSTGRES_URL must name a PostgreSQL database for this test \
         (./scripts/test starts one with scripts/pg-cluster)",
    );
    let name = format!(
        "affiliate_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}
