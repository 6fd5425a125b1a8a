//! The destination guard's list: the addresses an outbound request must not reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is an address an outbound request must not reach (unless private
/// destinations are allowed): every block of the IANA special-purpose address
/// registries that is not globally reachable, for IPv4 (RFC 6890 and its updates:
/// "this network", private, CGNAT, loopback, link-local, IETF protocol assignments,
/// the documentation and benchmarking blocks, the deprecated 6to4 relay anycast,
/// reserved, broadcast) and IPv6 (unspecified, loopback, IPv4-mapped, IPv4-translated
/// (SIIT), local-use NAT64 `64:ff9b:1::/48`, discard-only, IETF protocol assignments
/// `2001::/23` (Teredo included), documentation, ORCHID, SRv6 SIDs, unique-local,
/// link-local, site-local), plus multicast, and any IPv4 address a NAT64 or 6to4
/// address carries that is one of those. Sources: the registries at
/// <https://www.iana.org/assignments/iana-ipv4-special-registry/> and
/// <https://www.iana.org/assignments/iana-ipv6-special-registry/>.
#[must_use]
pub fn is_inward(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => inward_v4(v4),
        IpAddr::V6(v6) => inward_v6(v6),
    }
}

fn inward_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // CGNAT, 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation, TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast (deprecated)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation, TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // documentation, TEST-NET-3
        || a >= 240 // reserved
}

fn inward_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    // 2001::/23 is IETF protocol assignments, not globally reachable, except the blocks
    // the registry marks reachable: 2001:1::1/128, 2001:1::2/128, 2001:1::3/128,
    // 2001:3::/32 (AMT), 2001:4:112::/48 (AS112), 2001:20::/28 (ORCHIDv2), 2001:30::/28
    // (drone remote ID).
    let ietf_reachable = (s[1] == 1 && s[2..7] == [0; 5] && (1..=3).contains(&s[7]))
        || s[1] == 3
        || (s[1] == 4 && s[2] == 0x112)
        || (s[1] & 0xfff0) == 0x20
        || (s[1] & 0xfff0) == 0x30;
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated), fec0::/10
        || s[..6] == [0, 0, 0, 0, 0, 0xffff] // IPv4-mapped, ::ffff:0:0/96
        || s[..6] == [0, 0, 0, 0, 0xffff, 0] // IPv4-translated (SIIT), ::ffff:0:0:0/96
        || s[..3] == [0x64, 0xff9b, 1] // local-use NAT64, 64:ff9b:1::/48
        || s[..4] == [0x100, 0, 0, 0] // discard-only, 100::/64
        || s[..4] == [0x100, 0, 0, 1] // dummy prefix, 100:0:0:1::/64
        || (s[0] == 0x2001 && s[1] < 0x200 && !ietf_reachable) // 2001::/23, Teredo 2001::/32
        || (s[0] == 0x2001 && s[1] == 0xdb8) // documentation, 2001:db8::/32
        || (s[0] & 0xfff0) == 0x3ff0 // documentation, 3fff::/20
        || s[0] == 0x5f00 // SRv6 SIDs, 5f00::/16
        // IPv4-compatible (deprecated) ::a.b.c.d
        || (s[..6] == [0; 6] && inward_v4(embedded(s[6], s[7])))
        // NAT64 64:ff9b::/96
        || (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && inward_v4(embedded(s[6], s[7])))
        // 6to4 2002:V4ADDR::/48
        || (s[0] == 0x2002 && inward_v4(embedded(s[1], s[2])))
}
