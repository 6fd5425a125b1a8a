//! The shapes of the HTTP API's request and answer bodies, as the OpenAPI description
//! shows them. The core builds the answers (`Tracker::campaign_json`,
//! `Conversion::to_json`, …) and parses the requests; these types only describe them,
//! and the tests hold each one to what the server really sends (`super::tests`) and
//! schemathesis holds every endpoint to it (`affiliate-server/openapi/check`).
//!
//! Money is a decimal string (`"49.90"`), never a number; times are Unix seconds;
//! dates `YYYY-MM-DD` (UTC).

#![allow(dead_code)] // Described, never built: the answers are the core's JSON.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

/// Every refusal: `{"error": {"code", "message"}}`, the code from docs/errors.md.
#[derive(ToSchema, Serialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable code and a message for people.
#[derive(ToSchema, Serialize)]
pub struct ErrorDetail {
    /// `malformed`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `invalid_transition`, `managed_by_config`, `invalid_signature`, `expired`,
    /// `unknown_campaign`, `unknown_partner`, `not_attributable`, `store_unavailable`, …
    #[schema(example = "malformed")]
    pub code: String,
    pub message: String,
}

/// A conversion's status.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversionStatus {
    Pending,
    Approved,
    Paid,
    Rejected,
    Reversed,
}

/// How a conversion arrived.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Browser,
    SignedBrowser,
    Server,
    Manual,
}

/// What credited a conversion.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    Token,
    ClickId,
    Coupon,
    Customer,
    Manual,
}

/// `sale`, `lead`, or a named action (`signup`, `trial`: reported and paid as a lead).
#[derive(ToSchema, Serialize)]
#[schema(value_type = String, pattern = "^[A-Za-z0-9_-]{1,64}$", example = "sale")]
pub struct Kind(String);

/// One level's commission on a conversion.
#[derive(ToSchema, Serialize)]
pub struct Commission {
    pub partner: String,
    /// 0 for the partner credited, 1 for its parent's override, …
    pub level: u32,
    #[schema(example = "4.99")]
    pub amount: String,
}

/// A conversion as every endpoint shows it.
#[derive(ToSchema, Serialize)]
pub struct Conversion {
    pub order_id: String,
    pub kind: Kind,
    #[schema(example = "49.90")]
    pub amount: String,
    #[schema(example = "USD")]
    pub currency: String,
    pub campaign: String,
    pub partner: String,
    pub ad: Option<String>,
    pub sid: Option<String>,
    pub click_id: Option<String>,
    pub status: ConversionStatus,
    /// A replay of an order id recorded before.
    pub duplicate: bool,
    /// This record replaced an earlier one of the order id.
    pub replaced: bool,
    pub commissions: Vec<Commission>,
    pub channel: Channel,
    pub evidence: Option<Evidence>,
    pub customer_id: Option<String>,
    pub converted_at: u64,
}

/// A conversion with the records it replaced, oldest first.
#[derive(ToSchema, Serialize)]
pub struct ConversionWithHistory {
    #[serde(flatten)]
    pub conversion: Conversion,
    pub replaced_records: Vec<Conversion>,
}

/// A page of conversions, newest first.
#[derive(ToSchema, Serialize)]
pub struct ConversionPage {
    pub conversions: Vec<Conversion>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// The beacon's short answer (the public endpoint shows nothing more).
#[derive(ToSchema, Serialize)]
pub struct BeaconAnswer {
    pub order_id: String,
    pub status: ConversionStatus,
    pub duplicate: bool,
    pub replaced: bool,
}

/// The snippet's beacon (`POST /v1/conversions`), any content type.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BeaconRequest {
    #[schema(pattern = "^[!#-\\[\\]-~]{1,128}$", example = "A-1001")]
    pub order_id: String,
    #[schema(pattern = "^[0-9]{1,12}(\\.[0-9]{1,4})?$", example = "49.90")]
    pub amount: String,
    #[schema(pattern = "^[A-Z]{3}$", example = "USD")]
    pub currency: String,
    #[schema(nullable = false)]
    pub kind: Option<Kind>,
    /// The session token; else the `aff_token` cookie.
    #[schema(nullable = false)]
    pub token: Option<String>,
    /// The merchant's order signature, `<kid>.<tag>`.
    #[schema(nullable = false)]
    pub osig: Option<String>,
}

