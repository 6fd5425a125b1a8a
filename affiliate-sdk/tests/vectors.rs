//! Known-answer vectors from `tests/vectors/generate.py`, an independent implementation
//! of the formats. The Python and JS bindings read the same file.

mod common;

use affiliate_sdk::{
    ClickId, CookieConfig, Kind, Link, LinkSigner, Money, OrderFields, TokenClaims,
};
use common::{vector_keyring, vectors};

#[test]
fn links_are_built_exactly() {
    let v = vectors();
    let mut ring = vector_keyring();
    for case in v["links"].as_array().unwrap() {
        ring.set_current(case["kid"].as_str().unwrap()).unwrap();
        let signer = LinkSigner::new(ring.clone(), v["base_url"].as_str().unwrap()).unwrap();
        let built = signer
            .build(
                case["campaign"].as_str().unwrap(),
                case["partner"].as_str().unwrap(),
                case["ad"].as_str(),
                case["sid"].as_str(),
            )
            .unwrap();
        assert_eq!(built, case["url"].as_str().unwrap());
        // And verifying gives back the same fields.
        let link = signer.verify(&built).unwrap();
        assert_eq!(link.campaign.as_str(), case["campaign"].as_str().unwrap());
        assert_eq!(link.partner.as_str(), case["partner"].as_str().unwrap());
        assert_eq!(link.ad.as_ref().map(|a| a.as_str()), case["ad"].as_str());
        assert_eq!(link.sid.as_ref().map(|s| s.as_str()), case["sid"].as_str());
    }
}

#[test]
fn link_checks_accept_and_refuse_as_specified() {
    let v = vectors();
    let signer = LinkSigner::new(vector_keyring(), v["base_url"].as_str().unwrap()).unwrap();
    for case in v["link_checks"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let result = signer.verify(case["url"].as_str().unwrap());
        match case["error"].as_str() {
            None => {
                let link = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(
                    link.sid.as_ref().map(|s| s.as_str()),
                    case["sid"].as_str(),
                    "{name}"
                );
            }
            Some(code) => {
                let err = result.expect_err(name);
                assert_eq!(err.code(), code, "{name}: {err}");
            }
        }
    }
}

fn claims_of(case: &serde_json::Value) -> TokenClaims {
    let link = Link::parse(
        case["campaign"].as_str().unwrap(),
        case["partner"].as_str().unwrap(),
        case["ad"].as_str(),
        case["sid"].as_str(),
    )
    .unwrap();
    TokenClaims {
        click_id: case["click_id"]
            .as_str()
            .unwrap()
            .parse::<ClickId>()
            .unwrap(),
        link,
        issued_at: case["issued_at"].as_u64().unwrap(),
        expires_at: case["expires_at"].as_u64().unwrap(),
    }
}

#[test]
fn tokens_are_issued_exactly_and_verify_to_their_claims() {
    let v = vectors();
    let mut ring = vector_keyring();
    for case in v["tokens"].as_array().unwrap() {
        ring.set_current(case["kid"].as_str().unwrap()).unwrap();
        let claims = claims_of(case);
        let token = ring.issue_token(&claims).unwrap();
        assert_eq!(token, case["token"].as_str().unwrap());
        let verified = ring.verify_token(&token, claims.issued_at).unwrap();
        assert_eq!(verified.claims(), claims);
    }
}

#[test]
fn token_checks_accept_and_refuse_as_specified() {
    let v = vectors();
    let ring = vector_keyring();
    for case in v["token_checks"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let result = ring.verify_token(
            case["token"].as_str().unwrap(),
            case["now"].as_u64().unwrap(),
        );
        match case["error"].as_str() {
            None => {
                result.unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            Some(code) => assert_eq!(result.expect_err(name).code(), code, "{name}"),
        }
    }
}

#[test]
fn cookies_are_written_and_found_exactly() {
    let v = vectors();
    for case in v["cookies"]["set_cookie"].as_array().unwrap() {
        let cfg = CookieConfig::new()
            .secure(case["secure"].as_bool().unwrap())
            .domain(case["domain"].as_str().unwrap_or(""))
            .unwrap();
        let header = cfg
            .set_cookie(
                case["token"].as_str().unwrap(),
                case["max_age"].as_u64().unwrap(),
            )
            .unwrap();
        assert_eq!(header, case["header"].as_str().unwrap());
    }
    let cfg = CookieConfig::new();
    for case in v["cookies"]["find"].as_array().unwrap() {
        let result = cfg.find(case["header"].as_str().unwrap());
        match case["error"].as_str() {
            Some(code) => assert_eq!(result.unwrap_err().code(), code),
            None => assert_eq!(result.unwrap(), case["found"].as_str()),
        }
    }
}

#[test]
fn order_signatures_are_made_exactly() {
    let v = vectors();
    let mut ring = vector_keyring();
    for case in v["orders"].as_array().unwrap() {
        ring.set_current(case["kid"].as_str().unwrap()).unwrap();
        let field = |name: &str| case[name].as_str().unwrap();
        let osig = ring
            .sign_order(
                field("order_id"),
                field("amount"),
                field("currency"),
                field("kind"),
            )
            .unwrap();
        assert_eq!(osig, field("osig"), "{case}");
        let kind: Kind = field("kind").parse().unwrap();
        let order = OrderFields {
            order_id: field("order_id"),
            amount: Money::parse(field("amount"), field("currency")).unwrap(),
            kind: &kind,
        };
        ring.verify_order(&osig, &order).unwrap();
    }
}

#[test]
fn order_signature_checks_accept_and_refuse_as_specified() {
    let v = vectors();
    let ring = vector_keyring();
    let good = &v["orders"][0];
    let kind: Kind = good["kind"].as_str().unwrap().parse().unwrap();
    let order = OrderFields {
        order_id: good["order_id"].as_str().unwrap(),
        amount: Money::parse(
            good["amount"].as_str().unwrap(),
            good["currency"].as_str().unwrap(),
        )
        .unwrap(),
        kind: &kind,
    };
    for case in v["order_checks"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let result = ring.verify_order(case["osig"].as_str().unwrap(), &order);
        match case["error"].as_str() {
            None => result.unwrap_or_else(|e| panic!("{name}: {e}")),
            Some(code) => assert_eq!(result.expect_err(name).code(), code, "{name}"),
        }
    }
}
