//! Which addresses a webhook may be sent to. A store's own network (loopback, link-local, private
//! ranges, the cloud metadata service at 169.254.169.254) is off limits unless the store allows
//! private targets explicitly; otherwise a registered URL would let an admin (or whoever steals
//! an admin token) make the service call its neighbours (SSRF).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unspecified,
    Loopback,
    Private,
    LinkLocal,
    SharedAddressSpace,
    Multicast,
    Broadcast,
    Documentation,
    Reserved,
}

impl Refusal {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Unspecified => "an unspecified address",
            Self::Loopback => "a loopback address",
            Self::Private => "a private network address",
            Self::LinkLocal => "a link-local address",
            Self::SharedAddressSpace => "a carrier-grade NAT address",
            Self::Multicast => "a multicast address",
            Self::Broadcast => "a broadcast address",
            Self::Documentation => "a documentation address",
            Self::Reserved => "a reserved address",
        }
    }
}

/// `None` when the address is a public unicast one; otherwise why not. IPv4 addresses written in
/// IPv6 form (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4
/// `2002:aabb:ccdd::`) are judged by the IPv4 address they carry.
pub fn classify(ip: IpAddr) -> Option<Refusal> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Refusal> {
    let [a, b, c, _] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some(Refusal::Unspecified)
    } else if ip.is_loopback() {
        Some(Refusal::Loopback)
    } else if ip.is_private() {
        Some(Refusal::Private)
    } else if ip.is_link_local() {
        Some(Refusal::LinkLocal)
    } else if a == 100 && (64..128).contains(&b) {
        Some(Refusal::SharedAddressSpace)
    } else if ip.is_multicast() {
        Some(Refusal::Multicast)
    } else if ip.is_broadcast() {
        Some(Refusal::Broadcast)
    } else if ip.is_documentation() {
        Some(Refusal::Documentation)
    } else if a >= 240 || (a == 192 && b == 0 && c == 0) || (a == 198 && (b & 0xfe) == 18) {
        // 240/4 reserved, 192.0.0.0/24 protocol assignments, 198.18.0.0/15 benchmarking.
        Some(Refusal::Reserved)
    } else {
        None
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<Refusal> {
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let segments = ip.segments();
    if ip.is_unspecified() {
        Some(Refusal::Unspecified)
    } else if ip.is_loopback() {
        Some(Refusal::Loopback)
    } else if (segments[0] & 0xfe00) == 0xfc00 {
        // fc00::/7 unique local addresses, IPv6's private ranges.
        Some(Refusal::Private)
    } else if (segments[0] & 0xffc0) == 0xfe80 || (segments[0] & 0xffc0) == 0xfec0 {
        // fe80::/10 link-local and the deprecated site-local fec0::/10.
        Some(Refusal::LinkLocal)
    } else if ip.is_multicast() {
        Some(Refusal::Multicast)
    } else if segments[0] == 0x2001 && segments[1] == 0x0db8 {
        Some(Refusal::Documentation)
    } else if segments[0] == 0x0100 && segments[1..4] == [0, 0, 0] {
        // 100::/64 discard-only.
        Some(Refusal::Reserved)
    } else {
        None
    }
}

/// The IPv4 address an IPv6 address stands for, in the forms that route to it.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new(
        (s[6] >> 8) as u8,
        (s[6] & 0xff) as u8,
        (s[7] >> 8) as u8,
        (s[7] & 0xff) as u8,
    );
    if s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff {
        return Some(tail); // ::ffff:a.b.c.d
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] && !(s[6] == 0 && s[7] <= 1) {
        return Some(tail); // ::a.b.c.d (deprecated compatible form), not :: or ::1
    }
    if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(tail); // 64:ff9b::/96 NAT64
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            (s[1] & 0xff) as u8,
            (s[2] >> 8) as u8,
            (s[2] & 0xff) as u8,
        )); // 2002::/16 6to4
    }
    None
}

#[cfg(test)]
mod tests {
    use super::Refusal::*;
    use super::*;

    fn judge(text: &str) -> Option<Refusal> {
        classify(text.parse().unwrap())
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.1.1",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ] {
            assert_eq!(judge(ip), None, "{ip}");
        }
    }

    #[test]
    fn ipv4_internal_ranges_are_refused() {
        let cases = [
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("10.0.0.1", Private),
            ("10.255.255.255", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.0.1", Private),
            ("169.254.169.254", LinkLocal),
            ("100.64.0.1", SharedAddressSpace),
            ("100.127.255.255", SharedAddressSpace),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("255.255.255.255", Broadcast),
            ("192.0.2.1", Documentation),
            ("198.51.100.7", Documentation),
            ("203.0.113.9", Documentation),
            ("240.0.0.1", Reserved),
            ("192.0.0.8", Reserved),
            ("198.18.0.1", Reserved),
            ("198.19.255.255", Reserved),
        ];
        for (ip, why) in cases {
            assert_eq!(judge(ip), Some(why), "{ip}");
        }
    }

    #[test]
    fn ipv6_internal_ranges_are_refused() {
        let cases = [
            ("::", Unspecified),
            ("::1", Loopback),
            ("fc00::1", Private),
            ("fd12:3456:789a::1", Private),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("fec0::1", LinkLocal),
            ("ff02::1", Multicast),
            ("2001:db8::1", Documentation),
            ("100::1", Reserved),
        ];
        for (ip, why) in cases {
            assert_eq!(judge(ip), Some(why), "{ip}");
        }
    }

    #[test]
    fn ipv4_hidden_in_ipv6_is_judged_as_ipv4() {
        let cases = [
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:7f00:1", Loopback),
            ("::ffff:169.254.169.254", LinkLocal),
            ("::ffff:10.1.2.3", Private),
            ("::127.0.0.1", Loopback),
            ("::10.0.0.1", Private),
            ("64:ff9b::127.0.0.1", Loopback),
            ("64:ff9b::a9fe:a9fe", LinkLocal),
            ("2002:7f00:0001::", Loopback),
            ("2002:c0a8:0101::1", Private),
            ("::ffff:0.0.0.0", Unspecified),
        ];
        for (ip, why) in cases {
            assert_eq!(judge(ip), Some(why), "{ip}");
        }
    }
}
