//! The merchant's views of the program and of conversions: partner and conversion
//! listings a page at a time, bulk status changes, the API's JSON of campaigns and
//! partners, and links for known codes.

use super::Tracker;
use crate::answers::{
    BulkStatusAnswer, BulkStatusResult, CampaignAnswer, ErrorDetail, PartnerAnswer,
};
use crate::attribution::listing::{conversions_page, newest_first, partners_page};
use crate::attribution::{
    Campaign, Conversion, ConversionQuery, ConversionsPage, DeepTarget, Partner, PartnerQuery,
    PartnersPage, Status,
};
use crate::code::Code;
use crate::error::rename;
use crate::error::{Error, Result};
use crate::link::Link;
use crate::store::RecordKind;

/// Most order ids one bulk status change takes.
pub(crate) const MAX_BULK_STATUS: usize = 1000;

impl Tracker {
    /// One page of partners by code, after `cursor` (the `next_cursor` of the page
    /// before), at most `limit` (1 to 1000).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn partners_page(
        &self,
        query: &PartnerQuery,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<PartnersPage> {
        let catalogue = self.read();
        let mut sorted = catalogue.partner_refs();
        sorted.sort_unstable_by_key(|p| p.code);
        partners_page(&sorted, query, limit, cursor)
    }

    /// One page of conversions, newest first, after `cursor`, at most `limit` (1 to
    /// 1000). Reads the store.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use affiliate_sdk::*;
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     Arc::new(MemoryStore::new()));
    /// # tracker.add_campaign(&CampaignSpec::new("haircare", "https://shop.example/", "USD"))?;
    /// # tracker.add_partner(&PartnerSpec::new("abc123"))?;
    /// for id in ["A-1", "A-2", "A-3"] {
    ///     tracker.manual(&ManualConversion::sale(id, "10.00", "USD", "haircare", "abc123"))?;
    /// }
    /// let mut q = ConversionQuery::default();
    /// q.status = Some(Status::Pending);
    /// let first = tracker.conversions_page(&q, 2, None)?;
    /// let second = tracker.conversions_page(&q, 2, first.next_cursor.as_deref())?;
    /// assert_eq!((first.conversions.len(), second.conversions.len()), (2, 1));
    /// assert_eq!(second.next_cursor, None);
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn conversions_page(
        &self,
        query: &ConversionQuery,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<ConversionsPage> {
        let (from, to) = self.day_range(query.from_day, query.to_day)?;
        conversions_page(self.store.conversions(from, to)?, query, limit, cursor)
    }

    /// Every conversion the query matches, newest first (for a CSV file).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn conversions_matching(&self, query: &ConversionQuery) -> Result<Vec<Conversion>> {
        let (from, to) = self.day_range(query.from_day, query.to_day)?;
        let mut all = self.store.conversions(from, to)?;
        all.retain(|c| query.matches(c));
        newest_first(&mut all);
        Ok(all)
    }

    /// Sets the status of each order on its own (at most 1000): each answer is the
    /// conversion after the change or the error for that order id alone.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn set_statuses(
        &self,
        order_ids: &[String],
        status: Status,
    ) -> Result<Vec<(String, Result<Conversion>)>> {
        if order_ids.is_empty() || order_ids.len() > MAX_BULK_STATUS {
            return Err(Error::malformed(
                "order_ids",
                "must hold 1 to 1000 order ids",
            ));
        }
        Ok(order_ids
            .iter()
            .map(|id| (id.clone(), self.set_status(id, status)))
            .collect())
    }

    /// [`Tracker::set_statuses`] as every API answers it ([`BulkStatusAnswer`]): per
    /// order id, in the order given, `{"order_id", "status"}` or `{"order_id",
    /// "error": {"code", "message"}}`.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn set_statuses_answer(
        &self,
        order_ids: &[String],
        status: Status,
    ) -> Result<BulkStatusAnswer> {
        let results = self
            .set_statuses(order_ids, status)?
            .into_iter()
            .map(|(order_id, r)| match r {
                Ok(c) => BulkStatusResult {
                    order_id,
                    status: Some(c.status),
                    error: None,
                },
                Err(e) => BulkStatusResult {
                    order_id,
                    status: None,
                    error: Some(ErrorDetail::from(&e)),
                },
            })
            .collect();
        Ok(BulkStatusAnswer { results })
    }

    /// A campaign as the API shows it ([`CampaignAnswer`]): its spec (amounts as
    /// decimal strings) and `managed_by_config`.
    #[must_use]
    pub fn campaign_answer(&self, campaign: &Campaign) -> CampaignAnswer {
        CampaignAnswer {
            spec: campaign.spec().clone(),
            managed_by_config: self
                .managed_by_config(RecordKind::Campaign, campaign.code().as_str()),
        }
    }

    /// A partner as the API shows it ([`PartnerAnswer`]): code, parent, status,
    /// profile, its coupons as `{code, campaign}` and `managed_by_config`.
    #[must_use]
    pub fn partner_answer(&self, partner: &Partner) -> PartnerAnswer {
        let coupons = self.read().coupons(Some(&partner.code));
        PartnerAnswer::new(
            partner,
            &coupons,
            self.managed_by_config(RecordKind::Partner, partner.code.as_str()),
        )
    }

    /// A signed link for a campaign and partner this tracker knows (`unknown_campaign`,
    /// `unknown_partner` otherwise), with an optional ad and sid, and an optional deep
    /// link target `to` (an absolute URL on one of the campaign's `deep_link_hosts`;
    /// `malformed` with field `to` otherwise), added as the unsigned `&to=`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use affiliate_sdk::{CampaignSpec, Keyring, LinkSigner, MemoryStore, PartnerSpec, Tracker};
    /// let signer = LinkSigner::new(Keyring::generate()?, "https://t.shop.example/go")?;
    /// let tracker = Tracker::new(signer, Arc::new(MemoryStore::new()));
    /// let mut spring = CampaignSpec::new("spring", "https://shop.example/", "USD");
    /// spring.deep_link_hosts = vec!["shop.example".into()];
    /// tracker.add_campaign(&spring)?;
    /// tracker.add_partner(&PartnerSpec::new("ann"))?;
    ///
    /// let url = tracker.link("spring", "ann", None, None, Some("https://shop.example/p/42"))?;
    /// assert!(url.ends_with("&to=https%3A%2F%2Fshop.example%2Fp%2F42"));
    /// let click = tracker.click(&url, None).unwrap();
    /// assert!(click.location.starts_with("https://shop.example/p/42?aff_token="));
    ///
    /// let err = tracker.link("spring", "ann", None, None, Some("https://evil.example/")).unwrap_err();
    /// assert_eq!(err.code(), "malformed");
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    pub fn link(
        &self,
        campaign: &str,
        partner: &str,
        ad: Option<&str>,
        sid: Option<&str>,
        to: Option<&str>,
    ) -> Result<String> {
        let mut url = self.signer.build(campaign, partner, ad, sid)?;
        let link = Link::new(
            Code::new(campaign).map_err(|e| rename(e, "campaign"))?,
            Code::new(partner).map_err(|e| rename(e, "partner"))?,
        );
        let catalogue = self.read();
        let Some(known) = catalogue.campaign_by_code(&link.campaign) else {
            return Err(Error::UnknownCampaign(campaign.to_owned()));
        };
        if catalogue.partner(partner).is_none() {
            return Err(Error::UnknownPartner(partner.to_owned()));
        }
        if let Some(to) = to {
            let target = DeepTarget::parse(to)?;
            known.check_deep_link(&target)?;
            url.push_str("&to=");
            url.extend(url::form_urlencoded::byte_serialize(
                target.href().as_bytes(),
            ));
        }
        Ok(url)
    }
}
