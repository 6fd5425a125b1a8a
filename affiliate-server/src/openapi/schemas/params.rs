//! The parameters of the click, pixel and postback endpoints, whose queries the core
//! parses itself (`ClickRoutes`, `Tracker::convert_postback_query`): described here.
//! The listings' parameters are the handlers' own structs (`routes/params.rs`).

use utoipa::IntoParams;

use super::{Amount, CodeText, Currency, HttpUrl, Id, Kind, Sid};

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
    /// A refund instead of a conversion: the refund's id, with `order_id` and
    /// `refund_amount` and no other member.
    #[param(nullable = false)]
    pub refund_id: Option<Id>,
    /// The amount refunded (with `refund_id`).
    #[param(nullable = false)]
    pub refund_amount: Option<Amount>,
}
