//! `affiliate-server demo` on an empty directory: config written, links printed, the
//! demo shop converts through the pixel, the dashboard is served.

mod common;

use std::process::{Command, Stdio};

use common::{agent, wait_for_listening};

fn get(
    agent: &ureq::Agent,
    url: &str,
    cookie: Option<&str>,
) -> (u16, Vec<(String, String)>, String) {
    let mut req = agent.get(url);
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    let mut r = req.call().unwrap();
    let headers = r
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let status = r.status().as_u16();
    let body = String::from_utf8_lossy(&r.body_mut().read_to_vec().unwrap()).into_owned();
    (status, headers, body)
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
    h.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn after<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in {text}"))
        .trim()
}

#[test]
fn demo_writes_config_prints_links_and_converts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("affiliate-data");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let log = std::fs::File::create(dir.path().join("log")).unwrap();
    let mut child = Command::new(common::BIN)
        .args(["demo", "--listen", &listen, "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Read the banner up to the listening line.
    use std::io::BufRead;
    let mut reader = std::io::BufReader::new(stdout);
    let mut banner = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            panic!(
                "demo exited: {banner}{}",
                std::fs::read_to_string(dir.path().join("log")).unwrap()
            );
        }
        banner.push_str(&line);
        if line.starts_with("listening on ") {
            break;
        }
    }
    let base = format!("http://{listen}");
    assert!(banner.contains(&format!("listening on {base}")), "{banner}");
    let config = std::fs::read_to_string(data.join("affiliate.toml")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("affiliate.toml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the config holds keys: owner only");
    }
    let api_key = after(&banner, "API key:");
    assert!(config.contains(api_key));
    assert_eq!(
        after(&banner, "Dashboard:"),
        format!("{base}/dashboard#key={api_key}")
    );
    let link = after(&banner, "haircare/abc123:");
    assert!(
        link.starts_with(&format!("{base}/go/haircare/abc123/website2?sig=k1.")),
        "{link}"
    );

    let agent = agent();
    // Click → the demo shop, with the cookie.
    let (status, h, _) = get(&agent, link, None);
    assert_eq!(status, 302);
    let location = header(&h, "location").to_owned();
    assert!(
        location.starts_with(&format!("{base}/demo/shop/haircare?aff_token=v1.")),
        "{location}"
    );
    let cookie = header(&h, "set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let (status, _, shop) = get(&agent, &location, Some(&cookie));
    assert_eq!(status, 200);
    assert!(shop.contains("partner <code>abc123</code>"), "{shop}");
    let buy = shop
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    // The confirmation page embeds the pixel; load it as a browser would.
    let (status, _, thanks) = get(&agent, &format!("{base}{buy}"), Some(&cookie));
    assert_eq!(status, 200);
    let pixel = thanks
        .split("id=\"pixel\" src=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    // The shop signed the order it offered; the pixel carries the signature.
    assert!(pixel.contains("&osig=k1."), "{pixel}");
    // An edited amount does not verify: the page does not sign what it is given.
    let edited = pixel.replace("amount=49.90", "amount=4990.00");
    let (_, h, _) = get(&agent, &format!("{base}{edited}"), Some(&cookie));
    assert_eq!(header(&h, "x-affiliate-result"), "invalid_signature");
    let (status, h, _) = get(&agent, &format!("{base}{pixel}"), Some(&cookie));
    assert_eq!((status, header(&h, "x-affiliate-result")), (200, "created"));

    let mut r = agent
        .get(format!("{base}/v1/stats?group_by=partner,sid"))
        .header("Authorization", format!("Bearer {api_key}"))
        .call()
        .unwrap();
    let stats: serde_json::Value =
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    let rows = stats["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{stats}");
    assert_eq!(
        (rows[0]["partner"].as_str(), rows[0]["sid"].as_str()),
        (Some("abc123"), Some("kw1"))
    );
    assert_eq!(
        (rows[0]["clicks"].as_u64(), rows[0]["sales"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(rows[0]["revenue"], serde_json::json!({"USD": "49.90"}));

    let (status, h, page) = get(&agent, &format!("{base}/dashboard"), None);
    assert_eq!(status, 200);
    assert!(
        page.contains("chart.umd.min.js")
            && header(&h, "content-security-policy").contains("default-src 'self'")
    );
    let (status, _, js) = get(&agent, &format!("{base}/dashboard/chart.umd.min.js"), None);
    assert!(status == 200 && js.starts_with("/*!\n * Chart.js v4"));

    // A second run reuses the config; another port is refused with a clear message.
    child.kill().unwrap();
    child.wait().unwrap();
    let out = Command::new(common::BIN)
        .args(["demo", "--listen", "127.0.0.1:1", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("listens on {listen}")));
    let mut again = Command::new(common::BIN)
        .args(["demo", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_listening(&mut again, &dir.path().join("log"));
    let (_, _, body) = get(&agent, &format!("{base}/v1/stats"), None);
    assert!(body.contains("unauthorized"));
    again.kill().unwrap();
    again.wait().unwrap();
    assert_eq!(
        std::fs::read_to_string(data.join("affiliate.toml")).unwrap(),
        config,
        "kept"
    );
}