/// A server postback: the order and one or more pieces of evidence.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PostbackRequest {
    #[schema(pattern = "^[!#-\\[\\]-~]{1,128}$", example = "A-1001")]
    pub order_id: String,
    #[schema(pattern = "^[0-9]{1,12}(\\.[0-9]{1,4})?$", example = "49.90")]
    pub amount: String,
    #[schema(pattern = "^[A-Z]{3}$", example = "USD")]
    pub currency: String,
    #[schema(nullable = false)]
    pub kind: Option<Kind>,
    #[schema(nullable = false)]
    pub token: Option<String>,
    #[schema(nullable = false)]
    pub click_id: Option<String>,
    #[schema(nullable = false, pattern = "^[A-Za-z0-9_-]{1,64}$", example = "ABC10")]
    pub coupon: Option<String>,
    /// Which campaign a coupon credits, when several exist.
    #[schema(
        nullable = false,
        pattern = "^[A-Za-z0-9_-]{1,64}$",
        example = "haircare"
    )]
    pub campaign: Option<String>,
    /// For recurring commissions; erasable (`DELETE /v1/customers/{customer_id}`).
    #[schema(
        nullable = false,
        pattern = "^[!#-\\[\\]-~]{1,128}$",
        example = "cus_42"
    )]
    pub customer_id: Option<String>,
}

/// A conversion entered by hand.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ManualRequest {
    #[schema(pattern = "^[!#-\\[\\]-~]{1,128}$", example = "A-1001")]
    pub order_id: String,
    #[schema(pattern = "^[0-9]{1,12}(\\.[0-9]{1,4})?$", example = "49.90")]
    pub amount: String,
    #[schema(pattern = "^[A-Z]{3}$", example = "USD")]
    pub currency: String,
    #[schema(nullable = false)]
    pub kind: Option<Kind>,
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", example = "haircare")]
    pub campaign: String,
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", example = "abc123")]
    pub partner: String,
    #[schema(
        nullable = false,
        pattern = "^[A-Za-z0-9_-]{1,64}$",
        example = "banner1"
    )]
    pub ad: Option<String>,
    #[schema(nullable = false, pattern = "^[A-Za-z0-9._~-]{1,64}$", example = "kw1")]
    pub sid: Option<String>,
    #[schema(
        nullable = false,
        pattern = "^[!#-\\[\\]-~]{1,128}$",
        example = "cus_42"
    )]
    pub customer_id: Option<String>,
}

/// A conversion's new status.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    #[schema(example = "approved")]
    pub status: ConversionStatus,
}

/// A payout's new state: `paid` once the money went out, `failed` when it did not.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutStatusRequest {
    #[schema(example = "paid")]
    pub status: PayoutStatus,
}

/// What an ad is.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    Text,
    Image,
    Video,
    Email,
    Social,
    Other,
}

/// Several orders to one status.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BulkStatusRequest {
    /// 1 to 1,000 order ids.
    #[schema(min_items = 1, max_items = 1000, example = json!(["A-1001"]))]
    pub order_ids: Vec<String>,
    pub status: ConversionStatus,
}

/// One order's outcome: its new status, or why not.
#[derive(ToSchema, Serialize)]
pub struct BulkStatusResult {
    pub order_id: String,
    pub status: Option<ConversionStatus>,
    pub error: Option<ErrorDetail>,
}

/// The outcomes, in the order given.
#[derive(ToSchema, Serialize)]
pub struct BulkStatusAnswer {
    pub results: Vec<BulkStatusResult>,
}

/// What an erasure changed.
#[derive(ToSchema, Serialize)]
pub struct Erased {
    pub conversions: u64,
    pub bindings: u64,
    pub events: u64,
}

/// The answer of an erasure.
#[derive(ToSchema, Serialize)]
pub struct ErasedAnswer {
    pub erased: Erased,
}

