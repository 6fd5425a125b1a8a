//! Serving: opens the store the config names, builds the tracker and the app, runs one
//! single-threaded runtime per core on a shared port, and on SIGINT or SIGTERM stops
//! accepting, finishes the requests in flight and flushes the store.

use std::net::SocketAddr;
use std::sync::Arc;

use affiliate_sdk::{PostgresStore, SledStore, Store};

use crate::app::{self, AppState};
use crate::config::Config;

/// How often pending conversions past `approve_after_days` are approved, in seconds.
pub const APPROVE_EVERY_SECS: u64 = 60;

/// An error of the command line: printed after `affiliate-server: `.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Serves the tracker `config` describes until SIGINT or SIGTERM; `demo` adds the
/// demo shop pages. Prints `listening on http://ADDR` once every worker listens.
pub fn serve(config: Config, demo: bool) -> Result<(), BoxError> {
    let store: Arc<dyn Store> = match &config.store_url {
        Some(url) => Arc::new(
            PostgresStore::open_with(url, config.store_ca.as_deref(), &config.store_limits)
                .map_err(|e| format!("cannot open the PostgreSQL store ([store] url): {e}"))?,
        ),
        None => {
            let path = config.data_dir.join("sled");
            Arc::new(
                SledStore::open_with(&path, &config.store_limits)
                    .map_err(|e| format!("cannot open the store in {}: {e}", path.display()))?,
            )
        }
    };
    let tracker = config.tracker(store)?;
    let state = Arc::new(AppState::new(
        tracker,
        &config.api_keys,
        &config.public_path,
        demo,
    ));
    let service = app::service(state.clone(), config.allowed_origins.clone());
    // Changes made through another server on the same store are taken up within a
    // second: the click path reads only the snapshot.
    {
        let state = Arc::downgrade(&state);
        std::thread::Builder::new()
            .name("affiliate-program".into())
            .spawn(move || {
                while let Some(state) = state.upgrade() {
                    if let Err(e) = state.tracker.refresh() {
                        tracing::warn!(error = %e, "could not reload campaigns and partners");
                    }
                    drop(state);
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            })?;
    }
    // Events: the outbox fanned out and deliveries sent, by every server (a lease
    // keeps two from sending one delivery at once).
    crate::events::spawn_delivery(
        Arc::downgrade(&state),
        config.events.allow_private_destinations,
    )?;
    // Pending conversions past their campaign's `approve_after_days` are approved
    // every minute; with several servers each tries, and each conversion is approved
    // once (a compare-and-swap in the store). Click records older than
    // `click_retention_days` are pruned at start and then once an hour.
    {
        let state = Arc::downgrade(&state);
        let retention = config.click_retention_days;
        std::thread::Builder::new()
            .name("affiliate-maintenance".into())
            .spawn(move || {
                let mut pruned_at: Option<std::time::Instant> = None;
                loop {
                    let Some(live) = state.upgrade() else { break };
                    if pruned_at.is_none_or(|t| t.elapsed() >= crate::events::PRUNE_EVERY) {
                        pruned_at = Some(std::time::Instant::now());
                        prune_clicks(&live.tracker, retention);
                    }
                    drop(live);
                    std::thread::sleep(std::time::Duration::from_secs(APPROVE_EVERY_SECS));
                    let Some(live) = state.upgrade() else { break };
                    match live.tracker.approve_due() {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(
                            approved = n,
                            "approved conversions past approve_after_days"
                        ),
                        Err(e) => tracing::warn!(error = %e, "could not approve due conversions"),
                    }
                }
            })?;
    }
    // One single-threaded runtime per core, each with its own listening socket on the
    // same port (SO_REUSEPORT: the kernel spreads connections evenly), nginx's worker
    // model: a request never hops threads.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let bind = |addr: SocketAddr| -> std::io::Result<tokio::net::TcpSocket> {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        #[cfg(unix)]
        socket.set_reuseport(true)?;
        socket.bind(addr)?;
        Ok(socket)
    };
    let cannot = |e: std::io::Error| format!("cannot listen on {}: {e}", config.listen);
    // A plain bind first: a port already in use (say, by a demo started earlier) is an
    // error, not silently shared. Port 0 picks a free port here; the workers join it.
    let addr = std::net::TcpListener::bind(config.listen)
        .and_then(|probe| probe.local_addr())
        .map_err(cannot)?;
    let sockets = (0..workers)
        .map(|_| bind(addr))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(cannot)?;
    let (front, cap) = crate::front::Front::new(config.max_connections, config.shutdown_grace);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Each worker reports once its socket listens: "listening on" is printed only then.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
    let mut threads = Vec::new();
    for (i, socket) in sockets.into_iter().enumerate() {
        let service = service.clone();
        let stop = stop_rx.clone();
        let front = front.clone();
        let ready = ready_tx.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        threads.push(
            std::thread::Builder::new()
                .name(format!("http-{i}"))
                .spawn(move || {
                    runtime.block_on(async move {
                        let listener = match socket.listen(1024) {
                            Ok(l) => {
                                let _ = ready.send(Ok(()));
                                l
                            }
                            Err(e) => {
                                let _ =
                                    ready.send(Err(std::io::Error::new(e.kind(), e.to_string())));
                                return Err(e);
                            }
                        };
                        crate::front::serve(listener, service, front, stop).await;
                        Ok::<(), std::io::Error>(())
                    })
                })?,
        );
    }
    drop(ready_tx);
    for _ in 0..workers {
        ready_rx
            .recv()
            .map_err(|_| "an HTTP worker stopped before listening")?
            .map_err(cannot)?;
    }
    // Tests and scripts read this line to learn the port.
    println!("listening on http://{addr}");
    tracing::info!(%addr, workers, max_connections = cap, public_url = %config.public_url, "serving");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            tokio::spawn(report_every_minute(state.clone()));
            shutdown_signal().await;
        });
    let _ = stop_tx.send(true);
    // Each worker returns within the grace period (it drops what is still open then).
    for t in threads {
        t.join().map_err(|_| "an HTTP worker panicked")??;
    }
    // Pending clicks are batched in memory: write them before exiting.
    let flushed = state.tracker.flush();
    let dropped = state.tracker.store().dropped();
    let [clicks, impressions, conversions] = state.refused.totals();
    tracing::info!(
        dropped_connections = front.open_connections(),
        dropped_clicks = dropped.clicks,
        dropped_impressions = dropped.impressions,
        refused_clicks = clicks,
        refused_impressions = impressions,
        refused_conversions = conversions,
        "stopped"
    );
    flushed?;
    tracing::info!("store flushed");
    Ok(())
}

