//! The link-local addresses the glue computes are the ones Gluon's nodes
//! configure: checked against an independent implementation (Python's
//! hashlib and ipaddress) for keys from `wg genkey` and for edge keys.

mod common;

use gluonvpn_wg::Key;
use wireguard_vxlan_glue::lladdr::{is_node_link_local, link_local};

#[test]
fn link_local_addresses_match_an_independent_implementation() {
    if !gluonvpn_testnet_tools_present() {
        return;
    }
    let mut keys: Vec<String> = (0..40).map(|_| common::genkey().1).collect();
    // keys whose digests start or end with zero bytes are as likely to hit
    // formatting mistakes as any: add fixed ones and all-equal bytes
    for b in [0u8, 1, 0x7f, 0x80, 0xfe, 0xff] {
        keys.push(Key([b; 32]).to_string());
    }
    let expected = common::python_lladdrs(&keys);
    assert_eq!(expected.len(), keys.len());
    for (key, want) in keys.iter().zip(expected) {
        let got = link_local(&key.parse().unwrap());
        assert_eq!(got, want, "{key}");
        assert!(is_node_link_local(&got));
    }
}

/// python3 and wg are needed; CI has them (.ci/run).
fn gluonvpn_testnet_tools_present() -> bool {
    let ok = ["python3", "wg"].iter().all(|t| {
        std::process::Command::new(t)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok()
    });
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 and wg are needed"
        );
        eprintln!("SKIPPED: needs python3 and wg");
    }
    ok
}
