//! Adjustments: money the merchant adds to or takes from a partner's balance by hand —
//! a bonus (a contest prize) or a correction (an error put right, either way). Each is
//! one ledger entry, payable at once, under the `Idempotency-Key` that made it, with its
//! memo; a negative one may not make what the partner is owed negative unless asked.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::payout::hex;
use super::{Balance, Entry, EntryId, EntryKind, EntryState, key_reused};
use crate::code::Code;
use crate::error::{Error, Result};
use crate::money::{Currency, Money, format_minor};

/// Longest memo, in characters.
pub const MAX_MEMO_CHARS: usize = 500;

/// What an adjustment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentKind {
    /// Money added: a prize, an incentive. Positive only.
    #[default]
    Bonus,
    /// An error put right, either way.
    Correction,
}

impl std::str::FromStr for AdjustmentKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<AdjustmentKind> {
        match s {
            "bonus" => Ok(AdjustmentKind::Bonus),
            "correction" => Ok(AdjustmentKind::Correction),
            _ => Err(Error::malformed(
                "kind",
                "expected \"bonus\" or \"correction\"",
            )),
        }
    }
}

/// What an adjustment's entry carries besides its amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentNote {
    /// Bonus or correction.
    pub kind: AdjustmentKind,
    /// The merchant's words, shown to the partner.
    pub memo: String,
    /// When it was made, Unix seconds.
    pub created: u64,
    /// What identifies the request under its key ([`Adjustment::fingerprint`]).
    pub fingerprint: String,
}

/// An adjustment as the API takes it: decimal strings, checked by
/// [`Adjustment::check`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(description = "An adjustment of a partner's balance; an unknown member is refused.")
)]
pub struct AdjustmentRequest {
    /// The partner.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::CodeText))]
    pub partner: String,
    /// ISO 4217.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Currency))]
    pub currency: String,
    /// A decimal amount, `-` in front to take money back (a correction only); not zero.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^-?[0-9]+(\\.[0-9]+)?$", example = "50.00")
    )]
    pub amount: String,
    /// Why: 1 to 500 characters, shown to the partner.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub memo: String,
    /// `bonus` or `correction`.
    pub kind: AdjustmentKind,
    /// Whether a negative correction may make what the partner is owed negative
    /// (default `false`).
    #[serde(default)]
    pub allow_negative: bool,
}

impl AdjustmentRequest {
    /// An adjustment of `amount` (`"-20.00"` takes 20.00 back) for `partner`.
    #[must_use]
    pub fn new(
        partner: &str,
        currency: &str,
        amount: &str,
        memo: &str,
        kind: AdjustmentKind,
    ) -> AdjustmentRequest {
        AdjustmentRequest {
            partner: partner.into(),
            currency: currency.into(),
            amount: amount.into(),
            memo: memo.into(),
            kind,
            allow_negative: false,
        }
    }
}

/// A checked adjustment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    /// The partner.
    pub partner: Code,
    /// The amount, unsigned.
    pub amount: Money,
    /// Whether it takes money back.
    pub negative: bool,
    /// The memo.
    pub memo: String,
    /// Bonus or correction.
    pub kind: AdjustmentKind,
    /// See [`AdjustmentRequest::allow_negative`].
    pub allow_negative: bool,
}

