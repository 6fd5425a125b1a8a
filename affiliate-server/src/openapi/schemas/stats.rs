//! Statistics rows (balances and payouts are the core's answers).

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

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
