//! The app in this process, over a `MemoryStore`: for endpoint tests where a real
//! binary and a socket add nothing. Requests go through the same service the server
//! serves (`app::service`).

use std::path::Path;
use std::sync::Arc;

use affiliate_sdk::{MemoryStore, Store};
use affiliate_server::app::{self, AppState};
use affiliate_server::config::Config;
use axum::body::Body;
use axum::extract::Request;
use tower::ServiceExt as _;
use tower::util::BoxCloneService;

use super::{Http, Resp};

pub struct App {
    pub state: Arc<AppState>,
    service: BoxCloneService<Request, axum::response::Response, std::convert::Infallible>,
    runtime: tokio::runtime::Runtime,
}

impl App {
    /// The app for `config_text` (see [`super::config`]) with a fresh memory store.
    pub fn new(config_text: &str) -> App {
        let config = Config::parse(Path::new("test.toml"), config_text).unwrap();
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let tracker = config.tracker(store).unwrap();
        let state = Arc::new(AppState::new(
            tracker,
            &config.api_keys,
            &config.public_path,
            false,
        ));
        let service = BoxCloneService::new(app::service(state.clone(), config.allowed_origins));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        App {
            state,
            service,
            runtime,
        }
    }

    /// Clicks and impressions counted so far, over every day.
    pub fn counted(&self) -> (u64, u64) {
        let store = self.state.tracker.store();
        store.flush().unwrap();
        store
            .counters(0, u32::MAX, None)
            .unwrap()
            .values()
            .fold((0, 0), |(c, i), v| (c + v.clicks, i + v.impressions))
    }
}

impl Http for App {
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        // A browser's user agent unless the test sends its own (a bot's clicks earn
        // nothing).
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
        {
            req = req.header("User-Agent", super::BROWSER_UA);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let req = req.body(Body::from(body.to_owned())).unwrap();
        let service = self.service.clone();
        self.runtime.block_on(async move {
            let resp = service.oneshot(req).await.unwrap();
            let (parts, body) = resp.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            super::resp_of(parts.status.as_u16(), &parts.headers, &bytes)
        })
    }
}
