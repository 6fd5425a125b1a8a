//! The [`Tracker`]'s refunds: part or all of an order's amount given back, each
//! beneficiary's share clawed back in the same write.

use super::Tracker;
use crate::attribution::{Conversion, Postback, RefundRequest, check_id};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::records::Refund;
use crate::writes::{Refunded, StoreWrites as _};

impl Tracker {
    /// Records a refund of `req.amount` (a decimal string in the order's currency) of
    /// `order_id` under the merchant's `req.refund_id`, and returns the conversion as it
    /// now reads. Each beneficiary gives back its share, per level: after refunds
    /// totalling `R` of an order of amount `A`, a commission `c` has given back
    /// `floor(c × R / A)` minor units ([`clawed_back`](crate::ledger::clawed_back)); a
    /// refund reaching the whole amount returns exactly what remains and makes the
    /// conversion `reversed`.
    ///
    /// Idempotent by `refund_id`: the same id with the same amount answers the
    /// conversion with `duplicate` set and changes nothing; with another amount it is a
    /// `conflict`. An amount of 0 or above what remains is `malformed`; a rejected or
    /// reversed conversion, or a lead of amount 0, is `invalid_transition`; an unknown
    /// order `not_found`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use affiliate_sdk::*;
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     Arc::new(MemoryStore::new()));
    /// # let mut c = CampaignSpec::new("haircare", "https://shop.example/", "USD");
    /// # c.sale_percent = Some("10".into());
    /// # c.override_percents = vec!["20".into()];
    /// # tracker.add_campaign(&c)?;
    /// # tracker.add_partner(&PartnerSpec::new("boss"))?;
    /// # let mut p = PartnerSpec::new("abc123");
    /// # p.parent = Some("boss".into());
    /// # tracker.add_partner(&p)?;
    /// tracker.manual(&ManualConversion::sale("A-1", "100.00", "USD", "haircare", "abc123"))?;
    /// let c = tracker.refund("A-1", &RefundRequest::new("R-1", "30.00"))?;
    /// assert_eq!((c.net_amount().to_string(), c.status), ("70.00".into(), Status::Pending));
    /// let mine = ledger::EntryFilter { order_id: Some("A-1".into()), ..Default::default() };
    /// let shares: Vec<String> = tracker.store().ledger_entries(&mine)?
    ///     .iter().filter(|e| e.id.kind == ledger::EntryKind::Refund)
    ///     .map(|e| format!("{} -{}", e.partner, Money::from_minor(e.amount_minor, e.currency)))
    ///     .collect();
    /// assert_eq!(shares, ["abc123 -3.00", "boss -0.60"]);
    /// assert!(tracker.refund("A-1", &RefundRequest::new("R-1", "30.00"))?.duplicate);
    /// let c = tracker.refund("A-1", &RefundRequest::new("R-2", "70.00"))?;
    /// assert_eq!(c.status, Status::Reversed);
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn refund(&self, order_id: &str, req: &RefundRequest) -> Result<Conversion> {
        check_id("order_id", order_id)?;
        check_id("refund_id", &req.refund_id)?;
        let not_found = || Error::NotFound(format!("conversion {order_id:?}"));
        let current = self.store.conversion(order_id)?.ok_or_else(not_found)?;
        let amount = Money::parse_bounded(&req.amount, current.amount.currency().code(), "amount")?;
        let refund = Refund {
            id: req.refund_id.clone(),
            amount,
            at: self.clock.now(),
        };
        match self.store.refund(order_id, &refund, refund.at)? {
            Refunded::Created(c) => {
                self.events_written();
                Ok(c)
            }
            Refunded::Replayed(mut c) => {
                self.store.flush()?;
                c.duplicate = true;
                Ok(c)
            }
            Refunded::Missing => Err(not_found()),
        }
    }

    /// What a server postback reports: a conversion ([`Tracker::convert`]) or a refund
    /// ([`Tracker::refund`]).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn postback(&self, p: &Postback) -> Result<Conversion> {
        match p {
            Postback::Conversion(req) => self.convert(req),
            Postback::Refund(r) => self.refund(
                &r.order_id,
                &RefundRequest::new(&r.refund_id, &r.refund_amount),
            ),
        }
    }
}
