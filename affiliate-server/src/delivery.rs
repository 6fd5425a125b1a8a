//! Outbound events in the server: the `[events]` and `[[webhook]]` config sections, the
//! HTTP client that sends deliveries (10 s timeout, no redirects, connecting only to
//! addresses the destination guard allows, through the configured proxy only), and the
//! thread that delivers.

use std::sync::{Arc, Weak};
use std::time::Duration;

use affiliate_sdk::outbound::{Webhook, WebhookRequest, WebhookSecret, is_inward};
use affiliate_sdk::{OutboundRequest, Transport};
use serde::Deserialize;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::app::AppState;

/// A request's whole time limit.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How often an idle delivery thread looks at the outbox.
pub const POLL: Duration = Duration::from_millis(100);

/// How often deliveries over for 30 days are pruned.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// How many threads send deliveries (each its own request at a time).
pub const SENDERS: usize = 8;

/// How many deliveries a sending thread leases per round.
pub const PER_ROUND: usize = 4;

/// `[events]`.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsSection {
    /// Lets events go to loopback, private, link-local and other inward addresses
    /// (tests, intranets). Default `false`.
    #[serde(default)]
    pub allow_private_destinations: bool,
    /// The proxy every outbound request goes through (`http://host:port`, credentials
    /// allowed: `http://user:pass@host:port`). Default none: straight to the
    /// destination, whatever `HTTPS_PROXY`, `HTTP_PROXY` or `ALL_PROXY` say.
    #[serde(default)]
    pub proxy: Option<String>,
}

impl std::fmt::Debug for EventsSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A proxy URL may carry credentials.
        f.debug_struct("EventsSection")
            .field(
                "allow_private_destinations",
                &self.allow_private_destinations,
            )
            .field("proxy", &self.proxy.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl EventsSection {
    /// The configured proxy, checked: `None` when none is configured.
    pub fn proxy(&self) -> Result<Option<ureq::Proxy>, String> {
        let Some(text) = &self.proxy else {
            return Ok(None);
        };
        let url = url::Url::parse(text).map_err(|e| format!("not an absolute URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https")
            || url.host().is_none()
            || url.path() != "/"
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err("expected http://host:port or https://host:port".into());
        }
        // ureq's own message may repeat the URL, credentials included: not shown.
        ureq::Proxy::new(text)
            .map(Some)
            .map_err(|_| "not a proxy ureq can use".into())
    }
}

/// One `[[webhook]]` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSection {
    id: String,
    url: String,
    /// The signing secret (`whsec_…`), or `secret_file`.
    #[serde(default)]
    pub(crate) secret: Option<String>,
    /// A file holding the signing secret.
    #[serde(default)]
    pub(crate) secret_file: Option<std::path::PathBuf>,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    description: String,
}

impl std::fmt::Debug for WebhookSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSection")
            .field("id", &self.id)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl WebhookSection {
    /// The endpoint with `secret` (from `secret` or `secret_file`), checked by the core
    /// (made at time 0: the file has no creation time).
    pub fn webhook(&self, secret: &str) -> Result<Webhook, affiliate_sdk::Error> {
        let req = WebhookRequest {
            id: Some(self.id.clone()),
            url: self.url.clone(),
            events: self.events.clone(),
            description: Some(self.description.clone()),
        };
        Webhook::new(&req, WebhookSecret::parse(secret)?, 0)
    }
}

/// The default resolver, refusing names that resolve inward unless allowed: the
/// address the request connects to is the one checked (a name that resolves outward
/// when checked and inward when connecting is refused too).
#[derive(Debug)]
struct GuardResolver {
    allow_private: bool,
    inner: DefaultResolver,
}

impl Resolver for GuardResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let found = self.inner.resolve(uri, config, timeout)?;
        if !self.allow_private && found.iter().any(|a| is_inward(a.ip())) {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "the destination resolves to an inward address",
            )));
        }
        Ok(found)
    }
}

/// The HTTP client deliveries go through.
pub struct HttpTransport {
    agent: ureq::Agent,
    /// Through a proxy, the destination is checked before each request (the resolver
    /// then only finds the proxy).
    check_destination: Option<bool>,
}

impl HttpTransport {
    /// A client that follows no redirect, gives up after [`SEND_TIMEOUT`] and, unless
    /// `allow_private`, reaches no inward address. It goes through `proxy` when one is
    /// given, and never through one the environment names (`HTTPS_PROXY`, `ALL_PROXY`):
    /// through a proxy, the destination's own addresses are checked before each request
    /// (the proxy itself may be inward: it is the operator's).
    #[must_use]
    pub fn new(allow_private: bool, proxy: Option<ureq::Proxy>) -> HttpTransport {
        let through_proxy = proxy.is_some();
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(SEND_TIMEOUT))
            .max_redirects(0)
            .http_status_as_error(false)
            .proxy(proxy)
            .build();
        let resolver = GuardResolver {
            allow_private: allow_private || through_proxy,
            inner: DefaultResolver::default(),
        };
        HttpTransport {
            agent: ureq::Agent::with_parts(config, DefaultConnector::default(), resolver),
            check_destination: through_proxy.then_some(allow_private),
        }
    }
}

impl HttpTransport {
    /// Through a proxy, whether `url`'s own addresses may be reached (the guard's
    /// answer as an error message); without one, the resolver checks at connection.
    pub fn check_through_proxy(&self, url: &str) -> Result<(), String> {
        let Some(allow_private) = self.check_destination else {
            return Ok(());
        };
        affiliate_sdk::outbound::check_destination(url, allow_private, |host, port| {
            use std::net::ToSocketAddrs;
            Ok((host, port).to_socket_addrs()?.map(|a| a.ip()).collect())
        })
        .map(|_| ())
        .map_err(|e| e.to_string())
    }
}