/// One row of the statistics: the `group_by` dimensions it has, its counts and its
/// money per currency.
#[derive(ToSchema, Serialize)]
pub struct StatsRow {
    pub campaign: Option<String>,
    pub partner: Option<String>,
    pub ad: Option<String>,
    pub sid: Option<String>,
    #[schema(example = "2026-11-30")]
    pub day: Option<String>,
    pub clicks: u64,
    pub unique_clicks: u64,
    pub bot_clicks: u64,
    pub impressions: u64,
    pub leads: u64,
    pub sales: u64,
    /// Currency code → decimal string.
    pub revenue: BTreeMap<String, String>,
    /// Currency code → decimal string: the commission cost, every level.
    pub commission: BTreeMap<String, String>,
}

/// A page of statistics rows.
#[derive(ToSchema, Serialize)]
pub struct StatsPage {
    pub rows: Vec<StatsRow>,
    pub next_cursor: Option<String>,
}

/// What a partner earns as a beneficiary, in one currency (decimal strings;
/// negative only where noted).
#[derive(ToSchema, Serialize)]
pub struct BalanceRow {
    pub partner: String,
    pub currency: String,
    pub pending: String,
    pub payable: String,
    pub in_payout: String,
    pub paid: String,
    pub clawback: String,
}

/// Balance rows by partner code.
#[derive(ToSchema, Serialize)]
pub struct Balances {
    pub rows: Vec<BalanceRow>,
}

/// A partner's state.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerStatus {
    Active,
    Suspended,
}

/// A payout's state.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    Pending,
    Paid,
    Failed,
}

/// A payout: what one partner is paid in one currency.
#[derive(ToSchema, Serialize)]
pub struct Payout {
    #[schema(example = "po_3f1c…")]
    pub id: String,
    pub partner: String,
    pub currency: String,
    pub amount: String,
    /// How many ledger entries it settles.
    pub entries: u64,
    pub status: PayoutStatus,
    pub created: u64,
    pub updated: u64,
}

/// One ledger entry a payout settles.
#[derive(ToSchema, Serialize)]
pub struct PayoutItem {
    pub order_id: String,
    pub level: u32,
    /// `commission` or `clawback` (a negative amount).
    pub kind: String,
    pub amount: String,
}

/// A payout with its entries.
#[derive(ToSchema, Serialize)]
pub struct PayoutWithItems {
    #[serde(flatten)]
    pub payout: Payout,
    pub items: Vec<PayoutItem>,
}

/// Payouts, newest first (or those a run made).
#[derive(ToSchema, Serialize)]
pub struct PayoutList {
    pub payouts: Vec<Payout>,
}

/// A payout run.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutRequest {
    /// ISO 4217: only entries in this currency.
    #[schema(pattern = "^[A-Z]{3}$", example = "USD")]
    pub currency: String,
    /// Only commissions approved on or before this UTC day (`YYYY-MM-DD`).
    #[schema(
        nullable = false,
        pattern = "^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$",
        example = "2026-11-30"
    )]
    pub up_to: Option<String>,
    /// A partner whose net is below it waits for a later run.
    #[schema(
        nullable = false,
        pattern = "^[0-9]{1,12}(\\.[0-9]{1,4})?$",
        example = "49.90"
    )]
    pub min_amount: Option<String>,
    /// Only this partner.
    #[schema(
        nullable = false,
        pattern = "^[A-Za-z0-9_-]{1,64}$",
        example = "abc123"
    )]
    pub partner: Option<String>,
}

/// How many pending conversions this call approved.
#[derive(ToSchema, Serialize)]
pub struct Approved {
    pub approved: u64,
}

/// Which click a conversion credits.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribution {
    Last,
    First,
}

/// Which browser conversions a campaign counts.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BrowserConversions {
    Signed,
    Open,
    Off,
}

/// Whether a campaign runs.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    Active,
    Paused,
}

/// Which clicks pay a per-click commission.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClickCommission {
    Unique,
    Every,
}

/// Whether the click's cookie waits for the visitor's consent.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CookieConsent {
    NotRequired,
    Required,
}

