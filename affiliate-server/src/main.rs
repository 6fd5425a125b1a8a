//! `affiliate-server`: the tracking server of affiliate-sdk. See `--help`, the README
//! and `docs/http-api.md`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use affiliate_sdk::Key;
use clap::{Parser, Subcommand};

use affiliate_server::config::{self, Config};
use affiliate_server::serve::{BoxError, serve};

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
    /// Log lines as text (default) or as one JSON object each (for log collectors).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "AFFILIATE_LOG_FORMAT")]
    log_format: LogFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
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
        /// The TOML config file (or the environment's AFFILIATE_CONFIG).
        #[arg(long, env = "AFFILIATE_CONFIG")]
        config: PathBuf,
    },
    /// Prints a signed tracking link. Needs only the config: it works while a server
    /// runs.
    Link {
        /// The TOML config file (or the environment's AFFILIATE_CONFIG).
        #[arg(long, env = "AFFILIATE_CONFIG")]
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
    /// Prints a single-use portal sign-in link for a partner. Needs only the config
    /// (it works while a server runs); the server checks the partner when the link is
    /// used.
    PortalLink {
        /// The TOML config file (or the environment's AFFILIATE_CONFIG).
        #[arg(long, env = "AFFILIATE_CONFIG")]
        config: PathBuf,
        /// Partner code.
        #[arg(long)]
        partner: String,
        /// How long the link is valid, in seconds (default 900, at most 604800).
        #[arg(long, default_value_t = affiliate_sdk::portal::DEFAULT_LINK_SECS)]
        ttl: u64,
    },
    /// Prints a new random key (32 bytes, base64url): for `[keys]` or `api_keys`.
    Keygen,
    /// Prints the OpenAPI 3.1 description of the HTTP API (what `GET /openapi.json`
    /// answers).
    Openapi,
}

/// The config file `demo` writes and reads inside its data directory.
const DEMO_CONFIG: &str = "affiliate.toml";
const DEMO_LISTEN: &str = "127.0.0.1:8080";

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("affiliate-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), BoxError> {
    match command {
        Command::Keygen => {
            println!("{}", Key::generate()?.to_base64());
            Ok(())
        }
        Command::Openapi => {
            print!("{}", affiliate_server::openapi::description());
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
        Command::PortalLink {
            config,
            partner,
            ttl,
        } => {
            let config = Config::load(&config)?;
            let tracker = config.tracker(Arc::new(affiliate_sdk::MemoryStore::new()))?;
            let code = affiliate_sdk::Code::new(&partner)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs();
            let signer = tracker.signer();
            println!(
                "{}",
                affiliate_sdk::portal::portal_link_url(
                    signer.keyring(),
                    signer.base_url(),
                    code,
                    now,
                    ttl,
                )?
            );
            Ok(())
        }
        Command::Serve { config } => serve(with_env_listen(Config::load(&config)?)?, false),
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

/// Crates whose debug and trace lines carry what the server keeps secret (the
/// PostgreSQL driver logs statement parameters: webhook secrets, partner key digests;
/// HTTP clients and servers log headers): held at `info` whatever `RUST_LOG` says.
const QUIET_BELOW_INFO: [&str; 7] = [
    "tokio_postgres",
    "postgres",
    "ureq",
    "ureq_proto",
    "hyper",
    "hyper_util",
    "rustls",
];

/// `RUST_LOG` (default `info`), with [`QUIET_BELOW_INFO`] held at `info`.
fn log_filter() -> tracing_subscriber::EnvFilter {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    for target in QUIET_BELOW_INFO {
        if let Ok(directive) = format!("{target}=info").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// The config with `server.listen` replaced by the environment's AFFILIATE_LISTEN, if
/// set (a container or unit sets the address, the file the rest).
fn with_env_listen(mut config: Config) -> Result<Config, BoxError> {
    if let Some(listen) = std::env::var_os("AFFILIATE_LISTEN") {
        let text = listen.to_string_lossy();
        config.listen = text.parse().map_err(|_| {
            format!("AFFILIATE_LISTEN: expected an address such as 0.0.0.0:8080, not {text:?}")
        })?;
    }
    Ok(config)
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