impl Adjustment {
    /// Checks `req`: a partner code, a non-zero amount of at most
    /// [`MAX_AMOUNT`](crate::MAX_AMOUNT) (a bonus positive), a memo of 1 to 500
    /// characters without control characters. `malformed` naming the field otherwise.
    pub fn check(req: &AdjustmentRequest) -> Result<Adjustment> {
        let partner = Code::new(&req.partner).map_err(|_| {
            Error::malformed(
                "partner",
                "expected a partner code ([A-Za-z0-9_-], 1 to 64)",
            )
        })?;
        let (negative, digits) = match req.amount.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, req.amount.as_str()),
        };
        let amount = Money::parse_bounded(digits, &req.currency, "amount")?;
        if amount.minor() == 0 {
            return Err(Error::malformed("amount", "must not be zero"));
        }
        if negative && req.kind == AdjustmentKind::Bonus {
            return Err(Error::malformed(
                "amount",
                "a bonus is positive; take money back with a correction",
            ));
        }
        let chars = req.memo.chars().count();
        if chars == 0 || chars > MAX_MEMO_CHARS || req.memo.chars().any(char::is_control) {
            return Err(Error::malformed(
                "memo",
                "expected 1 to 500 characters, no control characters",
            ));
        }
        Ok(Adjustment {
            partner,
            amount,
            negative,
            memo: req.memo.clone(),
            kind: req.kind,
            allow_negative: req.allow_negative,
        })
    }

    /// The currency.
    #[must_use]
    pub fn currency(&self) -> Currency {
        self.amount.currency()
    }

    /// The signed amount, minor units.
    #[must_use]
    pub fn signed_minor(&self) -> i128 {
        let v = i128::from(self.amount.minor());
        if self.negative { -v } else { v }
    }

    /// What identifies this request under its key: a replay must carry the same.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        let text = format!(
            "{}\n{}\n{}\n{:?}\n{}\n{}",
            self.partner,
            self.currency().code(),
            self.signed_minor(),
            self.kind,
            self.allow_negative,
            self.memo
        );
        hex(&Sha256::digest(text.as_bytes())[..16])
    }

    /// The entry this adjustment makes under the idempotency `key` at `now`: an empty
    /// order id, its id `adj_…` (derived from the key) as the reference, payable at once.
    #[must_use]
    pub fn entry(&self, key: &str, now: u64) -> Entry {
        Entry {
            id: EntryId {
                order_id: String::new(),
                level: 0,
                kind: if self.negative {
                    EntryKind::Deduction
                } else {
                    EntryKind::Adjustment
                },
                reference: adjustment_id(key),
            },
            partner: self.partner,
            currency: self.currency(),
            amount_minor: self.amount.minor(),
            state: EntryState::Payable,
            payable_at: Some(now),
            payout: None,
            note: Some(AdjustmentNote {
                kind: self.kind,
                memo: self.memo.clone(),
                created: now,
                fingerprint: self.fingerprint(),
            }),
        }
    }

    /// Refuses a negative adjustment that would leave the partner owed less than
    /// nothing (`balance`: its balance in the currency now), unless it allows that.
    pub fn check_balance(&self, balance: &Balance) -> Result<()> {
        let due = balance.payable - balance.clawback;
        if !self.negative || self.allow_negative || due + self.signed_minor() >= 0 {
            return Ok(());
        }
        let shown = |v: i128| {
            let text = format_minor(v.unsigned_abs(), self.currency().exponent());
            if v < 0 { format!("-{text}") } else { text }
        };
        Err(Error::Exists(format!(
            "{} is owed {} {} now: taking {} back would make it negative; set allow_negative \
             to record it anyway",
            self.partner,
            shown(due),
            self.currency().code(),
            self.amount
        )))
    }

    /// Whether `found`, the entry under this adjustment's key, was made by the same
    /// request (a replay); `conflict` when the key came with another.
    pub fn same_as(&self, key: &str, found: &Entry) -> Result<()> {
        match &found.note {
            Some(n) if n.fingerprint == self.fingerprint() => Ok(()),
            _ => Err(key_reused(key)),
        }
    }
}

/// The id of the adjustment made under the idempotency `key`: `adj_` and 24
/// hexadecimal digits.
#[must_use]
pub fn adjustment_id(key: &str) -> String {
    format!("adj_{}", hex(&Sha256::digest(key.as_bytes())[..12]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(amount: &str, kind: AdjustmentKind) -> AdjustmentRequest {
        AdjustmentRequest::new("abc123", "USD", amount, "March contest", kind)
    }

    #[test]
    fn adjustments_are_checked_and_a_negative_one_keeps_the_balance_whole() {
        let bonus = Adjustment::check(&req("50.00", AdjustmentKind::Bonus)).unwrap();
        assert_eq!(bonus.signed_minor(), 5000);
        let fix = Adjustment::check(&req("-20.00", AdjustmentKind::Correction)).unwrap();
        assert_eq!(fix.signed_minor(), -2000);
        for (amount, kind, field) in [
            ("-1.00", AdjustmentKind::Bonus, "amount"),
            ("0", AdjustmentKind::Correction, "amount"),
            ("--1", AdjustmentKind::Correction, "amount"),
            ("1000000000.01", AdjustmentKind::Bonus, "amount"),
            ("1e3", AdjustmentKind::Bonus, "amount"),
        ] {
            let e = Adjustment::check(&req(amount, kind)).unwrap_err();
            assert_eq!(e.code(), "malformed", "{amount}");
            assert!(e.to_string().contains(field), "{e}");
        }
        let mut bad = req("1.00", AdjustmentKind::Bonus);
        bad.memo = String::new();
        assert_eq!(Adjustment::check(&bad).unwrap_err().code(), "malformed");
        bad.memo = "x".repeat(501);
        assert_eq!(Adjustment::check(&bad).unwrap_err().code(), "malformed");
        bad.memo = "line\nbreak".into();
        assert_eq!(Adjustment::check(&bad).unwrap_err().code(), "malformed");
        // Owed 15.00: taking 20.00 back is refused, unless allowed.
        let owed = Balance {
            payable: 1500,
            ..Balance::default()
        };
        assert_eq!(fix.check_balance(&owed).unwrap_err().code(), "conflict");
        let allowed = Adjustment {
            allow_negative: true,
            ..fix.clone()
        };
        allowed.check_balance(&owed).unwrap();
        let enough = Balance {
            payable: 2000,
            ..Balance::default()
        };
        fix.check_balance(&enough).unwrap();
        // One key, one id; a replay is recognised, another request under it is not.
        let e = bonus.entry("k-1", 7);
        assert_eq!(e.id.reference, adjustment_id("k-1"));
        assert!(e.id.reference.starts_with("adj_") && e.id.reference.len() == 28);
        bonus.same_as("k-1", &e).unwrap();
        assert_eq!(fix.same_as("k-1", &e).unwrap_err().code(), "conflict");
    }
}
