//! The ledger through the tracker: balances per beneficiary and currency.

use super::Tracker;
use crate::code::Code;
use crate::error::Result;
use crate::ledger::{Balance, EntryFilter, balances};
use crate::money::Currency;

impl Tracker {
    /// What each beneficiary earns at every level, per currency, by partner code:
    /// pending, payable, in payouts, paid, and clawed back (see
    /// [`ledger`](crate::ledger) for what each counts). Optionally one partner's or
    /// one currency's. Reads the store.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use affiliate_sdk::*;
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     Arc::new(MemoryStore::new()));
    /// let mut spec = CampaignSpec::new("haircare", "https://shop.example/", "USD");
    /// spec.sale_percent = Some("10".into());
    /// spec.override_percents = vec!["10".into()];
    /// tracker.add_campaign(&spec)?;
    /// tracker.add_partner(&PartnerSpec::new("boss1"))?;
    /// tracker.add_partner(&PartnerSpec { parent: Some("boss1".into()), ..PartnerSpec::new("abc123") })?;
    /// tracker.manual(&ManualConversion::sale("A-1", "60.00", "USD", "haircare", "abc123"))?;
    /// tracker.set_status("A-1", Status::Approved)?;
    /// let rows = tracker.balances(None, None)?;
    /// // Each beneficiary on its own row: the child 6.00, its parent's override 0.60.
    /// let payable: Vec<(String, i128)> = rows.iter().map(|(p, _, b)| (p.to_string(), b.payable)).collect();
    /// assert_eq!(payable, [("abc123".to_string(), 600), ("boss1".to_string(), 60)]);
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    pub fn balances(
        &self,
        partner: Option<&str>,
        currency: Option<&str>,
    ) -> Result<Vec<(Code, Currency, Balance)>> {
        let filter = EntryFilter {
            partner: partner.map(Code::new).transpose()?,
            currency: currency.map(Currency::new).transpose()?,
            order_id: None,
        };
        let entries = self.store.ledger_entries(&filter)?;
        Ok(balances(&entries)
            .into_iter()
            .map(|((p, c), b)| (p, c, b))
            .collect())
    }
}
