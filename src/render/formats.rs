//! Reading rendered files back: every file of a [`Tree`] is parsed by the
//! reader of its [`Format`] before it is written, so that a template mistake
//! is an error here and not a daemon that refuses to start.

use super::{Entry, Format, RenderError, Tree};
use crate::fastd_conf::{self, Includes};

/// A `wg setconf` file: its sections with their `Key = Value` lines.
pub type WgConfig = Vec<(String, Vec<(String, String)>)>;

/// Parses a `wg setconf` configuration as `wg` reads it (`config.c` in
/// wireguard-tools): `[Interface]` and `[Peer]` sections, `Key = Value`
/// lines with the keys `wg` knows (case-insensitive), `#` comments.
pub fn parse_wg(text: &str) -> Result<WgConfig, String> {
    const INTERFACE: &[&str] = &["privatekey", "listenport", "fwmark"];
    const PEER: &[&str] = &[
        "publickey",
        "presharedkey",
        "allowedips",
        "endpoint",
        "persistentkeepalive",
    ];
    let mut sections: WgConfig = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at = |m: &str| format!("line {}: {m}", i + 1);
        if line.starts_with('[') {
            let name = match line.to_ascii_lowercase().as_str() {
                "[interface]" => "Interface",
                "[peer]" => "Peer",
                _ => return Err(at(&format!("unknown section {line}"))),
            };
            sections.push((name.to_string(), Vec::new()));
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(at("expected `Key = Value`"));
        };
        let (key, value) = (key.trim(), value.trim());
        let Some((section, entries)) = sections.last_mut() else {
            return Err(at("a key before any [Interface] or [Peer]"));
        };
        let known = if section == "Interface" {
            INTERFACE
        } else {
            PEER
        };
        if !known.contains(&key.to_ascii_lowercase().as_str()) {
            return Err(at(&format!("`{key}` is not valid in [{section}]")));
        }
        if value.is_empty() {
            return Err(at(&format!("`{key}` has no value")));
        }
        entries.push((key.to_string(), value.to_string()));
    }
    Ok(sections)
}

/// Parses `key=value` lines (blank lines and `#` comments aside). Keys are
/// lower-case letters, digits and `_`; values are plain words, so that the
/// file can also be sourced by a POSIX shell.
pub fn parse_key_values(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |m: &str| format!("line {}: {m}", i + 1);
        let Some((key, value)) = line.split_once('=') else {
            return Err(at("expected key=value"));
        };
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(at(&format!("invalid key '{key}'")));
        }
        if value.is_empty()
            || !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ":._/-+".contains(c))
        {
            return Err(at(&format!("value of {key} is not a plain word")));
        }
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

/// An INI file: its sections with their `Key=Value` lines.
pub type Ini = Vec<(String, Vec<(String, String)>)>;

/// Parses an INI file as systemd reads unit files (and Python's
/// configparser the tunneldigger broker's): `[Section]` headers, `Key=Value`
/// lines, `#` and `;` comment lines.
pub fn parse_ini(text: &str) -> Result<Ini, String> {
    let mut sections: Ini = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let at = |m: &str| format!("line {}: {m}", i + 1);
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            sections.push((name.to_string(), Vec::new()));
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(at("expected Key=Value"));
        };
        let Some((_, entries)) = sections.last_mut() else {
            return Err(at("a key before any [Section]"));
        };
        if key.trim().is_empty() {
            return Err(at("empty key"));
        }
        entries.push((key.trim().to_string(), value.trim().to_string()));
    }
    Ok(sections)
}

/// Reads a fastd configuration with fastd's lexical rules and checks that
/// its blocks close. It must hold no secret: secrets are included from a
/// file the operator keeps.
pub fn check_fastd(text: &str) -> Result<(), String> {
    if text.contains('\0') {
        return Err("a NUL byte, which fastd reads as the end of a string".into());
    }
    let secrets =
        fastd_conf::string_statements(text, "secret", Includes::Skip).map_err(|e| e.to_string())?;
    if !secrets.is_empty() {
        return Err("a rendered fastd configuration must not hold a secret".into());
    }
    Ok(())
}

