//! The records at the bottom of the crate: a recorded [`Conversion`], what was converted
//! ([`Kind`]), where it is in its lifecycle ([`Status`]), what credited it
//! ([`Evidence`]), how it was reported ([`Channel`]), its [`Commission`]s, and a
//! customer's [`Binding`]. The store, the ledger and the outbound events read and write
//! them; the rules that make them live in `attribution`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::{Error, Result, field};
use crate::link::Link;
use crate::money::Money;

mod bindings;

pub use bindings::{Binding, Bindings};

/// What a level's commission `commission` has given back once `refunded` of the
/// order's `amount` is refunded: `floor(commission × refunded / amount)` in minor
/// units, and all of it when `refunded` reaches `amount`. Cumulative, so the clawbacks
/// of an order never exceed what it earned and a full refund returns exactly
/// everything.
#[must_use]
pub fn clawed_back(commission: u64, amount: u64, refunded: u64) -> u64 {
    if amount == 0 || refunded >= amount {
        return commission;
    }
    let v = u128::from(commission) * u128::from(refunded) / u128::from(amount);
    u64::try_from(v).unwrap_or(commission)
}

/// Longest order id or customer id, in bytes.
pub const MAX_ID_LEN: usize = 128;

/// What was converted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A sale: paid by the campaign's sale plan.
    Sale,
    /// A lead: paid the campaign's lead flat amount.
    Lead,
    /// A named action (`signup`, `trial`): reported and paid as a lead.
    Action(Code),
}

impl Kind {
    /// `sale`, `lead` or the action's name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Kind::Sale => "sale",
            Kind::Lead => "lead",
            Kind::Action(c) => c.as_str(),
        }
    }
}

impl FromStr for Kind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Kind> {
        Ok(match s {
            "sale" => Kind::Sale,
            "lead" => Kind::Lead,
            other => Kind::Action(field("kind", Code::new(other))?),
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Kind, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Where a conversion is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ConversionStatus))]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Recorded, not yet reviewed (every new conversion).
    Pending,
    /// Accepted by the merchant.
    Approved,
    /// Commission paid out.
    Paid,
    /// Refused (fraud, test order): no revenue, no commission.
    Rejected,
    /// Refunded after approval: the commission is clawed back.
    Reversed,
}

impl Status {
    /// The lowercase name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Paid => "paid",
            Status::Rejected => "rejected",
            Status::Reversed => "reversed",
        }
    }

    /// Whether the lifecycle allows moving from `self` to `to`.
    #[must_use]
    pub fn can_become(self, to: Status) -> bool {
        use Status::{Approved, Paid, Pending, Rejected, Reversed};
        matches!(
            (self, to),
            (Pending, Approved)
                | (Approved, Paid)
                | (Pending | Approved, Rejected)
                | (Approved | Paid, Reversed)
        )
    }

    /// Whether the conversion's revenue and commission count in reports.
    #[must_use]
    pub fn counts_money(self) -> bool {
        !matches!(self, Status::Rejected | Status::Reversed)
    }
}

impl FromStr for Status {
    type Err = Error;
    fn from_str(s: &str) -> Result<Status> {
        Ok(match s {
            "pending" => Status::Pending,
            "approved" => Status::Approved,
            "paid" => Status::Paid,
            "rejected" => Status::Rejected,
            "reversed" => Status::Reversed,
            _ => {
                return Err(Error::malformed(
                    "status",
                    "expected pending, approved, paid, rejected or reversed",
                ));
            }
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What credited the partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// A session token.
    Token,
    /// A click id from a server postback.
    ClickId,
    /// A partner's coupon code.
    Coupon,
    /// A customer bound by an earlier sale (recurring commission).
    Customer,
    /// Entered by hand.
    Manual,
}

impl Evidence {
    /// Every kind of evidence, strongest first.
    pub const ALL: [Evidence; 5] = [
        Evidence::Customer,
        Evidence::Token,
        Evidence::ClickId,
        Evidence::Coupon,
        Evidence::Manual,
    ];

    /// The snake-case name every API shows: `token`, `click_id`, `coupon`, `customer`,
    /// `manual`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Token => "token",
            Evidence::ClickId => "click_id",
            Evidence::Coupon => "coupon",
            Evidence::Customer => "customer",
            Evidence::Manual => "manual",
        }
    }
}

impl FromStr for Evidence {
    type Err = Error;
    fn from_str(s: &str) -> Result<Evidence> {
        Evidence::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| {
                Error::malformed(
                    "evidence",
                    "expected token, click_id, coupon, customer or manual",
                )
            })
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a conversion reached the tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The public pixel or beacon, unsigned (a campaign in `open` mode). An
    /// authenticated channel replaces it (see [`Conversion::replaceable_by`]).
    Browser,
    /// The public pixel or beacon with the merchant's order signature.
    SignedBrowser,
    /// A server postback authenticated by an API key. Records written before channels
    /// were kept read as this.
    #[default]
    Server,
    /// Entered by hand through the authenticated API.
    Manual,
}

impl Channel {
    /// `browser`, `signed_browser`, `server` or `manual`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Browser => "browser",
            Channel::SignedBrowser => "signed_browser",
            Channel::Server => "server",
            Channel::Manual => "manual",
        }
    }

    /// Whether the merchant vouched for the conversion (everything but an unsigned
    /// browser report).
    #[must_use]
    pub fn is_authenticated(self) -> bool {
        self != Channel::Browser
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One partner's share of a conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commission {
    /// Who earns it.
    pub partner: Code,
    /// 0 for the referring partner, 1 for its parent, 2 for the grandparent, ….
    pub level: u8,
    /// How much.
    pub amount: Money,
}

