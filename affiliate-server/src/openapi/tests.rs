use std::collections::BTreeSet;

use super::description;

fn spec() -> serde_json::Value {
    serde_json::from_str(&description()).unwrap()
}

#[test]
fn docs_openapi_json_is_the_generated_description() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
    let docs = std::fs::read_to_string(file).unwrap();
    assert!(
        docs == description(),
        "docs/openapi.json is not what the server describes: run \
         `cargo run -p affiliate-server -- openapi > docs/openapi.json`"
    );
}

/// `(METHOD, path)` of every route of `app.rs`, read from its source: a wildcard
/// (`/go/{*link}`) by its prefix, the CORS preflight left out.
fn routes() -> BTreeSet<(String, String)> {
    let app = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/app.rs")).unwrap();
    let mut routes = BTreeSet::new();
    for chunk in app.split(".route(").skip(1) {
        let rest = chunk.trim_start().strip_prefix('"').unwrap();
        let path = &rest[..rest.find('"').unwrap()];
        let handlers = &rest[rest.find('"').unwrap()..];
        let handlers = &handlers[..handlers.find(";").unwrap_or(handlers.len())];
        for method in ["get", "post", "patch", "delete", "head"] {
            if handlers.contains(&format!("{method}(")) {
                let path = match path.find("{*") {
                    Some(i) => path[..i].to_owned(),
                    None => path.to_owned(),
                };
                routes.insert((method.to_uppercase(), path));
            }
        }
    }
    routes
}

#[test]
fn every_route_is_described_and_every_description_is_a_route() {
    let routes = routes();
    assert!(
        routes.len() >= 60,
        "{} routes read from app.rs",
        routes.len()
    );
    let spec = spec();
    let mut described = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            // The click and impression paths stand for the wildcard route.
            let path = match path.find("{campaign}") {
                Some(i) if path.starts_with("/go/") || path.starts_with("/imp/") => {
                    path[..i].to_owned()
                }
                _ => path.clone(),
            };
            described.insert((method.to_uppercase(), path));
        }
    }
    let undescribed: Vec<_> = routes.difference(&described).collect();
    assert!(
        undescribed.is_empty(),
        "not in the description: {undescribed:?}"
    );
    let unrouted: Vec<_> = described.difference(&routes).collect();
    assert!(
        unrouted.is_empty(),
        "described but not routed: {unrouted:?}"
    );
}

#[test]
fn every_operation_has_an_id_a_tag_and_answers_and_keys_where_the_server_asks() {
    let spec = spec();
    assert_eq!(spec["openapi"], "3.1.0");
    assert_eq!(spec["info"]["version"], env!("CARGO_PKG_VERSION"));
    let mut ids = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            assert!(op["tags"].as_array().is_some_and(|t| t.len() == 1), "{id}");
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{id}"
            );
            let schemes: Vec<&str> = op["security"]
                .as_array()
                .map(|s| {
                    s.iter()
                        .flat_map(|r| r.as_object().unwrap().keys())
                        .map(String::as_str)
                        .collect()
                })
                .unwrap_or_default();
            let want: &[&str] = if path.starts_with("/v1/partner/") {
                &["partner_key", "portal_session"]
            } else if path == "/v1/postback" && method == "get" {
                &["postback_key"]
            } else if path == "/metrics"
                || (path.starts_with("/v1/")
                    && !(path == "/v1/conversions" && method == "post")
                    && path != "/v1/token")
            {
                &["api_key"]
            } else {
                &[]
            };
            assert_eq!(schemes, want, "{method} {path}");
        }
    }
}

#[test]
fn the_answers_the_core_builds_have_the_described_members() {
    use affiliate_sdk::{CampaignSpec, Keyring, LinkSigner, MemoryStore, PartnerSpec, Tracker};
    let spec = spec();
    let members = |schema: &str| -> BTreeSet<String> {
        spec["components"]["schemas"][schema]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{schema}"))
            .keys()
            .cloned()
            .collect()
    };
    fn keys<T: serde::Serialize>(answer: &T) -> BTreeSet<String> {
        let v = serde_json::to_value(answer).unwrap();
        v.as_object().unwrap().keys().cloned().collect()
    }
    let signer =
        LinkSigner::new(Keyring::generate().unwrap(), "https://t.shop.example/go").unwrap();
    let t = Tracker::new(signer, std::sync::Arc::new(MemoryStore::new()));
    let c = t
        .add_campaign(&CampaignSpec::new("spring", "https://shop.example/", "USD"))
        .unwrap();
    assert_eq!(keys(&t.campaign_answer(&c)), members("Campaign"));
    let p = t.add_partner(&PartnerSpec::new("ann")).unwrap();
    assert_eq!(keys(&t.partner_answer(&p)), members("Partner"));
    let me = t.partner_me(p.code).unwrap();
    assert_eq!(keys(&me), members("PartnerMe"));
    let mut manual = affiliate_sdk::ManualConversion::sale("A-1", "10.00", "USD", "spring", "ann");
    manual.customer_id = Some("cus_1".into());
    let conversion = t.manual(&manual).unwrap();
    assert_eq!(keys(&conversion.to_json()), members("Conversion"));
}
