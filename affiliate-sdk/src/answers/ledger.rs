//! Balances and payouts as every API shows them.

use serde::Serialize;

use crate::code::Code;
use crate::ledger::{
    AdjustmentKind, Balance, Entry, EntryKind, EntryState, Payout, PayoutStatus, SkipReason,
    Skipped,
};
use crate::money::{Currency, format_minor};

/// Minor units as a decimal string, negative ones with a leading `-`.
fn signed(v: i128, currency: Currency) -> String {
    let text = format_minor(v.unsigned_abs(), currency.exponent());
    if v < 0 { format!("-{text}") } else { text }
}

/// What a partner earns as a beneficiary, in one currency (decimal strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BalanceRow {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub partner: Code,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub currency: Currency,
    pub pending: String,
    pub payable: String,
    pub in_payout: String,
    pub paid: String,
    pub clawback: String,
}

impl BalanceRow {
    /// The row of `partner`'s `balance` in `currency`.
    #[must_use]
    pub fn new(partner: Code, currency: Currency, balance: &Balance) -> BalanceRow {
        BalanceRow {
            partner,
            currency,
            pending: signed(balance.pending, currency),
            payable: signed(balance.payable, currency),
            in_payout: signed(balance.in_payout, currency),
            paid: signed(balance.paid, currency),
            clawback: signed(balance.clawback, currency),
        }
    }
}

/// Balance rows by partner code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Balances {
    pub rows: Vec<BalanceRow>,
}

impl Balances {
    /// The rows of [`Tracker::balances`](crate::Tracker::balances).
    #[must_use]
    pub fn new(rows: &[(Code, Currency, Balance)]) -> Balances {
        Balances {
            rows: rows
                .iter()
                .map(|(p, c, b)| BalanceRow::new(*p, *c, b))
                .collect(),
        }
    }
}

/// A payout: what one partner is paid in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Payout))]
pub struct PayoutAnswer {
    #[cfg_attr(feature = "openapi", schema(example = "po_3f1c…"))]
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub partner: Code,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub currency: Currency,
    pub amount: String,
    /// How many ledger entries it settles.
    pub entries: u64,
    pub status: PayoutStatus,
    pub created: u64,
    pub updated: u64,
}

impl From<&Payout> for PayoutAnswer {
    fn from(p: &Payout) -> PayoutAnswer {
        PayoutAnswer {
            id: p.id.clone(),
            partner: p.partner,
            currency: p.currency,
            amount: format_minor(u128::from(p.amount_minor), p.currency.exponent()),
            entries: p.entries.len() as u64,
            status: p.status,
            created: p.created,
            updated: p.updated,
        }
    }
}

impl Payout {
    /// The payout as the API shows it ([`PayoutAnswer`]): `{id, partner, currency,
    /// amount, entries, status, created, updated}`, the amount a decimal string,
    /// `entries` the number of entries it settles, times Unix seconds.
    #[must_use]
    pub fn answer(&self) -> PayoutAnswer {
        PayoutAnswer::from(self)
    }

    /// [`Payout::answer`] as JSON.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        super::to_value(&self.answer())
    }
}

/// One ledger entry a payout settles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayoutItem {
    /// The order (empty for an adjustment or a day's traffic).
    pub order_id: String,
    pub level: u32,
    /// `commission`, `clawback` or `refund` (negative amounts), `adjustment` or
    /// `deduction` (negative), `traffic` (a day's clicks and impressions).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub kind: EntryKind,
    pub amount: String,
    /// A refund's or an adjustment's id, or a day's traffic
    /// (`YYYY-MM-DD/campaign/partner`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub reference: Option<String>,
}

impl From<&Entry> for PayoutItem {
    fn from(e: &Entry) -> PayoutItem {
        PayoutItem {
            order_id: e.id.order_id.clone(),
            level: e.id.level.into(),
            kind: e.id.kind,
            amount: signed(e.signed_minor(), e.currency),
            reference: (!e.id.reference.is_empty()).then(|| e.id.reference.clone()),
        }
    }
}

/// A payout with its entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayoutWithItems {
    #[serde(flatten)]
    pub payout: PayoutAnswer,
    pub items: Vec<PayoutItem>,
}

/// Payouts, newest first (or those a run made).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayoutList {
    pub payouts: Vec<PayoutAnswer>,
}

impl PayoutList {
    /// The list of `payouts`, in their order.
    #[must_use]
    pub fn new(payouts: &[Payout]) -> PayoutList {
        PayoutList {
            payouts: payouts.iter().map(PayoutAnswer::from).collect(),
        }
    }
}

