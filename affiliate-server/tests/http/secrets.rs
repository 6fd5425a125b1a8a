//! Secrets in files (`*_file`), configuration from the environment, JSON logs.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Stdio};

use super::*;
use crate::common::{BIN, BROWSER_UA, agent, fresh_database, signing_key, wait_for_listening};

const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn secret_file(dir: &Path, name: &str, text: &str, mode: u32) {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The test config with every secret in a file of `dir`, none inline.
fn config_with_secret_files(dir: &Path, database: &str) -> String {
    secret_file(dir, "api_keys", &format!("{API_KEY}\n"), 0o600);
    secret_file(dir, "k1", &format!("{}\n", signing_key()), 0o400);
    secret_file(dir, "database_url", database, 0o600);
    secret_file(dir, "crm", WEBHOOK_SECRET, 0o600);
    let text = config("")
        .replace(
            &format!("api_keys = [\"{API_KEY}\"]"),
            "api_keys_file = \"api_keys\"",
        )
        .replace(&format!("k1 = \"{}\"", signing_key()), "k1_file = \"k1\"")
        + r#"
[store]
url_file = "database_url"

[events]
allow_private_destinations = true

[[webhook]]
id = "crm"
url = "http://127.0.0.1:9/hooks"
secret_file = "crm"
"#;
    for secret in [API_KEY, &signing_key(), WEBHOOK_SECRET, "postgres://"] {
        assert!(!text.contains(secret), "a secret is inline: {secret}");
    }
    text
}

#[test]
fn a_config_with_every_secret_in_a_file_starts_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let text = config_with_secret_files(dir.path(), &fresh_database());
    std::fs::write(dir.path().join("affiliate.toml"), text).unwrap();
    let server = Server::start_in(dir);
    // The API key from its file opens the API; the webhook's secret was read.
    let hooks = server.api_get("/v1/webhooks");
    assert_eq!(hooks.status, 200);
    assert_eq!(hooks.json()["webhooks"][0]["id"], "crm");
    // The signing key from its file: a link signed with it credits, and its token verifies.
    let link = LinkSigner::new(keyring(), "http://t.shop.example/go")
        .unwrap()
        .build("haircare", "abc123", None, None)
        .unwrap();
    let click = server.get(&path_of(&link), &[("user-agent", BROWSER_UA)]);
    assert_eq!(click.status, 302);
    let token = click
        .header("location")
        .unwrap()
        .split("aff_token=")
        .nth(1)
        .unwrap();
    assert!(keyring().verify_token(token, now()).is_ok());
    // Nothing of a secret reached the log.
    let log = server.log();
    for secret in [API_KEY, &signing_key(), WEBHOOK_SECRET, "postgres://"] {
        assert!(
            !log.contains(secret),
            "{secret} in the log:\n{}",
            log.lines()
                .filter(|l| l.contains(secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn a_missing_or_open_secret_file_stops_the_start_naming_field_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let text = config_with_secret_files(dir.path(), "postgres://affiliate@127.0.0.1:1/none");
    let file = dir.path().join("affiliate.toml");
    std::fs::write(&file, &text).unwrap();
    let serve = || run(&["serve", "--config", file.to_str().unwrap()], None);

    // Readable by others: refused, the key never printed.
    secret_file(dir.path(), "k1", &signing_key(), 0o644);
    let (ok, _, err) = serve();
    assert!(!ok, "started with an open key file");
    assert!(
        err.contains("affiliate.toml") && err.contains("keys.k1_file"),
        "{err}"
    );
    assert!(
        err.contains("readable by others") && err.contains("chmod 600"),
        "{err}"
    );
    assert!(!err.contains(&signing_key()), "{err}");
    secret_file(dir.path(), "k1", &signing_key(), 0o600);

    // Missing.
    std::fs::remove_file(dir.path().join("api_keys")).unwrap();
    let (ok, _, err) = serve();
    assert!(!ok);
    assert!(
        err.contains("server.api_keys_file") && err.contains("api_keys"),
        "{err}"
    );
    assert!(err.contains("cannot read the secret file"), "{err}");

    // A secret given twice (inline and as a file).
    secret_file(dir.path(), "api_keys", API_KEY, 0o600);
    let twice = text.replace(
        "url_file = \"database_url\"",
        "url_file = \"database_url\"\nurl = \"postgres://x@y/z\"",
    );
    std::fs::write(&file, twice).unwrap();
    let (ok, _, err) = serve();
    assert!(
        !ok && err.contains("store.url") && err.contains("given twice"),
        "{err}"
    );
}

#[test]
fn the_environment_names_the_config_and_the_address_and_logs_can_be_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("affiliate.toml");
    std::fs::write(
        &file,
        config("").replace("listen = \"127.0.0.1:0\"", "listen = \"127.0.0.1:1\""),
    )
    .unwrap();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    // No --config: AFFILIATE_CONFIG; AFFILIATE_LISTEN replaces the file's port 1.
    let mut child = Command::new(BIN)
        .args(["serve", "--log-format", "json"])
        .env("AFFILIATE_CONFIG", &file)
        .env("AFFILIATE_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = wait_for_listening(&mut child, &log_path);
    let r = agent().get(&format!("{base}/healthz")).call().unwrap();
    assert_eq!(r.status(), 200);
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "no log lines");
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
    }
    // A bad AFFILIATE_LISTEN is a clear error.
    let out = Command::new(BIN)
        .args(["serve"])
        .env("AFFILIATE_CONFIG", &file)
        .env("AFFILIATE_LISTEN", "not-an-address")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("AFFILIATE_LISTEN"),
        "{err}"
    );
}
