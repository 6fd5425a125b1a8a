//! Postback keys: credentials for hosted carts that can only call a URL
//! (`GET /v1/postback?key=pbk_…&order_id=…`). A postback key records conversions and
//! nothing else; it is shown once, kept as its SHA-256 digest, and revocable.

use std::collections::HashMap;
use std::sync::PoisonError;

use super::Tracker;
use super::record::Write;
use crate::attribution::Conversion;
use crate::attribution::{ConversionRequest, Postback, PostbackRefund};
use crate::error::{Error, Result};
use crate::portal::{key_digest, random_b64};
use crate::store::RecordKind;

/// At most this many postback keys (revoked ones do not count).
pub const MAX_POSTBACK_KEYS: usize = 100;

/// The longest label of a postback key, in characters.
const MAX_LABEL_CHARS: usize = 100;

/// A postback key as the store keeps it: never the key, its digest.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PostbackKey {
    /// `pbkid_` and 16 hexadecimal digits: how the key is named and revoked.
    pub id: String,
    /// What the merchant calls it (`"Hosted cart"`); may be empty.
    #[serde(default)]
    pub label: String,
    /// The SHA-256 digest of the key, hexadecimal.
    pub digest: String,
    /// When it was made, Unix seconds.
    pub created: u64,
}

impl std::fmt::Debug for PostbackKey {
    /// Without the digest.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostbackKey")
            .field("id", &self.id)
            .field("label", &self.label)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

impl PostbackKey {
    /// The key as the API lists it: `{id, label, created}` (the digest stays inside).
    #[must_use]
    pub fn answer(&self) -> crate::answers::KeyRecord {
        crate::answers::KeyRecord {
            id: self.id.clone(),
            partner: None,
            label: Some(self.label.clone()),
            created: self.created,
        }
    }

    /// [`PostbackKey::answer`] as JSON.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        crate::answers::to_value(&self.answer())
    }
}

