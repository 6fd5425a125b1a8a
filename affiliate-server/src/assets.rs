//! Files served as they are, compiled into the binary.

/// A 1×1 transparent GIF89a (43 bytes).
pub const GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

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

#[cfg(test)]
mod tests {
    #[test]
    fn gif_is_a_1x1_gif() {
        assert_eq!(&super::GIF[..6], b"GIF89a");
        assert_eq!(&super::GIF[6..10], &[1, 0, 1, 0]);
        assert_eq!(super::GIF.last(), Some(&0x3b));
    }
}
