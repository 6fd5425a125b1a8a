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
    // The core's housekeeping, ticked every second: changes made through another
    // server on the same store are taken up within a second (the click path reads only
    // the snapshot); pending conversions past their campaign's `approve_after_days` are
    // approved every minute (with several servers each tries, and each conversion is
    // approved once: a compare-and-swap in the store); click records older than
    // `click_retention_days` and old delivery logs are pruned at start and then once an
    // hour. Events are sent by the delivery threads below.
    {
        let state = Arc::downgrade(&state);
        let mut schedule = affiliate_sdk::HousekeepingSchedule::default();
        schedule.approve_every = std::time::Duration::from_secs(APPROVE_EVERY_SECS);
        schedule.prune_every = crate::delivery::PRUNE_EVERY;
        schedule.click_retention_days = config.click_retention_days;
        let mut chores = affiliate_sdk::Housekeeping::new(schedule)?;
        std::thread::Builder::new()
            .name("affiliate-housekeeping".into())
            .spawn(move || {
                while let Some(live) = state.upgrade() {
                    log_chores(&chores.tick(&live.tracker, None), chores.schedule());
                    drop(live);
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            })?;
    }
    // The store's health and the outbox's depth for /metrics, which never waits for
    // the store.
    crate::metrics::watch_store(Arc::downgrade(&state))?;
    // Events: the outbox fanned out and deliveries sent, by every server (a lease
    // keeps two from sending one delivery at once).
    crate::delivery::spawn_delivery(
        Arc::downgrade(&state),
        config.events.allow_private_destinations,
        config.events.proxy().map_err(std::io::Error::other)?,
    )?;
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

/// Logs what a housekeeping tick did, when it did anything.
fn log_chores(done: &affiliate_sdk::ChoresDone, schedule: &affiliate_sdk::HousekeepingSchedule) {
    if done.approved > 0 {
        tracing::info!(
            approved = done.approved,
            "approved conversions past approve_after_days"
        );
    }
    if done.traffic.written > 0 || done.traffic.approved > 0 {
        tracing::info!(
            days = done.traffic.days,
            written = done.traffic.written,
            approved = done.traffic.approved,
            "click and impression earnings written to the ledger"
        );
    }
    if done.clicks_pruned > 0 {
        tracing::info!(
            removed = done.clicks_pruned,
            retention_days = schedule.click_retention_days,
            "click records past the retention pruned"
        );
    }
    if done.deliveries_pruned > 0 {
        tracing::info!(removed = done.deliveries_pruned, "old deliveries pruned");
    }
    for (chore, e) in &done.failed {
        tracing::warn!(chore = chore.as_str(), error = %e, "a housekeeping chore failed");
    }
}
