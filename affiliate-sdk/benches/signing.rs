//! Signing and verification, against the peers a user would otherwise reach for.
//!
//! `cargo bench -p affiliate-sdk --bench signing` measures, in one run:
//!
//! * ours: link build, link verify (whole URL and router parts), token issue, token
//!   verify, and `Cookie` header parsing (alone and followed by token verification);
//! * the floor: a pre-keyed HMAC-SHA256 (`hmac` + `sha2`) over exactly the bytes our
//!   token and link tags cover, and over 64 bytes;
//! * `jsonwebtoken` HS256 encode and decode of the same claims;
//! * the `cookie` crate's signed jar: parse the same header and verify the cookie.
//!
//! After the run it prints the ratios the project tracks (see README, "Benchmarks").

use std::hint::black_box;
use std::path::PathBuf;

use affiliate_sdk::{
    ClickId, Code, CookieConfig, Key, Keyring, Link, LinkSigner, Sid, TokenClaims,
};
use criterion::Criterion;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

const BASE: &str = "https://t.shop.example/go";

#[derive(Serialize, Deserialize)]
struct JwtClaims {
    cid: String,
    cmp: String,
    prt: String,
    ad: Option<String>,
    sid: Option<String>,
    iat: u64,
    exp: u64,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn bench(c: &mut Criterion) {
    let key_bytes = [0x5au8; 32];
    let ring = Keyring::new("k1", Key::from_bytes(&key_bytes).unwrap()).unwrap();
    let signer = LinkSigner::new(ring.clone(), BASE).unwrap();
    // Codes and sid of 8 bytes each: the size the design quotes.
    let link = Link {
        campaign: Code::new("haircare").unwrap(),
        partner: Code::new("abc12345").unwrap(),
        ad: Some(Code::new("website2").unwrap()),
        sid: Some(Sid::new("keyword1").unwrap()),
    };
    let url = signer.build_link(&link);
    let sig = signer.sign(&link);
    let iat = now();
    let claims = TokenClaims::new(
        "0190a5c2-5b3a-7cde-8f01-23456789abcd"
            .parse::<ClickId>()
            .unwrap(),
        link,
        iat,
        30 * 86_400,
    );
    let token = ring.issue_token(&claims).unwrap();
    let cookie_header = format!("_ga=GA1.2.3456.7890; theme=dark; aff_token={token}; cart=3");

    // The floor: a pre-keyed HMAC over exactly the bytes a token tag covers.
    let mut token_msg = token.rsplit_once('.').unwrap().0.as_bytes().to_vec();
    token_msg.extend_from_slice(b"\0affiliate-sdk:token:v1");
    let mut link_msg = b"affiliate-sdk:link:v1\0".to_vec();
    for part in ["k1", "haircare", "abc12345", "website2"] {
        link_msg.push(part.len() as u8);
        link_msg.extend_from_slice(part.as_bytes());
    }
    let keyed = Hmac::<Sha256>::new_from_slice(&key_bytes).unwrap();

    // jsonwebtoken with the same claims.
    let jwt_claims = JwtClaims {
        cid: claims.click_id.to_string(),
        cmp: "haircare".into(),
        prt: "abc12345".into(),
        ad: Some("website2".into()),
        sid: Some("keyword1".into()),
        iat,
        exp: claims.expires_at,
    };
    let jwt_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let jwt_enc = jsonwebtoken::EncodingKey::from_secret(&key_bytes);
    let jwt_dec = jsonwebtoken::DecodingKey::from_secret(&key_bytes);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.leeway = 60;
    let jwt = jsonwebtoken::encode(&jwt_header, &jwt_claims, &jwt_enc).unwrap();

    // The cookie crate's signed jar holding the same value.
    let jar_key = cookie::Key::from(&[0x5au8; 64]);
    let signed_header = {
        let mut jar = cookie::CookieJar::new();
        jar.signed_mut(&jar_key)
            .add(cookie::Cookie::new("aff_token", token.clone()));
        let signed = jar.get("aff_token").unwrap().value().to_owned();
        format!("_ga=GA1.2.3456.7890; theme=dark; aff_token={signed}; cart=3")
    };

    let cfg = CookieConfig::new();
    let mut g = c.benchmark_group("signing");
    g.bench_function("link_build", |b| {
        b.iter(|| signer.build_link(black_box(&link)))
    });
    g.bench_function("link_verify", |b| {
        b.iter(|| signer.verify(black_box(&url)).unwrap())
    });
    g.bench_function("link_verify_parts", |b| {
        b.iter(|| {
            signer
                .verify_parts(
                    black_box("haircare"),
                    black_box("abc12345"),
                    black_box(Some("website2")),
                    black_box(&sig),
                )
                .unwrap()
        })
    });
    g.bench_function("token_issue", |b| {
        b.iter(|| ring.issue_token(black_box(&claims)).unwrap())
    });
    g.bench_function("token_verify", |b| {
        b.iter(|| ring.verify_token(black_box(&token), iat).unwrap())
    });
    g.bench_function("cookie_parse", |b| {
        b.iter(|| cfg.find(black_box(&cookie_header)).unwrap())
    });
    g.bench_function("cookie_parse_and_verify", |b| {
        b.iter(|| {
            let t = cfg.find(black_box(&cookie_header)).unwrap().unwrap();
            ring.verify_token(t, iat).unwrap()
        })
    });

    g.bench_function("floor_hmac_token_bytes", |b| {
        b.iter(|| {
            let mut m = keyed.clone();
            m.update(black_box(&token_msg));
            m.finalize()
        })
    });
    g.bench_function("floor_hmac_link_bytes", |b| {
        b.iter(|| {
            let mut m = keyed.clone();
            m.update(black_box(&link_msg));
            m.finalize()
        })
    });
    g.bench_function("floor_hmac_64_bytes", |b| {
        b.iter(|| {
            let mut m = keyed.clone();
            m.update(black_box(&[7u8; 64]));
            m.finalize()
        })
    });
    g.bench_function("jsonwebtoken_encode", |b| {
        b.iter(|| jsonwebtoken::encode(&jwt_header, black_box(&jwt_claims), &jwt_enc).unwrap())
    });
    g.bench_function("jsonwebtoken_decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<JwtClaims>(black_box(&jwt), &jwt_dec, &validation).unwrap()
        })
    });
    g.bench_function("cookie_signed_jar_parse_and_verify", |b| {
        b.iter(|| {
            let mut jar = cookie::CookieJar::new();
            for c in cookie::Cookie::split_parse(black_box(signed_header.as_str())).flatten() {
                jar.add_original(c.into_owned());
            }
            jar.signed(&jar_key).get("aff_token").unwrap()
        })
    });
    g.finish();
}