impl Transport for HttpTransport {
    // Concurrency comes from the sending threads: one request after another here.
    fn run_all(
        &self,
        n: usize,
        work: &(dyn Fn(usize) -> affiliate_sdk::SendOutcome + Sync),
    ) -> Vec<affiliate_sdk::SendOutcome> {
        (0..n).map(work).collect()
    }

    fn send(&self, req: &OutboundRequest) -> Result<u16, String> {
        self.check_through_proxy(&req.url)?;
        let answer = match &req.body {
            Some(body) => {
                let mut r = self.agent.post(&req.url);
                for (k, v) in &req.headers {
                    r = r.header(k.as_str(), v.as_str());
                }
                r.send(body.as_str())
            }
            None => {
                let mut r = self.agent.get(&req.url);
                for (k, v) in &req.headers {
                    r = r.header(k.as_str(), v.as_str());
                }
                r.call()
            }
        };
        match answer {
            Ok(resp) => Ok(resp.status().as_u16()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Runs a delivery loop on this thread while `keep_going`: one loop (`fan_out`) also
/// fans the outbox out; the others only send. Idle, the one that fans out waits for
/// this server's next event (at most [`POLL`]); the others wait [`POLL`].
pub fn delivery_loop(
    tracker: &affiliate_sdk::Tracker,
    metrics: &crate::metrics::Metrics,
    transport: &HttpTransport,
    fan_out: bool,
    keep_going: impl Fn() -> bool,
) {
    while keep_going() {
        let round = if fan_out {
            tracker.deliver(transport, PER_ROUND)
        } else {
            tracker.send_due(transport, PER_ROUND)
        };
        if let Ok(r) = &round {
            let retrying = r.sent.saturating_sub(r.delivered + r.failed);
            for (result, n) in [
                ("delivered", r.delivered),
                ("failed", r.failed),
                ("retrying", retrying),
            ] {
                if n > 0 {
                    metrics
                        .deliveries
                        .get_or_create(&crate::metrics::Outcome { result })
                        .inc_by(n as u64);
                }
            }
        }
        match round {
            Ok(r) if r.sent > 0 || r.fanned_out > 0 => {
                if r.failed > 0 {
                    tracing::warn!(
                        failed = r.failed,
                        "deliveries failed for good after 3 days of retries"
                    );
                }
            }
            // The loop that fans out wakes as soon as this server writes an event;
            // the others (retries, and events another server wrote) poll.
            Ok(_) if fan_out => {
                tracker.wait_for_events(POLL);
            }
            Ok(_) => std::thread::sleep(POLL),
            Err(e) => {
                tracing::warn!(error = %e, "could not deliver events");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// Starts [`SENDERS`] delivery threads (one of them fans out) while the server runs;
/// the core's housekeeping prunes the log.
pub fn spawn_delivery(
    state: Weak<AppState>,
    allow_private: bool,
    proxy: Option<ureq::Proxy>,
) -> std::io::Result<()> {
    let transport = Arc::new(HttpTransport::new(allow_private, proxy));
    for n in 0..SENDERS {
        let (state, transport) = (state.clone(), transport.clone());
        std::thread::Builder::new()
            .name(format!("affiliate-events-{n}"))
            .spawn(move || {
                let alive = || state.strong_count() > 0;
                while let Some(s) = state.upgrade() {
                    // A while of rounds, then let go of the state (so shutdown can
                    // drop it) and look again.
                    let until = std::time::Instant::now() + Duration::from_secs(1);
                    delivery_loop(&s.tracker, &s.metrics, &transport, n == 0, || {
                        alive() && std::time::Instant::now() < until
                    });
                }
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn through_a_proxy_the_destination_is_checked_not_the_proxy() {
        // The proxy itself is inward (the operator's), and allowed.
        let proxy = ureq::Proxy::new("http://127.0.0.1:3128").unwrap();
        let t = HttpTransport::new(false, Some(proxy.clone()));
        for inward in [
            "http://127.0.0.1:8080/hook",
            "http://[::ffff:10.0.0.1]/",
            "http://[64:ff9b:1::a00:1]/",
            "http://localhost/",
        ] {
            assert!(t.check_through_proxy(inward).is_err(), "{inward}");
        }
        assert_eq!(t.check_through_proxy("http://93.184.216.34/hook"), Ok(()));
        // Allowed private destinations, or no proxy: nothing to check here.
        let open = HttpTransport::new(true, Some(proxy));
        assert_eq!(open.check_through_proxy("http://127.0.0.1:8080/"), Ok(()));
        let direct = HttpTransport::new(false, None);
        assert_eq!(direct.check_through_proxy("http://127.0.0.1:8080/"), Ok(()));
    }

    #[test]
    fn a_proxy_is_an_http_url_and_its_credentials_never_show() {
        let events = |proxy: &str| EventsSection {
            allow_private_destinations: false,
            proxy: Some(proxy.to_owned()),
        };
        assert!(
            events("http://user:secret@proxy.internal:3128")
                .proxy()
                .is_ok()
        );
        for bad in [
            "proxy.internal:3128",
            "ftp://p:21",
            "http://p:3128/path",
            "http://:1",
            "http://u:secret@",
        ] {
            let e = events(bad).proxy().unwrap_err();
            assert!(!e.contains("secret"), "{e}");
        }
        let shown = format!("{:?}", events("http://user:secret@proxy.internal:3128"));
        assert!(
            !shown.contains("secret") && !shown.contains("user"),
            "{shown}"
        );
    }
}
