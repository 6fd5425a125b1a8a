//! Order signatures (`osig`): how the merchant's backend vouches for the order a
//! confirmation page reports, so a browser cannot invent one.
//!
//! An order signature is `<kid>.<tag>`. The tag is the first 128 bits of HMAC-SHA256,
//! in unpadded base64url, over
//!
//! ```text
//! "affiliate-sdk:order:v1\0" || lp(kid) || lp(order_id) || lp(amount) || lp(currency) || lp(kind)
//! ```
//!
//! where `lp(x)` is one byte holding `x`'s length followed by `x`, and `amount` is the
//! canonical decimal: exactly the currency's minor digits (`"49.9"` USD signs as
//! `"49.90"`, `"100"` JPY as `"100"`). Its own label means an order tag can never
//! stand in for a link, token or postback tag, nor one of them for it.

use hmac::Mac;

use crate::error::{Error, Result};
use crate::key::{HmacSha256, Keyring, Purpose, TAG_B64_LEN, encode_tag, tag, verify_tag};
use crate::money::Money;
use crate::records::{Kind, check_id};

/// Longest order signature: a 16-byte kid, a dot and a 22-character tag.
pub const MAX_ORDER_SIGNATURE_LEN: usize = 16 + 1 + TAG_B64_LEN;

/// An order as a signature covers it: a checked order id, the amount in its currency
/// and the kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFields<'a> {
    /// The merchant's order id (1–128 printable ASCII characters).
    pub order_id: &'a str,
    /// The amount and its currency.
    pub amount: Money,
    /// Sale, lead or a named action.
    pub kind: &'a Kind,
}

fn absorb(mac: &mut HmacSha256, kid: &str, order: &OrderFields<'_>) {
    let amount = order.amount.to_string();
    for part in [
        kid,
        order.order_id,
        &amount,
        order.amount.currency().code(),
        order.kind.as_str(),
    ] {
        // Every part is at most 128 bytes (order ids), so one length byte holds it.
        mac.update(&[u8::try_from(part.len()).unwrap_or(u8::MAX)]);
        mac.update(part.as_bytes());
    }
}

impl Keyring {
    /// Signs an order with the current key: the `osig` a confirmation page passes to
    /// the snippet (`signature`) or the pixel (`&osig=`). The amount may be written
    /// with fewer decimals than the currency has (`"49.9"`); it is signed in its
    /// canonical form, so `"49.9"` and `"49.90"` give the same signature.
    ///
    /// ```
    /// use affiliate_sdk::Keyring;
    /// let ring = Keyring::generate()?;
    /// let osig = ring.sign_order("A-1001", "49.90", "USD", "sale")?;
    /// assert!(osig.starts_with("k1.") && osig.len() == 25);
    /// assert_eq!(ring.sign_order("A-1001", "49.9", "USD", "sale")?, osig);
    /// assert_eq!(ring.sign_order("A 1001", "49.90", "USD", "sale").unwrap_err().code(), "malformed");
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    pub fn sign_order(
        &self,
        order_id: &str,
        amount: &str,
        currency: &str,
        kind: &str,
    ) -> Result<String> {
        check_id("order_id", order_id)?;
        let amount = Money::parse(amount, currency)?;
        let kind: Kind = kind.parse()?;
        Ok(self.sign_order_fields(&OrderFields {
            order_id,
            amount,
            kind: &kind,
        }))
    }

    /// [`Keyring::sign_order`] for fields already checked.
    #[must_use]
    pub fn sign_order_fields(&self, order: &OrderFields<'_>) -> String {
        let (kid, mut mac) = self.signer(Purpose::Order);
        absorb(&mut mac, kid.as_str(), order);
        let mut out = String::with_capacity(MAX_ORDER_SIGNATURE_LEN);
        out.push_str(kid.as_str());
        out.push('.');
        encode_tag(&tag(mac), &mut out);
        out
    }

    /// Checks an order signature against the order's fields with every key of the
    /// ring: `invalid_signature` when it was made for other fields, with another
    /// purpose or with an unknown key; `malformed` when it is not `<kid>.<tag>`.
    pub fn verify_order(&self, osig: &str, order: &OrderFields<'_>) -> Result<()> {
        if osig.len() > MAX_ORDER_SIGNATURE_LEN {
            return Err(Error::malformed("osig", "longer than 39 characters"));
        }
        let (kid, given) = osig
            .split_once('.')
            .filter(|(kid, t)| !kid.is_empty() && t.len() == TAG_B64_LEN)
            .ok_or_else(|| Error::malformed("osig", "expected <kid>.<22-character tag>"))?;
        let mut mac = self.verifier(kid.as_bytes(), Purpose::Order)?.clone();
        absorb(&mut mac, kid, order);
        verify_tag(mac, given.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Key;

    fn ring() -> Keyring {
        Keyring::new("k1", Key::from_bytes(&[9; 32]).unwrap()).unwrap()
    }

    fn fields(kind: &Kind) -> OrderFields<'_> {
        OrderFields {
            order_id: "A-1",
            amount: Money::parse("49.90", "USD").unwrap(),
            kind,
        }
    }

    #[test]
    fn every_signed_field_and_every_character_matters() {
        let ring = ring();
        let sale = Kind::Sale;
        let osig = ring.sign_order_fields(&fields(&sale));
        ring.verify_order(&osig, &fields(&sale)).unwrap();
        let lead = Kind::Lead;
        let others = [
            OrderFields {
                order_id: "A-2",
                ..fields(&sale)
            },
            OrderFields {
                amount: Money::parse("49.91", "USD").unwrap(),
                ..fields(&sale)
            },
            OrderFields {
                amount: Money::parse("49.90", "EUR").unwrap(),
                ..fields(&sale)
            },
            fields(&lead),
        ];
        for other in &others {
            assert_eq!(
                ring.verify_order(&osig, other),
                Err(Error::InvalidSignature)
            );
        }
        for i in 0..osig.len() {
            let mut bytes = osig.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            assert!(
                ring.verify_order(&changed, &fields(&sale)).is_err(),
                "{changed}"
            );
        }
    }

    #[test]
    fn malformed_signatures_are_refused_without_panicking() {
        let ring = ring();
        let sale = Kind::Sale;
        for bad in [
            "",
            ".",
            "k1.",
            ".AAAAAAAAAAAAAAAAAAAAAA",
            "k1",
            "k1.short",
            &"x".repeat(500),
        ] {
            assert_eq!(
                ring.verify_order(bad, &fields(&sale)).unwrap_err().code(),
                "malformed",
                "{bad:?}"
            );
        }
        assert_eq!(
            ring.verify_order("k9.AAAAAAAAAAAAAAAAAAAAAA", &fields(&sale)),
            Err(Error::InvalidSignature)
        );
    }
}
