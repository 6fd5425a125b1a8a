//! Attribution: campaigns and their commission plans, partners and their parents, the
//! click plan, the conversions the [`Tracker`] records, and the reports over them.
//!
//! Each file does one job:
//!
//! * `campaign_spec.rs`: [`CampaignSpec`], a campaign as written, and its settings;
//! * `campaign.rs`: the validated [`Campaign`] with its plan;
//! * `partner.rs`, `coupon.rs`, `ad.rs`: partners and their profiles, coupons, ads;
//! * `requests.rs`: the requests that report a conversion (the records themselves are
//!   [`crate::records`]);
//! * `catalogue.rs`: the [`Catalogue`] of campaigns, partners and coupons;
//! * `merge_patch.rs`: the JSON merge patch the API's `PATCH` applies;
//! * `redirect.rs`: a campaign's landing URL with the token in its query;
//! * `deep_link.rs`: a link's `to=` target and the hosts it may land on;
//! * `landing.rs`: a shop's landing step, the token taken out of the URL;
//! * `click.rs`: the [`ClickPlanner`], one stateless step for a whole click;
//! * `decide.rs`: the token decisions that need no store;
//! * `visitor.rs`: bots, crawlers and link-preview agents;
//! * `days.rs`: UTC day numbers and calendar months;
//! * `stats.rs`, `listing.rs`, `export.rs`: reports, listings and CSV files;
//! * `browser.rs`: what a campaign accepts from the browser (pixel and beacon).
//!
//! The [`Tracker`](crate::Tracker), which records what these decide, is `crate::tracker`.
//!
//! The rules:
//!
//! * Evidence, strongest first: a valid session token, a click id (server postback), a
//!   coupon code; manual entries name the partner directly. The strongest evidence
//!   that holds wins; when none holds, the error of the strongest one given is
//!   returned. A customer bound by an earlier sale (recurring campaigns) is credited to
//!   its partner before any new evidence is looked at.
//! * A token or click outside its window attributes nothing (`expired`); a campaign may
//!   require a minimum time from click to conversion (`not_attributable`).
//! * Exactly once per `order_id`: a replay returns the first record marked
//!   `duplicate`; another amount, currency or kind under the same order id is a
//!   `conflict` and changes nothing.
//! * Commissions: the plan's sale percent or flat amount for a sale, its lead flat
//!   amount for a lead or a named action; each ancestor of the partner is paid its
//!   override percent of the partner's commission on top. Per-click and per-mille
//!   impression commissions accrue in the day's counters.
//! * Statuses move `pending → approved → paid`, `pending | approved → rejected`,
//!   `approved | paid → reversed`. Reports count every conversion but leave the revenue
//!   and commission of rejected and reversed ones out (the commission is clawed back).

pub(crate) mod ad;
pub(crate) mod browser;
pub(crate) mod campaign;
pub(crate) mod campaign_spec;
pub(crate) mod catalogue;
pub(crate) mod click;
pub(crate) mod coupon;
pub(crate) mod days;
pub(crate) mod decide;
pub(crate) mod deep_link;
pub(crate) mod export;
pub(crate) mod landing;
pub(crate) mod listing;
pub(crate) mod merge_patch;
pub(crate) mod partner;
pub(crate) mod redirect;
pub(crate) mod refund_requests;
pub(crate) mod requests;
pub(crate) mod stats;
pub(crate) mod visitor;

pub(crate) use crate::records::check_id;
pub use crate::records::{
    Channel, Commission, Conversion, Evidence, Kind, MAX_ID_LEN, Refund, Status,
};
pub use ad::{AdSpec, MediaType};
pub use campaign::{Campaign, SaleCommission};
pub use campaign_spec::{
    Attribution, BrowserConversions, CampaignSpec, CampaignStatus, ClickCommission, CookieConsent,
    DEFAULT_BROWSER_CONVERSIONS_PER_CLICK, DEFAULT_COOKIE_DAYS, MAX_DEEP_LINK_HOSTS,
};
pub use catalogue::Catalogue;
pub use click::{BotPlan, Landing, Planned};
pub use click::{ClickOutcome, ClickPlan, ClickPlanner, Refusal};
pub use coupon::{Coupon, CouponSpec};
pub use days::{format_day, parse_day};
pub use decide::{
    LANDING_SECS, PriorToken, UNIQUE_CLICK_SECS, attribute_token, check_fresh_landing,
    check_min_time, decide_prior_token, weigh_prior_token,
};
pub use deep_link::{DeepTarget, MAX_DEEP_LINK_LEN};
pub use export::{
    ADJUSTMENT_CSV_COLUMNS, CONVERSION_CSV_COLUMNS, PAYOUT_CSV_COLUMNS, conversions_csv, csv_cell,
    format_time, payouts_csv, stats_csv,
};
pub use landing::{LandingRedirect, MAX_LANDING_TARGET_LEN, decide_landing};
pub use listing::{ConversionQuery, ConversionsPage, MAX_LIST_LIMIT, PartnerQuery, PartnersPage};
pub use merge_patch::merge_patch;
pub use partner::{Partner, PartnerSpec, PartnerStatus};
pub use refund_requests::{Postback, PostbackRefund, RefundRequest};
pub use requests::{BrowserConversion, ConversionRequest, ManualConversion, order_amount};
pub use stats::{Amounts, Dimension, MAX_STATS_LIMIT, StatsPage, StatsQuery, StatsRow};
#[cfg(feature = "bots")]
pub use visitor::is_bot;
