//! Privacy and retention: erasing a customer, pruning old clicks.

use super::Tracker;
use crate::attribution::{Campaign, check_id};
use crate::error::{Error, Result};
use crate::store::Erased;

/// The default of `click_retention_days`: a little over a year, so a year-on-year
/// click-id postback still finds its click.
pub const DEFAULT_CLICK_RETENTION_DAYS: u32 = 400;

/// The most click records one [`Tracker::prune_clicks`] call removes.
pub const PRUNE_CLICKS_MAX: usize = 100_000;

impl Tracker {
    /// Erases a customer (a GDPR Art. 17 request): its recurring-commission binding
    /// goes, and `customer_id` is removed from every conversion, replaced record and
    /// outbound event or delivery that carries it. A later sale under the id
    /// attributes as a new customer's. The conversions, their amounts and
    /// commissions stay (the merchant's own accounting).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use affiliate_sdk::{CampaignSpec, ConversionRequest, Keyring, LinkSigner, MemoryStore, PartnerSpec, Tracker};
    /// let signer = LinkSigner::new(Keyring::generate()?, "https://t.shop.example/go")?;
    /// let tracker = Tracker::new(signer, Arc::new(MemoryStore::new()));
    /// let mut spec = CampaignSpec::new("club", "https://shop.example", "USD");
    /// spec.sale_percent = Some("10".into());
    /// spec.recurring_months = 12;
    /// tracker.add_campaign(&spec)?;
    /// tracker.add_partner(&PartnerSpec::new("abc123"))?;
    /// let url = tracker.signer().build("club", "abc123", None, None)?;
    /// let token = tracker.click(&url, None)?.token;
    /// let mut sale = ConversionRequest::sale("A-1", "10.00", "USD");
    /// sale.token = Some(token);
    /// sale.customer_id = Some("cust-42".into());
    /// tracker.convert(&sale)?;
    ///
    /// let erased = tracker.erase_customer("cust-42")?;
    /// assert_eq!((erased.conversions, erased.bindings), (1, 1));
    /// assert_eq!(tracker.conversion("A-1")?.customer_id, None);
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn erase_customer(&self, customer_id: &str) -> Result<Erased> {
        check_id("customer_id", customer_id)?;
        self.store.erase_customer(customer_id)
    }

    /// Removes up to [`PRUNE_CLICKS_MAX`] click records older than `retention_days`
    /// (at least 1), or than the longest cookie window of the campaigns if that is
    /// longer (a click its token can still name is kept). The day counters, and so
    /// every report, stay. Returns how many were removed; call it again while it
    /// removes the maximum.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn prune_clicks(&self, retention_days: u32) -> Result<usize> {
        if retention_days == 0 {
            return Err(Error::malformed(
                "click_retention_days",
                "must be at least 1",
            ));
        }
        let longest = self
            .read()
            .campaigns()
            .iter()
            .map(Campaign::window_secs)
            .max()
            .unwrap_or(0);
        let keep = (u64::from(retention_days) * 86_400).max(longest);
        let before = self.clock.now().saturating_sub(keep);
        self.store.prune_clicks(before, PRUNE_CLICKS_MAX)
    }
}
