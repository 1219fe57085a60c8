//! The configuration examples of the book's wgpeerselector page parse, and
//! give the peers and NTP servers the page says.

use gluonvpn_wgpeerselector::{config, uci};
use std::path::Path;

fn page() -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book/src/agents/wgpeerselector.md");
    std::fs::read_to_string(path).expect("book/src/agents/wgpeerselector.md")
}

/// The code block after `<!-- uci: NAME -->`.
fn example(page: &str, name: &str) -> String {
    let marker = format!("<!-- uci: {name} -->\n```text\n");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} example"));
    let rest = &page[at + marker.len()..];
    rest[..rest.find("```").expect("end of block")].to_string()
}

#[test]
fn the_books_examples_parse() {
    let page = page();
    let peers = config::peers(
        &uci::parse(&example(&page, "wgpeerselector")).unwrap(),
        "wg_mesh",
    );
    assert!(peers.warnings.is_empty(), "{:?}", peers.warnings);
    let names: Vec<&str> = peers.peers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["gw01", "gw02"]);
    assert!(peers
        .peers
        .iter()
        .all(|p| p.allowed_ips == vec!["fe80::1/128".parse().unwrap()]));
    let system = uci::parse(&example(&page, "system")).unwrap();
    assert_eq!(
        config::ntp_servers(&system),
        ["0.openwrt.pool.ntp.org", "1.openwrt.pool.ntp.org"]
    );
}

#[test]
fn the_books_option_table_matches_the_help() {
    let page = page();
    let help = gluonvpn_wgpeerselector::cli::HELP;
    // every long option the help names, so a new one cannot miss the book
    let mut options: Vec<&str> = help
        .split(|c: char| c.is_whitespace() || c == ',' || c == '=')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .collect();
    options.sort_unstable();
    options.dedup();
    for expected in [
        "--interface",
        "--status-socket",
        "--ubus-socket",
        "--parallel",
    ] {
        assert!(options.contains(&expected), "{expected} missing in --help");
    }
    for option in options {
        assert!(
            page.contains(&format!("`{option}")) || page.contains(&format!(", `{option}")),
            "{option} missing in the book"
        );
    }
}