/// Whether `text` has a postback key's shape (`pbk_` and 43 base64url characters).
fn looks_like_postback_key(text: &str) -> bool {
    text.len() == 47
        && text.starts_with("pbk_")
        && text[4..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The stored postback keys by digest.
pub(super) fn by_digest(records: Vec<(String, String)>) -> Result<HashMap<String, PostbackKey>> {
    records
        .into_iter()
        .map(|(id, json)| {
            let k: PostbackKey = serde_json::from_str(&json)
                .map_err(|_| Error::Store(format!("corrupt postback key record {id:?}")))?;
            Ok((k.digest.clone(), k))
        })
        .collect()
}

/// The parameters `GET /v1/postback` takes besides `key`.
const POSTBACK_FIELDS: [&str; 11] = [
    "order_id",
    "amount",
    "currency",
    "kind",
    "token",
    "click_id",
    "coupon",
    "customer_id",
    "campaign",
    "refund_id",
    "refund_amount",
];

/// Reads the query of `GET /v1/postback` (`key=pbk_…&order_id=…&amount=…&currency=…`,
/// optionally `kind`, `token` or `click_id`, `coupon`, `customer_id`, `campaign`; or
/// a refund: `key=pbk_…&order_id=…&refund_id=…&refund_amount=…` and nothing else):
/// the key, if given, and what the postback reports. A parameter not in that list, or
/// given twice, or a missing `order_id`, `amount` or `currency` (`refund_amount` for a
/// refund) is `malformed`.
///
/// ```
/// use affiliate_sdk::{Postback, parse_postback_query};
/// let (key, p) = parse_postback_query("key=pbk_x&order_id=A-1&amount=49.90&currency=EUR&click_id=c1")?;
/// let Postback::Conversion(req) = p else { unreachable!() };
/// assert_eq!((key.as_deref(), req.order_id.as_str(), req.kind.as_str()), (Some("pbk_x"), "A-1", "sale"));
/// assert!(parse_postback_query("order_id=A-1&amount=1&currency=EUR&amount=2").is_err());
/// let (_, p) = parse_postback_query("order_id=A-1&refund_id=R-1&refund_amount=30.00")?;
/// assert!(matches!(p, Postback::Refund(r) if r.refund_id == "R-1"));
/// assert!(parse_postback_query("order_id=A-1&refund_id=R-1&refund_amount=3&currency=EUR").is_err());
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
pub fn parse_postback_query(query: &str) -> Result<(Option<String>, Postback)> {
    let mut key = None;
    let mut values: [Option<String>; 11] = Default::default();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let shown: String = name.chars().take(40).collect();
        let slot = if name == "key" {
            &mut key
        } else {
            let i = POSTBACK_FIELDS
                .iter()
                .position(|f| *f == name)
                .ok_or_else(|| {
                    Error::malformed(
                        "postback",
                        format!(
                            "unknown parameter {shown:?}; expected key, {}",
                            POSTBACK_FIELDS.join(", ")
                        ),
                    )
                })?;
            &mut values[i]
        };
        if slot.is_some() {
            return Err(Error::malformed(
                "postback",
                format!("parameter {shown:?} appears more than once"),
            ));
        }
        *slot = Some(value.into_owned());
    }
    let [
        order_id,
        amount,
        currency,
        kind,
        token,
        click_id,
        coupon,
        customer_id,
        campaign,
        refund_id,
        refund_amount,
    ] = values;
    let required =
        |v: Option<String>, name: &'static str| v.ok_or_else(|| Error::malformed(name, "missing"));
    if let Some(refund_id) = refund_id {
        let others = [&amount, &currency, &kind, &token, &click_id, &coupon]
            .into_iter()
            .chain([&customer_id, &campaign]);
        if others.into_iter().any(Option::is_some) {
            return Err(Error::malformed(
                "postback",
                "a refund takes order_id, refund_id and refund_amount only",
            ));
        }
        let r = PostbackRefund {
            order_id: required(order_id, "order_id")?,
            refund_id,
            refund_amount: required(refund_amount, "refund_amount")?,
        };
        return Ok((key, Postback::Refund(r)));
    }
    if refund_amount.is_some() {
        return Err(Error::malformed(
            "refund_id",
            "missing (refund_amount is given)",
        ));
    }
    let req = ConversionRequest {
        order_id: required(order_id, "order_id")?,
        amount: required(amount, "amount")?,
        currency: required(currency, "currency")?,
        kind: kind.unwrap_or_else(|| "sale".into()),
        token,
        click_id,
        coupon,
        customer_id,
        campaign,
    };
    Ok((key, Postback::Conversion(req)))
}

impl Tracker {
    /// Makes a postback key labelled `label` (at most 100 printable characters):
    /// returns what the store keeps and the key itself, `pbk_…`, shown this once and
    /// never again. At most [`MAX_POSTBACK_KEYS`] keys exist at a time (`conflict`).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use affiliate_sdk::*;
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     Arc::new(MemoryStore::new()));
    /// let (record, key) = tracker.create_postback_key("Hosted cart")?;
    /// assert!(key.starts_with("pbk_") && record.id.starts_with("pbkid_"));
    /// assert!(tracker.is_postback_key(&key));
    /// tracker.revoke_postback_key(&record.id)?;
    /// assert!(!tracker.is_postback_key(&key));
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn create_postback_key(&self, label: &str) -> Result<(PostbackKey, String)> {
        if label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
            return Err(Error::malformed(
                "label",
                "at most 100 characters, no control characters",
            ));
        }
        if self.postback_keys().len() >= MAX_POSTBACK_KEYS {
            return Err(Error::Exists(format!(
                "{MAX_POSTBACK_KEYS} postback keys exist; revoke one first"
            )));
        }
        let key = format!("pbk_{}", random_b64::<32>()?);
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|_| Error::Store("no randomness".into()))?;
        let record = PostbackKey {
            id: format!("pbkid_{:016x}", u64::from_be_bytes(id)),
            label: label.trim().to_owned(),
            digest: key_digest(&key),
            created: self.clock.now(),
        };
        let json = serde_json::to_string(&record).map_err(|e| Error::Store(e.to_string()))?;
        let _program = self.program.lock().unwrap_or_else(PoisonError::into_inner);
        self.persist(RecordKind::PostbackKey, &record.id, &json, &Write::Create)?;
        self.postback_keys
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(record.digest.clone(), record.clone());
        Ok((record, key))
    }

    /// The postback keys (ids, labels and times, never keys), oldest first.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    #[must_use]
    pub fn postback_keys(&self) -> Vec<PostbackKey> {
        let keys = self
            .postback_keys
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<PostbackKey> = keys.values().cloned().collect();
        out.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
        out
    }

    /// Revokes the postback key `id`: it records nothing from then on, on every
    /// tracker of the store within about a second. `not_found` when there is none.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn revoke_postback_key(&self, id: &str) -> Result<()> {
        if !self.postback_keys().iter().any(|k| k.id == id) {
            let shown: String = id.chars().take(40).collect();
            return Err(Error::NotFound(format!("postback key {shown:?}")));
        }
        self.store.delete_record(RecordKind::PostbackKey, id)?;
        self.reload()
    }

    /// Whether `key` is a postback key of this program (not revoked). Found by its
    /// SHA-256 digest, the digests compared in constant time.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    #[must_use]
    pub fn is_postback_key(&self, key: &str) -> bool {
        if !looks_like_postback_key(key) {
            return false;
        }
        let digest = key_digest(key);
        let keys = self
            .postback_keys
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        keys.get(&digest).is_some_and(|k| {
            subtle::ConstantTimeEq::ct_eq(k.digest.as_bytes(), digest.as_bytes()).into()
        })
    }

    /// A hosted cart's postback URL, whole (`GET /v1/postback?key=pbk_…&order_id=…`):
    /// the query's `key` must be a postback key, checked before anything else in it
    /// (`unauthorized` when missing, wrong or revoked: a caller without a key learns
    /// nothing of the query's rules); then the query is read by
    /// [`parse_postback_query`] and the conversion recorded by [`Tracker::convert`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use affiliate_sdk::*;
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     Arc::new(MemoryStore::new()));
    /// # let mut spec = CampaignSpec::new("spring", "https://shop.example/", "USD");
    /// # spec.sale_percent = Some("10".into());
    /// # tracker.add_campaign(&spec)?;
    /// # tracker.add_partner(&PartnerSpec::new("abc123"))?;
    /// # tracker.add_coupon("abc123", "ABC10", None)?;
    /// let (_, key) = tracker.create_postback_key("Hosted cart")?;
    /// let conv = tracker.convert_postback_query(&format!(
    ///     "key={key}&order_id=A-1&amount=49.90&currency=USD&coupon=ABC10"))?;
    /// assert_eq!(conv.link.partner.as_str(), "abc123");
    /// let refused = tracker.convert_postback_query("key=pbk_nope&order_id=A-2&amount=1&currency=USD");
    /// assert_eq!(refused.unwrap_err().code(), "unauthorized");
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn convert_postback_query(&self, query: &str) -> Result<Conversion> {
        let key = url::form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "key")
            .map(|(_, key)| key.into_owned());
        match key {
            Some(key) if self.is_postback_key(&key) => {}
            Some(_) => return Err(Error::Unauthorized("wrong or revoked postback key".into())),
            None => return Err(Error::Unauthorized("missing key=<postback key>".into())),
        }
        let (_, p) = parse_postback_query(query)?;
        self.postback(&p)
    }
}