/// Logs, once a minute, what the last minute dropped (clicks and impressions a full
/// buffer could not keep) and refused (public requests that credited nobody), when
/// anything: a flood costs the log a line a minute, not one per request.
async fn report_every_minute(state: Arc<AppState>) {
    let mut last_dropped = affiliate_sdk::store::Dropped::default();
    let mut last_refused = [0u64; 3];
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    tick.tick().await;
    loop {
        tick.tick().await;
        let dropped = state.tracker.store().dropped();
        let refused = state.refused.totals();
        if dropped != last_dropped {
            tracing::warn!(
                clicks = dropped.clicks - last_dropped.clicks,
                impressions = dropped.impressions - last_dropped.impressions,
                total_clicks = dropped.clicks,
                "the click buffer was full: clicks redirected with their token but not recorded"
            );
        }
        if refused != last_refused {
            tracing::info!(
                clicks = refused[0] - last_refused[0],
                impressions = refused[1] - last_refused[1],
                conversions = refused[2] - last_refused[2],
                "refused public requests in the last minute"
            );
        }
        (last_dropped, last_refused) = (dropped, refused);
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT: stopping"),
        () = term => tracing::info!("SIGTERM: stopping"),
    }
}

/// Prunes click records past the retention, a batch at a time.
fn prune_clicks(tracker: &affiliate_sdk::Tracker, retention_days: u32) {
    let mut removed = 0;
    loop {
        match tracker.prune_clicks(retention_days) {
            Ok(n) => {
                removed += n;
                if n < affiliate_sdk::PRUNE_CLICKS_MAX {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not prune old clicks");
                break;
            }
        }
    }
    if removed > 0 {
        tracing::info!(
            removed,
            retention_days,
            "click records past the retention pruned"
        );
    }
}
