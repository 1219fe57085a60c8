//! What a Gluon node derives from its site and its keys, computed the same
//! way, so that gateways can be configured to match.
//!
//! * [`domain_seed_bytes`]: gluon-core's `gluon.util.domain_seed_bytes(key,
//!   length)` (`package/gluon-core/luasrc/usr/lib/lua/gluon/util.lua`,
//!   unchanged from v2022.1 to v2025.1). It hashes with lua-hash's `md5`,
//!   which returns the digest as 32 lower-case hex digits.
//! * [`vxlan_vni`]: the VXLAN ID of a domain, `tonumber(domain_seed_bytes(
//!   "gluon-mesh-vxlan", 3), 16)`, used both by the wired mesh
//!   (`gluon_wired.sh`) and by the VXLAN over WireGuard (`gluon_wireguard.sh`).
//! * [`wireguard_link_local`]: the address a node puts on its WireGuard
//!   interface, derived from its public key by `gluon_wireguard.sh`'s
//!   `interface_linklocal_from_wg_public_key` (in gluon-mesh-vpn-core from
//!   v2022.1 to v2023.2, in gluon-mesh-vpn-wireguard from v2025.1; the
//!   same rule throughout).

use crate::keys::WgPublicKey;
use md5::{Digest, Md5};
use std::fmt::Write as _;
use std::net::Ipv6Addr;

/// The `key` Gluon passes to [`domain_seed_bytes`] for the VXLAN ID.
pub const VXLAN_SEED_KEY: &str = "gluon-mesh-vxlan";

fn md5_hex(data: &[u8]) -> String {
    let digest = Md5::digest(data);
    let mut hex = String::with_capacity(32);
    for b in digest.iter() {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// Gluon's `domain_seed_bytes(key, length)`: `2·length` lower-case hex
/// digits derived from the domain's `domain_seed`.
///
/// Starting from `v = ""`, for `i = 1, 2, …` it computes
/// `v = md5_hex(v .. key .. lower(domain_seed) .. i)` (`i` in decimal) and
/// appends `v` to the result until it holds `2·length` digits, then cuts it
/// there. Only the seed is lower-cased, not `key`.
pub fn domain_seed_bytes(domain_seed: &str, key: &str, length: usize) -> String {
    let seed = domain_seed.to_lowercase();
    let mut out = String::with_capacity(2 * length + 32);
    let mut v = String::new();
    let mut i: u64 = 0;
    while out.len() < 2 * length {
        i += 1;
        v = md5_hex(format!("{v}{key}{seed}{i}").as_bytes());
        out.push_str(&v);
    }
    out.truncate(2 * length);
    out
}

/// The VXLAN network identifier Gluon gives a domain: the first 3 bytes of
/// `domain_seed_bytes("gluon-mesh-vxlan", 3)` as one big-endian integer
/// (0 ..= 16 777 215).
pub fn vxlan_vni(domain_seed: &str) -> u32 {
    let hex = domain_seed_bytes(domain_seed, VXLAN_SEED_KEY, 3);
    u32::from_str_radix(&hex, 16).expect("md5 hex digits")
}

/// The MAC address Gluon derives from a node's WireGuard public key: `02`
/// followed by the first five bytes of the MD5 of the key's base64 text
/// (exactly the 44 characters `wg pubkey` prints, no newline).
pub fn wireguard_mac(key: &WgPublicKey) -> [u8; 6] {
    let digest = Md5::digest(key.to_base64().as_bytes());
    [0x02, digest[0], digest[1], digest[2], digest[3], digest[4]]
}

/// The link-local address a Gluon node configures (as a /128) on its
/// WireGuard interface, and that gateways reach it at over VXLAN: for the
/// MAC `02:aa:bb:cc:dd:ee` of [`wireguard_mac`] it is
/// `fe80::02aa:bbff:fecc:ddee` — `ff:fe` inserted in the middle, and the
/// leading `02` kept as it is (unlike EUI-64, the universal/local bit is
/// not flipped).
pub fn wireguard_link_local(key: &WgPublicKey) -> Ipv6Addr {
    let m = wireguard_mac(key);
    let word = |hi: u8, lo: u8| u16::from_be_bytes([hi, lo]);
    Ipv6Addr::new(
        0xfe80,
        0,
        0,
        0,
        word(m[0], m[1]),
        word(m[2], 0xff),
        word(0xfe, m[3]),
        word(m[4], m[5]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "1f3a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a";

    #[test]
    fn lua_hash_md5_is_lower_case_hex() {
        // the test vector in lua-hash's own test.lua
        assert_eq!(md5_hex(b"testing"), "ae2b1fca515949e5d54fb22b8ed95575");
    }

    #[test]
    fn the_first_block_is_md5_of_key_seed_and_one() {
        let first = md5_hex(format!("{VXLAN_SEED_KEY}{SEED}1").as_bytes());
        assert_eq!(domain_seed_bytes(SEED, VXLAN_SEED_KEY, 3), first[..6]);
        assert_eq!(domain_seed_bytes(SEED, VXLAN_SEED_KEY, 16), first);
        // the second block chains the first
        let second = md5_hex(format!("{first}{VXLAN_SEED_KEY}{SEED}2").as_bytes());
        assert_eq!(
            domain_seed_bytes(SEED, VXLAN_SEED_KEY, 20),
            format!("{first}{}", &second[..8])
        );
        assert_eq!(domain_seed_bytes(SEED, VXLAN_SEED_KEY, 0), "");
    }

    #[test]
    fn the_seed_is_lower_cased_and_the_key_is_not() {
        assert_eq!(vxlan_vni(SEED), vxlan_vni(&SEED.to_uppercase()));
        assert_ne!(
            domain_seed_bytes(SEED, "Gluon-Mesh-VXLAN", 3),
            domain_seed_bytes(SEED, VXLAN_SEED_KEY, 3)
        );
    }

    #[test]
    fn the_link_local_address_keeps_the_02() {
        let key = WgPublicKey::from_bytes([7u8; 32]);
        let mac = wireguard_mac(&key);
        let addr = wireguard_link_local(&key);
        let s = addr.segments();
        assert_eq!(s[4], 0x0200 | u16::from(mac[1]));
        assert_eq!(s[5] & 0xff, 0xff);
        assert_eq!(s[6] >> 8, 0xfe);
        assert!(addr.is_unicast_link_local());
    }
}