/// A campaign: the fields of a `[[campaign]]` entry (amounts as decimal strings) and,
/// in answers, `managed_by_config`.
#[derive(ToSchema, Serialize)]
pub struct Campaign {
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", example = "spring")]
    pub code: String,
    #[schema(
        pattern = "^https?://[^\\s]+$",
        example = "https://shop.example/spring"
    )]
    pub destination: String,
    #[schema(pattern = "^[A-Z]{3}$", example = "USD")]
    pub currency: String,
    #[schema(nullable = false)]
    pub cookie_days: Option<u32>,
    #[schema(nullable = false)]
    pub attribution: Option<Attribution>,
    #[schema(nullable = false)]
    pub min_seconds_to_convert: Option<u64>,
    #[schema(pattern = "^[0-9]{1,2}(\\.[0-9]{1,2})?$", example = "12")]
    pub sale_percent: Option<String>,
    pub sale_flat: Option<String>,
    pub lead_flat: Option<String>,
    pub click_flat: Option<String>,
    pub impression_per_mille: Option<String>,
    #[schema(nullable = false)]
    pub override_percents: Option<Vec<String>>,
    #[schema(nullable = false)]
    pub recurring_months: Option<u32>,
    #[schema(nullable = false)]
    pub browser_conversions: Option<BrowserConversions>,
    pub max_browser_amount: Option<String>,
    #[schema(nullable = false)]
    pub browser_conversions_per_click: Option<u32>,
    #[schema(nullable = false)]
    pub status: Option<CampaignStatus>,
    #[schema(nullable = false)]
    pub approve_after_days: Option<u32>,
    #[schema(nullable = false)]
    pub deep_link_hosts: Option<Vec<String>>,
    #[schema(nullable = false)]
    pub click_commission: Option<ClickCommission>,
    #[schema(nullable = false)]
    pub daily_paid_click_cap: Option<u32>,
    #[schema(nullable = false)]
    pub daily_paid_impression_cap: Option<u32>,
    #[schema(nullable = false)]
    pub cookie_consent: Option<CookieConsent>,
    /// In answers: an entry of the configuration file, not changeable here.
    #[schema(read_only, nullable = false)]
    pub managed_by_config: Option<bool>,
}

/// Campaigns by code.
#[derive(ToSchema, Serialize)]
pub struct CampaignList {
    pub campaigns: Vec<Campaign>,
}

/// A coupon as a partner's record shows it.
#[derive(ToSchema, Serialize)]
pub struct PartnerCoupon {
    pub code: String,
    pub campaign: Option<String>,
}

/// A partner.
#[derive(ToSchema, Serialize)]
pub struct Partner {
    #[schema(example = "abc123")]
    pub code: String,
    pub parent: Option<String>,
    /// `active` or `suspended`.
    pub status: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub payout_details: Option<String>,
    pub postback_url: Option<String>,
    pub coupons: Vec<PartnerCoupon>,
    pub managed_by_config: bool,
}

/// A new partner: the fields of a `[[partner]]` entry.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerRequest {
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", example = "newpartner")]
    pub code: String,
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", example = "boss1")]
    pub parent: Option<String>,
    #[schema(nullable = false)]
    pub coupons: Option<Vec<String>>,
    /// `active` (default) or `suspended`.
    #[schema(nullable = false)]
    pub status: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub payout_details: Option<String>,
    pub postback_url: Option<String>,
}

/// A page of partners by code.
#[derive(ToSchema, Serialize)]
pub struct PartnerPage {
    pub partners: Vec<Partner>,
    pub next_cursor: Option<String>,
}

/// A coupon to give a partner.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CouponRequest {
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", example = "SPRING-25")]
    pub code: String,
    /// The one campaign it credits; without one, the campaign the order names.
    #[schema(
        nullable = false,
        pattern = "^[A-Za-z0-9_-]{1,64}$",
        example = "haircare"
    )]
    pub campaign: Option<String>,
}

/// A partner's coupon.
#[derive(ToSchema, Serialize)]
pub struct Coupon {
    pub code: String,
    pub partner: String,
    pub campaign: Option<String>,
}

