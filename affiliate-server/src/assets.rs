//! Files served as they are, compiled into the binary.

/// The browser snippet, as built into `snippet/dist/` (its tests check the build
/// matches the source and stays under 1,200 bytes gzipped).
pub const SNIPPET: &str = include_str!("../../snippet/dist/snippet.js");

/// The dashboard page.
pub const DASHBOARD_HTML: &str = include_str!("../assets/dashboard.html");
/// The dashboard's script.
pub const DASHBOARD_JS: &str = include_str!("../assets/dashboard.js");
/// The dashboard's program views (partners, conversions review).
pub const PROGRAM_JS: &str = include_str!("../assets/program.js");
/// The dashboard's payouts view (runs, paid or failed, CSV).
pub const PAYOUTS_JS: &str = include_str!("../assets/payouts.js");
/// The dashboard's webhooks view (endpoints, delivery log, send again).
pub const WEBHOOKS_JS: &str = include_str!("../assets/webhooks.js");
/// The partner portal page and its script.
pub const PORTAL_HTML: &str = include_str!("../assets/portal.html");
pub const PORTAL_JS: &str = include_str!("../assets/portal.js");
/// Chart.js 4.6.1 (MIT), `dist/chart.umd.min.js` from npm, unchanged; the browser tests
/// check it against the npm package.
pub const CHART_JS: &str = include_str!("../assets/chart.umd.min.js");