/// A partner a payout run passed over: its net in the run (negative when it owes back)
/// and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkippedAnswer {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub partner: Code,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub currency: Currency,
    #[cfg_attr(feature = "openapi", schema(example = "12.50"))]
    pub amount: String,
    pub reason: SkipReason,
}

/// What a payout run made, and the partners with payable money it passed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayoutRunAnswer {
    pub payouts: Vec<PayoutAnswer>,
    pub skipped: Vec<SkippedAnswer>,
}

impl PayoutRunAnswer {
    /// The answer of a run that made `payouts` and passed over `skipped`.
    #[must_use]
    pub fn new(payouts: &[Payout], skipped: &[Skipped]) -> PayoutRunAnswer {
        PayoutRunAnswer {
            payouts: payouts.iter().map(PayoutAnswer::from).collect(),
            skipped: skipped
                .iter()
                .map(|s| SkippedAnswer {
                    partner: s.partner,
                    currency: s.currency,
                    amount: signed(s.net_minor, s.currency),
                    reason: s.reason,
                })
                .collect(),
        }
    }
}

/// An adjustment of a partner's balance, as every API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Adjustment))]
pub struct AdjustmentAnswer {
    /// `adj_` and 24 hexadecimal digits, derived from its `Idempotency-Key`.
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub partner: Code,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub currency: Currency,
    /// Signed: negative takes money back.
    #[cfg_attr(feature = "openapi", schema(example = "-20.00"))]
    pub amount: String,
    pub kind: AdjustmentKind,
    pub memo: String,
    /// `payable`, `in_payout`, `paid` (or `void`).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub state: &'static str,
    /// The payout that holds or paid it.
    pub payout: Option<String>,
    pub created: u64,
}

impl AdjustmentAnswer {
    /// The answer of an adjustment's entry; `None` for any other entry.
    #[must_use]
    pub fn of(e: &Entry) -> Option<AdjustmentAnswer> {
        let note = e.note.as_ref().filter(|_| e.id.kind.is_adjustment())?;
        Some(AdjustmentAnswer {
            id: e.id.reference.clone(),
            partner: e.partner,
            currency: e.currency,
            amount: signed(e.signed_minor(), e.currency),
            kind: note.kind,
            memo: note.memo.clone(),
            state: state_str(e.state),
            payout: e.payout.clone(),
            created: note.created,
        })
    }
}

/// Adjustments, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdjustmentList {
    pub adjustments: Vec<AdjustmentAnswer>,
}

/// How many pending conversions this call approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Approved {
    pub approved: u64,
}

/// A day's traffic earnings of one beneficiary (or their clawback), as every API shows
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = TrafficEntry))]
pub struct TrafficAnswer {
    /// The UTC day of the clicks and impressions, `YYYY-MM-DD`.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-01"))]
    pub day: String,
    /// The day as a day number, for sorting.
    #[serde(skip)]
    pub day_number: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub campaign: Code,
    /// The partner whose traffic it was.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub partner: Code,
    /// Who earns it: the partner (level 0) or an ancestor's override.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub beneficiary: Code,
    pub level: u8,
    /// `traffic`, or `clawback` for what a rejection after payout takes back.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "traffic"))]
    pub kind: &'static str,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub currency: Currency,
    /// Signed: a clawback is negative.
    #[cfg_attr(feature = "openapi", schema(example = "40.00"))]
    pub amount: String,
    /// `pending`, `payable`, `in_payout`, `paid` or `void`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub state: &'static str,
    /// The payout that holds or paid it.
    pub payout: Option<String>,
}

/// The state as the APIs write it.
fn state_str(s: EntryState) -> &'static str {
    match s {
        EntryState::Pending => "pending",
        EntryState::Payable => "payable",
        EntryState::InPayout => "in_payout",
        EntryState::Paid => "paid",
        EntryState::Void => "void",
    }
}

impl TrafficAnswer {
    /// The answer of a traffic entry or its clawback; `None` for any other entry.
    #[must_use]
    pub fn of(e: &Entry) -> Option<TrafficAnswer> {
        if e.id.of_order() || !matches!(e.id.kind, EntryKind::Traffic | EntryKind::Clawback) {
            return None;
        }
        let (day_number, campaign, partner) =
            crate::attribution::days::parse_traffic_reference(&e.id.reference)?;
        Some(TrafficAnswer {
            day: e.id.reference[..10].to_owned(),
            day_number,
            campaign,
            partner,
            beneficiary: e.partner,
            level: e.id.level,
            kind: e.id.kind.as_str(),
            currency: e.currency,
            amount: signed(e.signed_minor(), e.currency),
            state: state_str(e.state),
            payout: e.payout.clone(),
        })
    }
}

/// Traffic earnings, by day, campaign, partner and level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrafficList {
    pub traffic: Vec<TrafficAnswer>,
}
