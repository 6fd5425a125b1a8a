//! Erasure of a customer (GDPR Art. 17) and pruning of old clicks: what every store
//! does the same way, on the JSON it keeps.

use serde::Serialize;

/// What [`Maintenance::erase_customer`](super::Maintenance::erase_customer) removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Erased {
    /// Conversions (and their replaced records) that carried the customer id.
    pub conversions: usize,
    /// Customer bindings removed (0 or 1).
    pub bindings: usize,
    /// Outbound events and deliveries whose body carried it.
    pub events: usize,
    /// Whether earlier versions of the changed records are still in the store's files
    /// until it is next opened (`SledStore`, a log, rewrites itself then; PostgreSQL
    /// and memory: never).
    pub rewrite_pending: bool,
}

#[cfg(feature = "sled")]
/// The customer id as it appears in a JSON record (a JSON string, quotes included):
/// a record without these bytes cannot carry it.
pub(crate) fn needle(customer_id: &str) -> Vec<u8> {
    serde_json::to_vec(customer_id).unwrap_or_default()
}

#[cfg(feature = "sled")]
/// Whether `bytes` contain `needle`.
pub(crate) fn mentions(bytes: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && bytes.windows(needle.len()).any(|w| w == needle)
}

/// The JSON record `bytes` with every `"customer_id"` equal to `customer_id` set to
/// `null`, wherever it is nested (a conversion, an event, a webhook body); `None`
/// when it has none (or is not JSON: nothing to change).
pub(crate) fn erase_json(bytes: &[u8], customer_id: &str) -> Option<Vec<u8>> {
    fn walk(v: &mut serde_json::Value, id: &str) -> bool {
        match v {
            serde_json::Value::Object(m) => {
                let mut changed = false;
                for (k, child) in m.iter_mut() {
                    if k == "customer_id" && child.as_str() == Some(id) {
                        *child = serde_json::Value::Null;
                        changed = true;
                    } else {
                        changed |= walk(child, id);
                    }
                }
                changed
            }
            serde_json::Value::Array(a) => a.iter_mut().fold(false, |c, x| walk(x, id) | c),
            _ => false,
        }
    }
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    walk(&mut value, customer_id)
        .then(|| serde_json::to_vec(&value).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_nulled_wherever_it_is_nested_and_only_that_id() {
        let body = br#"{"type":"conversion.created","data":{"order_id":"cust-1","customer_id":"cust-1","x":[{"customer_id":"cust-1"},{"customer_id":"cust-10"}]}}"#;
        let out = erase_json(body, "cust-1").unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["data"]["customer_id"], serde_json::Value::Null);
        assert_eq!(v["data"]["x"][0]["customer_id"], serde_json::Value::Null);
        assert_eq!(v["data"]["x"][1]["customer_id"], "cust-10");
        // An order id equal to the customer id is the merchant's order, not the customer.
        assert_eq!(v["data"]["order_id"], "cust-1");
        assert_eq!(erase_json(br#"{"customer_id":"other"}"#, "cust-1"), None);
        assert_eq!(erase_json(b"not json", "cust-1"), None);
        #[cfg(feature = "sled")]
        {
            assert!(mentions(body, &needle("cust-1")));
            assert!(!mentions(br#"{"customer_id":"cust-2"}"#, &needle("cust-1")));
        }
    }
}