/// A link to sign.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", example = "haircare")]
    pub campaign: String,
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", example = "abc123")]
    pub partner: String,
    #[schema(
        nullable = false,
        pattern = "^[A-Za-z0-9_-]{1,64}$",
        example = "banner1"
    )]
    pub ad: Option<String>,
    #[schema(nullable = false, pattern = "^[A-Za-z0-9._~-]{1,64}$", example = "kw1")]
    pub sid: Option<String>,
    /// A deep-link target on one of the campaign's `deep_link_hosts`.
    #[schema(
        nullable = false,
        pattern = "^https?://[^\\s]+$",
        example = "https://shop.example/p/42"
    )]
    pub to: Option<String>,
}

/// A link a partner asks for: for itself (no `partner`) or a descendant.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerLinkRequest {
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", example = "haircare")]
    pub campaign: String,
    #[schema(
        nullable = false,
        pattern = "^[A-Za-z0-9_-]{1,64}$",
        example = "abc123"
    )]
    pub partner: Option<String>,
    #[schema(
        nullable = false,
        pattern = "^[A-Za-z0-9_-]{1,64}$",
        example = "banner1"
    )]
    pub ad: Option<String>,
    #[schema(nullable = false, pattern = "^[A-Za-z0-9._~-]{1,64}$", example = "kw1")]
    pub sid: Option<String>,
    /// A deep-link target on one of the campaign's `deep_link_hosts`.
    #[schema(
        nullable = false,
        pattern = "^https?://[^\\s]+$",
        example = "https://shop.example/p/42"
    )]
    pub to: Option<String>,
}

/// A URL: a signed link, or a portal sign-in link.
#[derive(ToSchema, Serialize)]
pub struct Url {
    #[schema(example = "https://t.shop.example/go/spring/abc123?sig=k1.…")]
    pub url: String,
}

/// How long a portal sign-in link works.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PortalLinkRequest {
    /// Seconds, default 900, at most 7 days.
    #[schema(nullable = false, minimum = 1, maximum = 604800, example = 900)]
    pub ttl_secs: Option<u64>,
}

/// A partner key's record (never the key).
#[derive(ToSchema, Serialize)]
pub struct PartnerKey {
    #[schema(example = "pkid_…")]
    pub id: String,
    pub partner: String,
    pub created: u64,
}

/// A new partner key: shown this once.
#[derive(ToSchema, Serialize)]
pub struct PartnerKeyCreated {
    #[serde(flatten)]
    pub record: PartnerKey,
    #[schema(example = "pk_…")]
    pub key: String,
}

/// A partner's keys.
#[derive(ToSchema, Serialize)]
pub struct PartnerKeyList {
    pub keys: Vec<PartnerKey>,
}

/// A postback key's record (never the key).
#[derive(ToSchema, Serialize)]
pub struct PostbackKey {
    pub id: String,
    pub label: Option<String>,
    pub created: u64,
}

/// A new postback key: shown this once.
#[derive(ToSchema, Serialize)]
pub struct PostbackKeyCreated {
    #[serde(flatten)]
    pub record: PostbackKey,
    #[schema(example = "pbk_…")]
    pub key: String,
}

/// The postback keys.
#[derive(ToSchema, Serialize)]
pub struct PostbackKeyList {
    pub keys: Vec<PostbackKey>,
}

/// A label for a new postback key.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PostbackKeyRequest {
    /// At most 100 characters.
    #[schema(nullable = false, max_length = 100, example = "Hosted cart")]
    pub label: Option<String>,
}

/// A webhook endpoint.
#[derive(ToSchema, Serialize)]
pub struct Webhook {
    #[schema(example = "wh_…")]
    pub id: String,
    pub url: String,
    /// The event types it receives (every type when created without a list).
    pub events: Vec<String>,
    pub description: Option<String>,
    pub created: u64,
    pub managed_by_config: Option<bool>,
}