/// A recorded conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversion {
    /// The merchant's order id, unique per tracker.
    pub order_id: String,
    /// Sale, lead or a named action.
    pub kind: Kind,
    /// The order amount (zero for most leads).
    pub amount: Money,
    /// Campaign, partner, ad and sid credited.
    pub link: Link,
    /// The click credited, when the evidence named one.
    pub click_id: Option<ClickId>,
    /// What credited the partner.
    pub evidence: Evidence,
    /// The merchant's customer id, when given.
    pub customer_id: Option<String>,
    /// Lifecycle status.
    pub status: Status,
    /// When it was recorded, Unix seconds.
    pub converted_at: u64,
    /// The partner's commission (level 0) and its ancestors' overrides.
    pub commissions: Vec<Commission>,
    /// How it reached the tracker.
    #[serde(default)]
    pub channel: Channel,
    /// The refunds of the order, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<Refund>,
    /// True when this answer is a replay of an order id recorded before.
    #[serde(skip)]
    pub duplicate: bool,
    /// True when this answer replaced an earlier record of the order id (kept for
    /// audit: [`Tracker::replaced_conversions`](crate::Tracker::replaced_conversions)).
    #[serde(skip)]
    pub replaced: bool,
    /// True when this answer was not recorded: an unsigned browser report of an order
    /// id that another click (or other values) recorded. It is answered as a new
    /// conversion would be, so the public beacon and pixel tell nobody which order ids
    /// exist; nothing changed.
    #[serde(skip)]
    pub withheld: bool,
}

/// A refund of part or all of an order's amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// The merchant's refund id (unique per order): a refund reported again under it is
    /// a replay.
    pub id: String,
    /// The amount refunded, in the order's currency.
    pub amount: Money,
    /// When it was recorded, Unix seconds.
    pub at: u64,
}

impl Conversion {
    /// What the refunds total, minor units.
    #[must_use]
    pub fn refunded_minor(&self) -> u64 {
        self.refunds
            .iter()
            .fold(0u64, |sum, r| sum.saturating_add(r.amount.minor()))
    }

    /// The amount net of refunds.
    #[must_use]
    pub fn net_amount(&self) -> Money {
        Money::from_minor(
            self.amount.minor().saturating_sub(self.refunded_minor()),
            self.amount.currency(),
        )
    }

    /// What a commission of `minor` units of this order keeps after its refunds
    /// ([`clawed_back`] given back).
    #[must_use]
    pub fn net_commission_minor(&self, minor: u64) -> u64 {
        if self.refunds.is_empty() {
            return minor;
        }
        minor - clawed_back(minor, self.amount.minor(), self.refunded_minor())
    }

    /// The conversion as every API shows it (the HTTP server's JSON, the bindings):
    /// Whether `new`, arriving under this record's order id, replaces it (the record
    /// is kept for audit) instead of being a replay or a conflict:
    ///
    /// * an unsigned browser record that is `pending` or `rejected` gives way to any
    ///   authenticated channel (postback, manual entry, signed browser conversion), so a
    ///   browser that claimed an order id first never blocks the merchant;
    /// * a `rejected` record gives way to a postback or manual entry that credits
    ///   another click or partner, so a rejected order id can be attributed again (the
    ///   same attribution again is a replay: a retried postback does not undo a
    ///   rejection).
    ///
    /// Nothing replaces an approved or paid record, nor anything from an unsigned
    /// browser report.
    #[must_use]
    pub fn replaceable_by(&self, new: &Conversion) -> bool {
        if !new.channel.is_authenticated() {
            return false;
        }
        let squatted = self.channel == Channel::Browser
            && matches!(self.status, Status::Pending | Status::Rejected);
        let reattributed = self.status == Status::Rejected
            && matches!(new.channel, Channel::Server | Channel::Manual)
            && (self.link, self.click_id) != (new.link, new.click_id);
        squatted || reattributed
    }

    /// Whether some authenticated conversion could replace this record (see
    /// [`Conversion::replaceable_by`]); if not, a new report of its order id is a
    /// replay or a conflict whatever it credits.
    #[must_use]
    pub fn may_be_replaced(&self) -> bool {
        self.status == Status::Rejected
            || (self.channel == Channel::Browser && self.status == Status::Pending)
    }

    /// The partner's own commission (level 0).
    #[must_use]
    pub fn commission(&self) -> Money {
        self.commissions
            .iter()
            .find(|c| c.level == 0)
            .map_or(Money::zero(self.amount.currency()), |c| c.amount)
    }
}

/// A conversion as reported by a pixel, beacon or postback: strings as they arrived.
/// Checks an order or customer id: 1–128 bytes of printable ASCII other than space,
/// `"` and `\`.
pub(crate) fn check_id(name: &'static str, s: &str) -> Result<()> {
    if s.is_empty() || s.len() > MAX_ID_LEN {
        return Err(Error::malformed(name, "must be 1 to 128 characters"));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    {
        return Err(Error::malformed(
            name,
            "only printable ASCII without spaces, quotes or backslashes",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_written_before_channels_reads_as_a_server_postback() {
        let old = r#"{"order_id":"A-1","kind":"sale","amount":{"minor":4990,"currency":"USD"},
            "link":{"campaign":"haircare","partner":"abc123","ad":null,"sid":null},
            "click_id":null,"evidence":"manual","customer_id":null,"status":"pending",
            "converted_at":1700000000,"commissions":[]}"#;
        let c: Conversion = serde_json::from_str(old).unwrap();
        assert_eq!(c.channel, Channel::Server);
        assert!(
            !c.may_be_replaced(),
            "an old record is never taken for a squatter's"
        );
    }
}
