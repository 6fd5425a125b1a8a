//! The reference pages name every endpoint, every error code and every config field, so
//! a new one cannot ship undocumented.

use std::path::Path;

fn page(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_http_reference_names_every_route_and_error_code() {
    let doc = page("http-api.md");
    let routes = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/app.rs"))
        .unwrap()
        + &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/demo.rs")).unwrap();
    let mut seen = 0;
    for (i, _) in routes.match_indices(".route(") {
        let rest = routes[i + 7..].trim_start();
        let Some(rest) = rest.strip_prefix('"') else {
            continue;
        };
        let path = &rest[..rest.find('"').unwrap()];
        // `/go/{*link}` is documented as `/go/{campaign}/…`, `{file}` by its files.
        let documented = path.split('{').next().unwrap();
        assert!(
            doc.contains(documented),
            "docs/http-api.md does not mention {path}"
        );
        seen += 1;
    }
    assert!(
        seen >= 14,
        "{seen} routes found in src/app.rs and src/demo.rs"
    );
    for code in affiliate_sdk::ERROR_CODES {
        assert!(
            doc.contains(&format!("`{code}`")),
            "docs/http-api.md lacks {code}"
        );
        assert!(
            page("errors.md").contains(&format!("| `{code}` |")),
            "docs/errors.md lacks {code}"
        );
    }
}

#[test]
fn the_configuration_reference_names_every_field() {
    let doc = page("configuration.md");
    // The sections of config.rs, and those of `[store]` and `[[webhook]]`.
    let config = ["/src/config.rs", "/src/config_store.rs", "/src/delivery.rs"]
        .iter()
        .map(|f| std::fs::read_to_string(format!("{}{f}", env!("CARGO_MANIFEST_DIR"))).unwrap())
        .collect::<String>();
    let core = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../affiliate-sdk/src/attribution/campaign.rs"
    ))
    .unwrap()
        + &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../affiliate-sdk/src/attribution/catalogue.rs"
        ))
        .unwrap();
    // The fields of the deserialised sections: `name: Type,` lines of the structs that
    // deny unknown fields.
    let mut fields = Vec::new();
    for text in [&config, &core] {
        for block in text.split("#[serde(deny_unknown_fields)]").skip(1) {
            let body = &block[block.find('{').unwrap() + 1..block.find("\n}").unwrap()];
            for line in body.lines().map(str::trim) {
                let field = line.strip_prefix("pub(crate) ").unwrap_or(line);
                if let Some((name, _)) =
                    field.strip_prefix("pub ").unwrap_or(field).split_once(": ")
                    && !line.starts_with("//")
                    && !line.starts_with('#')
                {
                    fields.push(name.to_owned());
                }
            }
        }
    }
    assert!(fields.len() >= 25, "{fields:?}");
    for f in &fields {
        let f = match f.as_str() {
            // The sections of the file.
            "server" | "store" | "keys" => format!("[{f}]"),
            "campaign" | "partner" | "webhook" => format!("[[{f}]]"),
            other => format!("`{other}`"),
        };
        assert!(
            doc.contains(&f),
            "docs/configuration.md does not document {f}"
        );
    }
}
