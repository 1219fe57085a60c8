//! The book's page about the glue (book/src/agents/wireguard-vxlan-glue.md)
//! says what the binary does: its example config parses, its systemd unit
//! verifies (where systemd-analyze is installed), its command lines are
//! accepted, and every option of `--help` is in its table.

use std::path::Path;
use wireguard_vxlan_glue::cli::{self, Command, USAGE};

fn page() -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book/src/agents/wireguard-vxlan-glue.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fenced blocks of a language.
fn blocks(page: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    page.match_indices(&fence)
        .map(|(at, _)| {
            let rest = &page[at + fence.len()..];
            rest[..rest.find("```").expect("end of block")].to_string()
        })
        .collect()
}

#[test]
fn the_example_config_parses() {
    let page = page();
    let json = blocks(&page, "json");
    assert_eq!(json.len(), 1);
    let (w, x) = cli::parse_config(&json[0]).unwrap();
    assert_eq!(w, ["wg-dom1", "wg-dom2"]);
    assert_eq!(x, ["vx-dom1", "vx-dom2"]);
}

#[test]
fn every_option_is_documented() {
    let page = page();
    for word in USAGE.split_whitespace() {
        let word = word.trim_end_matches(',');
        if word.starts_with("--") {
            assert!(
                page.contains(&format!("`{word}")),
                "{word} is not in the page's table"
            );
        }
    }
}

#[test]
fn the_command_lines_are_accepted() {
    let page = page();
    let sh = blocks(&page, "sh");
    let lines: Vec<&str> = sh
        .iter()
        .flat_map(|b| b.lines())
        .filter(|l| l.starts_with("wireguard-vxlan-glue "))
        .collect();
    assert!(!lines.is_empty());
    for line in lines {
        let args = line.split_whitespace().skip(1).map(str::to_string);
        assert!(matches!(cli::parse(args), Ok(Command::Run(_))), "{line}");
    }
}

#[test]
fn the_systemd_unit_verifies() {
    let page = page();
    let ini = blocks(&page, "ini");
    assert_eq!(ini.len(), 1);
    let unit = &ini[0];
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some("/usr/local/bin/wireguard-vxlan-glue"));
    let dir = std::env::temp_dir().join(format!("wvg-book-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // the arguments, with a real config file
    let config = dir.join("config.json");
    std::fs::write(&config, &blocks(&page, "json")[0]).unwrap();
    let args: Vec<String> = words
        .map(|w| {
            if w.ends_with("config.json") {
                config.display().to_string()
            } else {
                w.to_string()
            }
        })
        .collect();
    assert!(matches!(cli::parse(args), Ok(Command::Run(_))), "{exec}");

    let analyze = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output();
    if !analyze.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: systemd-analyze is not installed");
        std::fs::remove_dir_all(&dir).unwrap();
        return;
    }
    // the unit as written, with the binary where this build put it
    let file = dir.join("wireguard-vxlan-glue.service");
    std::fs::write(
        &file,
        unit.replace(
            "/usr/local/bin/wireguard-vxlan-glue",
            env!("CARGO_BIN_EXE_wireguard-vxlan-glue"),
        ),
    )
    .unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&file)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.status.success(), "systemd-analyze verify:\n{text}");
    assert!(
        !text.contains("wireguard-vxlan-glue.service:"),
        "systemd-analyze verify:\n{text}"
    );
}