fn output_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("criterion")
}

/// Median time of one benchmark from criterion's estimates, in nanoseconds.
fn median_ns(name: &str) -> Option<f64> {
    let path = output_dir()
        .join("signing")
        .join(name)
        .join("new/estimates.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn print_ratios() {
    let rows = [
        // (what, ours, peer, target, higher ratio is better for us)
        (
            "token verify / HMAC floor (same bytes)",
            "token_verify",
            "floor_hmac_token_bytes",
            "<= 1.5x",
        ),
        (
            "jsonwebtoken decode / token verify",
            "jsonwebtoken_decode",
            "token_verify",
            ">= 5x",
        ),
        (
            "jsonwebtoken decode / link verify (URL)",
            "jsonwebtoken_decode",
            "link_verify",
            ">= 5x",
        ),
        (
            "jsonwebtoken decode / link verify (parts)",
            "jsonwebtoken_decode",
            "link_verify_parts",
            "",
        ),
        (
            "link verify (parts) / HMAC floor (same bytes)",
            "link_verify_parts",
            "floor_hmac_link_bytes",
            "",
        ),
        (
            "jsonwebtoken encode / token issue",
            "jsonwebtoken_encode",
            "token_issue",
            "",
        ),
        (
            "signed jar / cookie parse + token verify",
            "cookie_signed_jar_parse_and_verify",
            "cookie_parse_and_verify",
            "",
        ),
    ];
    println!("\n== signing: ratios (medians) ==");
    for name in [
        "link_build",
        "link_verify",
        "link_verify_parts",
        "token_issue",
        "token_verify",
        "cookie_parse",
        "cookie_parse_and_verify",
        "floor_hmac_token_bytes",
        "floor_hmac_link_bytes",
        "floor_hmac_64_bytes",
        "jsonwebtoken_encode",
        "jsonwebtoken_decode",
        "cookie_signed_jar_parse_and_verify",
    ] {
        if let Some(ns) = median_ns(name) {
            println!("{name:<38} {ns:>10.1} ns  {:>12.0} ops/s", 1e9 / ns);
        }
    }
    for (what, a, b, target) in rows {
        if let (Some(x), Some(y)) = (median_ns(a), median_ns(b)) {
            println!("{what:<48} {:>7.2}x  {target}", x / y);
        }
    }
}

fn main() {
    let mut c = Criterion::default()
        .output_directory(&output_dir())
        .configure_from_args();
    bench(&mut c);
    c.final_summary();
    // Only after a real measurement: `cargo bench` passes `--bench`; `cargo test
    // --benches` runs each case once, and the estimates on disk would be an earlier
    // run's.
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list") {
        print_ratios();
    }
}