/// A fastd peer file: exactly one `key "<64 hex digits>";`.
pub fn check_fastd_peer(text: &str) -> Result<(), String> {
    let found = fastd_conf::single_string_statement(text, "key", Includes::Refuse)
        .map_err(|e| e.to_string())?;
    if found.value.len() != 64 || !found.value.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "{}:{}: the key is not 64 hex digits",
            found.line, found.column
        ));
    }
    Ok(())
}

/// An nftables file of `define`s: outside comments, its braces balance
/// (the tests run it through `nft --check`).
fn check_nft(content: &str) -> Result<(), String> {
    let mut depth: i64 = 0;
    for (number, line) in content.lines().enumerate() {
        let code = line.split('#').next().unwrap_or("");
        for c in code.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth < 0 {
                return Err(format!("line {}: `}}` without `{{`", number + 1));
            }
        }
        if depth == 0
            && !code.trim().is_empty()
            && !code.trim_start().starts_with("define ")
            && code.trim() != "}"
        {
            return Err(format!("line {}: expected a `define`", number + 1));
        }
    }
    if depth != 0 {
        return Err("unbalanced braces".into());
    }
    Ok(())
}

/// Reads one file back by its format.
pub fn reparse(format: Format, content: &str) -> Result<(), String> {
    match format {
        Format::Uci => super::uci::parse(content)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Format::Fastd => check_fastd(content),
        Format::FastdPeer => check_fastd_peer(content),
        Format::Json => serde_json::from_str::<serde_json::Value>(content)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Format::WireGuard => parse_wg(content).map(|_| ()),
        Format::KeyValue => parse_key_values(content).map(|_| ()),
        Format::Ini => parse_ini(content).map(|_| ()),
        Format::Nft => check_nft(content),
        Format::Shell => {
            if content.starts_with("#!/bin/sh\n") {
                Ok(())
            } else {
                Err("a script must start with #!/bin/sh".into())
            }
        }
    }
}

/// Reads every file of a tree back; the first failure is an internal error.
/// Every path must be a plain relative one (no `..`, not absolute): a path
/// that is not comes from a value of the site or the inventory, and is an
/// error before anything is written.
pub fn reparse_tree(tree: &Tree) -> Result<(), RenderError> {
    for entry in &tree.entries {
        crate::writing::plain_relative(entry.path()).map_err(|e| {
            super::invalid(format!(
                "not rendering: {e} (a value of the site or the inventory is in it)"
            ))
        })?;
    }
    for entry in &tree.entries {
        if let Entry::File {
            path,
            content,
            format,
            ..
        } = entry
        {
            reparse(*format, content).map_err(|message| RenderError::Reparse {
                path: path.clone(),
                message,
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wg_configs_parse_like_wg() {
        let text = "# c\n[Interface]\nListenPort = 51820\n\n[Peer]\nPublicKey = abc= # key\nAllowedIPs = fe80::1/128\n";
        let parsed = parse_wg(text).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].1[1], ("AllowedIPs".into(), "fe80::1/128".into()));
        assert!(parse_wg("[Interface]\nAddress = fe80::1/64\n").is_err());
        assert!(parse_wg("ListenPort = 1\n").is_err());
        assert!(parse_wg("[Nope]\n").is_err());
    }

    #[test]
    fn key_values_are_plain_words() {
        assert_eq!(
            parse_key_values("# x\nvni=12\nremote=fe80::1\n").unwrap(),
            vec![
                ("vni".to_string(), "12".to_string()),
                ("remote".into(), "fe80::1".into())
            ]
        );
        assert!(parse_key_values("vni=1 2\n").is_err());
        assert!(parse_key_values("VNI=1\n").is_err());
    }

    #[test]
    fn fastd_configs_hold_no_secret() {
        assert!(check_fastd("include \"secret.conf\";\nmode tap;\n").is_ok());
        assert!(check_fastd("secret \"00\";\n").is_err());
        assert!(check_fastd("peer group \"x\" {\n").is_err());
        assert!(check_fastd_peer(&format!("key \"{}\";\n", "a".repeat(64))).is_ok());
        assert!(check_fastd_peer("key \"ab\";\n").is_err());
    }

    #[test]
    fn ini_files() {
        let ini = parse_ini("[NetDev]\nName=wg0\n; c\n# c\n[WireGuard]\nListenPort=1\n").unwrap();
        assert_eq!(ini.len(), 2);
        assert!(parse_ini("Name=x\n").is_err());
    }
}
