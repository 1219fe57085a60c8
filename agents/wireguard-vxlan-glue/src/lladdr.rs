//! The link-local address a Gluon node gives its WireGuard interface, which
//! the gateway reaches it at over VXLAN.
//!
//! Gluon (`interface_linklocal_from_wg_public_key` in gluon_wireguard.sh)
//! hashes the public key's base64 text — the 44 characters `wg` prints —
//! with MD5, makes the MAC `02` + the first five bytes of the digest, and
//! the address `fe80::` + that MAC with `ff:fe` in the middle. The leading
//! `02` is kept as it is: unlike EUI-64, no bit is flipped.

use gluonvpn_wg::Key;
use md5::{Digest, Md5};
use std::net::Ipv6Addr;

/// The node's link-local address for its WireGuard public key.
pub fn link_local(key: &Key) -> Ipv6Addr {
    let digest = Md5::digest(key.to_string().as_bytes());
    let d = &digest[..5];
    Ipv6Addr::from([
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, d[0], d[1], 0xff, 0xfe, d[2], d[3], d[4],
    ])
}

/// Whether `addr` has the form of such an address: `fe80::/64` with the
/// interface identifier `02xx:xxff:fexx:xxxx`. Only FDB entries towards
/// such addresses are the glue's to remove; a VXLAN's own default remote
/// (`fe80::1`, say) never has this form.
pub fn is_node_link_local(addr: &Ipv6Addr) -> bool {
    let o = addr.octets();
    o[..8] == [0xfe, 0x80, 0, 0, 0, 0, 0, 0] && o[8] == 0x02 && o[11] == 0xff && o[12] == 0xfe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_has_the_gluon_form() {
        let key: Key = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
            .parse()
            .unwrap();
        let ll = link_local(&key);
        assert!(is_node_link_local(&ll));
        assert_eq!(ll.segments()[0], 0xfe80);
        assert!(!is_node_link_local(&"fe80::1".parse().unwrap()));
        assert!(!is_node_link_local(
            &"fe80:0:0:1:211:22ff:fe33:4455".parse().unwrap()
        ));
        assert!(!is_node_link_local(
            &"fe80::311:22ff:fe33:4455".parse().unwrap()
        ));
        assert!(is_node_link_local(
            &"fe80::211:22ff:fe33:4455".parse().unwrap()
        ));
    }
}
