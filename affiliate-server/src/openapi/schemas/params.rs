//! Query and path parameters that several endpoints share.

use utoipa::IntoParams;

use super::{
    Amount, CodeText, ConversionStatus, Currency, Day, HttpUrl, Id, Kind, PayoutStatus, Sid,
};

/// The path of a link: `/go/{campaign}/{partner}` (an ad may follow as a third segment).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct LinkPath {
    /// The campaign code.
    pub campaign: CodeText,
    /// The partner code; an ad may follow as a third segment.
    pub partner: CodeText,
}

/// A link's query: only `sig` is signed; anything else never fails a link.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// The link's signature, `<kid>.<tag>`.
    pub sig: String,
    /// A sub-id (unsigned): the partner's own tracking.
    #[param(nullable = false)]
    pub sid: Option<Sid>,
    /// A deep-link target (unsigned, percent-encoded) on one of the campaign's
    /// `deep_link_hosts`.
    #[param(nullable = false)]
    pub to: Option<HttpUrl>,
}

/// An impression link's query.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImpressionQuery {
    /// The link's signature, `<kid>.<tag>`.
    pub sig: String,
    /// A sub-id (unsigned): the impression counts under it.
    #[param(nullable = false)]
    pub sid: Option<Sid>,
}

/// An order, as the pixel and the postback URL take it.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    pub order_id: Id,
    pub amount: Amount,
    pub currency: Currency,
    /// `sale` (default), `lead` or an action.
    #[param(nullable = false)]
    pub kind: Option<Kind>,
    /// The session token; on the pixel, else the `aff_token` cookie.
    #[param(nullable = false)]
    pub token: Option<String>,
}

/// The pixel's order signature.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderSignature {
    /// The merchant's order signature, `<kid>.<tag>` (campaigns in `signed` mode).
    #[param(nullable = false)]
    pub osig: Option<String>,
}

/// The evidence and customer a postback URL may carry besides the token.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PostbackEvidence {
    /// The click id.
    #[param(nullable = false)]
    pub click_id: Option<String>,
    /// A coupon code.
    #[param(nullable = false)]
    pub coupon: Option<CodeText>,
    /// For recurring commissions.
    #[param(nullable = false)]
    pub customer_id: Option<Id>,
    /// Which campaign a coupon credits.
    #[param(nullable = false)]
    pub campaign: Option<CodeText>,
}

/// The filters of a conversion listing.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversionFilters {
    #[param(nullable = false)]
    pub status: Option<ConversionStatus>,
    /// The partner credited.
    #[param(nullable = false)]
    pub partner: Option<CodeText>,
    #[param(nullable = false)]
    pub campaign: Option<CodeText>,
    /// The first UTC day.
    #[param(nullable = false)]
    pub from: Option<Day>,
    /// The last UTC day.
    #[param(nullable = false)]
    pub to: Option<Day>,
}

/// A page of a listing.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// 1 to 1,000 (default 100).
    #[param(nullable = false, minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `next_cursor` of the page before.
    #[param(nullable = false)]
    pub cursor: Option<String>,
}

/// What the statistics count and how they are grouped.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsFilters {
    /// Comma-separated `campaign`, `partner`, `ad`, `sid`, `day`; none: one total row.
    #[param(
        nullable = false,
        pattern = "^(campaign|partner|ad|sid|day)(,(campaign|partner|ad|sid|day))*$"
    )]
    pub group_by: Option<String>,
    /// The first UTC day.
    #[param(nullable = false)]
    pub from: Option<Day>,
    /// The last UTC day.
    #[param(nullable = false)]
    pub to: Option<Day>,
    #[param(nullable = false)]
    pub campaign: Option<CodeText>,
    #[param(nullable = false)]
    pub partner: Option<CodeText>,
}

/// A page of statistics rows.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsPaging {
    /// 1 to 10,000 (the default).
    #[param(nullable = false, minimum = 1, maximum = 10000)]
    pub limit: Option<u32>,
    /// `next_cursor` of the page before.
    #[param(nullable = false)]
    pub cursor: Option<String>,
}

/// Whose balances or payouts, in which currency.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerFilters {
    #[param(nullable = false)]
    pub partner: Option<CodeText>,
    #[param(nullable = false)]
    pub currency: Option<Currency>,
}

/// Which payouts.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PayoutFilter {
    #[param(nullable = false)]
    pub status: Option<PayoutStatus>,
}