/// A new webhook endpoint and its signing secret, shown this once.
#[derive(ToSchema, Serialize)]
pub struct WebhookCreated {
    #[serde(flatten)]
    pub webhook: Webhook,
    #[schema(example = "whsec_…")]
    pub secret: String,
}

/// A webhook endpoint to add.
#[derive(ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    #[schema(nullable = false)]
    pub id: Option<String>,
    pub url: String,
    #[schema(nullable = false)]
    pub events: Option<Vec<String>>,
    #[schema(nullable = false)]
    pub description: Option<String>,
}

/// The webhook endpoints.
#[derive(ToSchema, Serialize)]
pub struct WebhookList {
    pub webhooks: Vec<Webhook>,
}

/// One attempt to deliver.
#[derive(ToSchema, Serialize)]
pub struct Attempt {
    pub at: u64,
    /// The HTTP status the destination answered, if it answered.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// A delivery of an event to a webhook endpoint or a partner's postback URL.
#[derive(ToSchema, Serialize)]
pub struct Delivery {
    pub id: String,
    pub message_id: String,
    pub event: String,
    /// `{"kind": "webhook" | "postback", "id": …}`.
    #[schema(value_type = Object)]
    pub target: serde_json::Value,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: u32,
    pub created: u64,
    /// `null` unless pending.
    pub next_at: Option<u64>,
    pub retry_until: u64,
    pub last_attempts: Vec<Attempt>,
    /// A postback's URL (postbacks only).
    pub url: Option<String>,
}

/// A page of deliveries, newest first.
#[derive(ToSchema, Serialize)]
pub struct DeliveryPage {
    pub deliveries: Vec<Delivery>,
    pub next_cursor: Option<String>,
}

/// A page of a partner's postbacks, newest first.
#[derive(ToSchema, Serialize)]
pub struct PostbackPage {
    pub postbacks: Vec<Delivery>,
    pub next_cursor: Option<String>,
}

/// A partner's own profile.
#[derive(ToSchema, Serialize)]
pub struct PartnerMe {
    pub code: String,
    pub name: Option<String>,
    pub parent: Option<String>,
    pub status: String,
    pub email: Option<String>,
    pub payout_details: Option<String>,
    pub postback_url: Option<String>,
    /// Its direct children's codes.
    pub children: Vec<String>,
    /// The active campaigns and their commission plans.
    pub campaigns: Vec<Campaign>,
}

/// What a partner may change of its profile (a JSON merge patch).
#[derive(ToSchema, Serialize)]
pub struct PartnerMePatch {
    pub name: Option<String>,
    pub payout_details: Option<String>,
    pub postback_url: Option<String>,
}

/// An ad (a creative) of a partner.
#[derive(ToSchema, Serialize)]
pub struct Ad {
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", example = "banner1")]
    pub code: String,
    #[schema(nullable = false)]
    pub partner: Option<String>,
    pub name: String,
    pub description: Option<String>,
    #[schema(nullable = false)]
    pub media_type: Option<MediaType>,
    #[schema(
        pattern = "^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$",
        example = "2026-11-30"
    )]
    pub starts_on: Option<String>,
}

/// A partner's ads.
#[derive(ToSchema, Serialize)]
pub struct AdList {
    pub ads: Vec<Ad>,
}

/// A conversion as a partner sees it: never the customer; `commission` is the
/// caller's own.
#[derive(ToSchema, Serialize)]
pub struct PartnerConversion {
    pub order_id: String,
    pub converted_at: u64,
    pub campaign: String,
    pub partner: String,
    pub ad: Option<String>,
    pub sid: Option<String>,
    pub kind: Kind,
    pub amount: String,
    pub currency: String,
    pub status: ConversionStatus,
    pub commission: String,
}

/// A page of the subtree's conversions, newest first.
#[derive(ToSchema, Serialize)]
pub struct PartnerConversionPage {
    pub conversions: Vec<PartnerConversion>,
    pub next_cursor: Option<String>,
}

/// A JSON merge patch (RFC 7396): the members named are replaced, `null` resets one.
#[derive(ToSchema, Serialize)]
#[schema(value_type = Object)]
pub struct MergePatch(pub serde_json::Value);
