//! `affiliate-server`: the tracking server of affiliate-sdk. See `--help` and the
//! README; the HTTP contract is in DESIGN.md.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use affiliate_sdk::{Key, PostgresStore, SledStore, Store};
use clap::{Parser, Subcommand};

use affiliate_server::app::{self, AppState};
use affiliate_server::config::{self, Config};

/// mimalloc: per-thread heaps, no arena lock between the HTTP workers (the click path
/// allocates a token, a cookie and a redirect per request).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The affiliate-sdk tracking server: signed-link redirects, pixels, postbacks, stats
/// and a dashboard.
#[derive(Parser)]
#[command(name = "affiliate-server", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes a config with fresh keys and demo campaigns into DIR on the first run,
    /// prints sample links, the dashboard URL and the API key, and serves.
    Demo {
        /// Address to listen on (the first run writes it into the config).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Directory of the config and the data.
        #[arg(long, default_value = "./affiliate-data")]
        data: PathBuf,
    },
    /// Serves the tracker a config file describes.
    Serve {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Prints a signed tracking link. Needs only the config: it works while a server
    /// runs.
    Link {
        /// The TOML config file.
        #[arg(long)]
        config: PathBuf,
        /// Campaign code.
        #[arg(long)]
        campaign: String,
        /// Partner code.
        #[arg(long)]
        partner: String,
        /// Ad code.
        #[arg(long)]
        ad: Option<String>,
        /// The partner's sub-id (unsigned).
        #[arg(long)]
        sid: Option<String>,
    },
    /// Prints a new random key (32 bytes, base64url): for `[keys]` or `api_keys`.
    Keygen,
}

/// The config file `demo` writes and reads inside its data directory.
const DEMO_CONFIG: &str = "affiliate.toml";
const DEMO_LISTEN: &str = "127.0.0.1:8080";

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("affiliate-server: {e}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn run(command: Command) -> Result<(), BoxError> {
    match command {
        Command::Keygen => {
            println!("{}", Key::generate()?.to_base64());
            Ok(())
        }
        Command::Link {
            config,
            campaign,
            partner,
            ad,
            sid,
        } => {
            let config = Config::load(&config)?;
            // Refuse links the server would not honour: unknown codes, bad sid.
            let tracker = config.tracker(Arc::new(affiliate_sdk::MemoryStore::new()))?;
            if tracker.campaign(&campaign).is_none() {
                return Err(
                    format!("unknown campaign {campaign:?} in {}", config.file.display()).into(),
                );
            }
            if tracker.partner(&partner).is_none() {
                return Err(
                    format!("unknown partner {partner:?} in {}", config.file.display()).into(),
                );
            }
            println!(
                "{}",
                tracker
                    .signer()
                    .build(&campaign, &partner, ad.as_deref(), sid.as_deref())?
            );
            Ok(())
        }
        Command::Serve { config } => serve(Config::load(&config)?, false),
        Command::Demo { listen, data } => {
            let file = data.join(DEMO_CONFIG);
            let first_run = !file.exists();
            if first_run {
                let listen = listen.unwrap_or_else(|| DEMO_LISTEN.parse().expect("valid default"));
                if listen.port() == 0 {
                    return Err("demo needs a fixed port: its links and shop pages name it".into());
                }
                write_demo_config(&data, &file, listen)?;
            }
            let config = Config::load(&file)?;
            if let Some(listen) = listen.filter(|l| *l != config.listen) {
                return Err(format!(
                    "{} listens on {}, not {listen}: edit it, or use another --data directory",
                    file.display(),
                    config.listen
                )
                .into());
            }
            print_demo_banner(&config, first_run)?;
            serve(config, true)
        }
    }
}

fn write_demo_config(dir: &Path, file: &Path, listen: SocketAddr) -> Result<(), BoxError> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let text = config::demo_toml(listen)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600); // it holds the keys
    use std::io::Write;
    options
        .open(file)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    Ok(())
}

fn print_demo_banner(config: &Config, first_run: bool) -> Result<(), BoxError> {
    let tracker = config.tracker(Arc::new(affiliate_sdk::MemoryStore::new()))?;
    let signer = tracker.signer();
    let api_key = &config.api_keys[0];
    let base = &config.public_url;
    println!("affiliate-server demo");
    println!(
        "  config:    {} ({})",
        config.file.display(),
        if first_run {
            "written now, with fresh keys"
        } else {
            "from an earlier run"
        }
    );
    println!("  data:      {}", config.data_dir.display());
    println!();
    println!("Sample links: open one, press Buy on the demo shop, then look at the dashboard.");
    let samples: [(&str, &str, Option<&str>, Option<&str>); 3] = [
        ("haircare", "abc123", Some("website2"), Some("kw1")),
        ("haircare", "solo", None, None),
        ("skincare", "abc123", Some("newsletter"), None),
    ];
    for (campaign, partner, ad, sid) in samples {
        if tracker.campaign(campaign).is_some() && tracker.partner(partner).is_some() {
            println!(
                "  {campaign}/{partner}: {}",
                signer.build(campaign, partner, ad, sid)?
            );
        }
    }
    println!();
    println!("Dashboard:  {base}/dashboard#key={api_key}");
    println!("API key:    {api_key}");
    println!(
        "Stats:      curl -H 'Authorization: Bearer {api_key}' '{base}/v1/stats?group_by=partner'"
    );
    println!(
        "More links: affiliate-server link --config {} --campaign haircare --partner abc123 --sid kw2",
        config.file.display()
    );
    println!();
    Ok(())
}

fn serve(config: Config, demo: bool) -> Result<(), BoxError> {
    let store: Arc<dyn Store> = match &config.store_url {
        Some(url) => Arc::new(
            PostgresStore::open_with_ca(url, config.store_ca.as_deref())
                .map_err(|e| format!("cannot open the PostgreSQL store ([store] url): {e}"))?,
        ),
        None => {
            let path = config.data_dir.join("sled");
            Arc::new(
                SledStore::open(&path)
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
    let service = app::service(state.clone(), &config.allowed_origins);
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
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Each worker reports once its socket listens: "listening on" is printed only then.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
    let mut threads = Vec::new();
    for (i, socket) in sockets.into_iter().enumerate() {
        let service = service.clone();
        let mut stop = stop_rx.clone();
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
                        axum::serve(listener, axum::ServiceExt::into_make_service(service))
                            .with_graceful_shutdown(async move {
                                let _ = stop.wait_for(|s| *s).await;
                            })
                            .await
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
    tracing::info!(%addr, workers, public_url = %config.public_url, "serving");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(shutdown_signal());
    let _ = stop_tx.send(true);
    for t in threads {
        t.join().map_err(|_| "an HTTP worker panicked")??;
    }
    // Pending clicks are batched in memory: write them before exiting.
    state.tracker.flush()?;
    tracing::info!("store flushed; stopped");
    Ok(())
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
