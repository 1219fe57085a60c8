//! OpenWrt's UCI configuration files: a small writer for what Gluon's
//! upgrade scripts write, and a parser that reads such files back the way
//! libuci's `uci_import` does (`file.c` in openwrt/uci), used to re-read
//! every rendered file before it is written.
//!
//! The file format, as libuci reads it:
//!
//! * one statement per line; blank lines and lines starting with `#` (after
//!   blanks) are ignored; a `#` after a statement starts a comment too;
//! * `package NAME` (only in `uci export` output, optional), `config TYPE
//!   [NAME]`, `option NAME VALUE` and `list NAME VALUE`; `option` and
//!   `list` belong to the last `config`;
//! * every word is made of parts written next to each other: `'…'` (taken
//!   literally), `"…"` (a backslash takes the next character literally) and
//!   bare text (ended by blanks, `#` or `;`; a backslash escapes the next
//!   character);
//! * section names and option names are letters, digits and `_` only;
//!   section types may also contain `-`.
//!
//! The writer produces what `uci export` produces for a package: each
//! section as `config TYPE 'NAME'`, then its options and lists indented by a
//! tab, each value in single quotes (a `'` inside becomes `'\''`), sections
//! separated by an empty line. Booleans are written as `'1'`/`'0'` and
//! numbers as Lua prints them, as Gluon's simple-uci does.

use std::fmt::{self, Write as _};

/// An option's value: a single `option`, or a `list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UciValue {
    Option(String),
    List(Vec<String>),
}

/// One `config` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub kind: String,
    /// `None` for anonymous sections.
    pub name: Option<String>,
    pub options: Vec<(String, UciValue)>,
}

impl Section {
    pub fn new(kind: &str, name: &str) -> Section {
        Section {
            kind: kind.to_string(),
            name: Some(name.to_string()),
            options: Vec::new(),
        }
    }

    /// Sets an option (replacing an earlier one of the same name).
    pub fn option(mut self, name: &str, value: impl Into<String>) -> Section {
        self.set(name, UciValue::Option(value.into()));
        self
    }

    /// A boolean as simple-uci writes it.
    pub fn flag(self, name: &str, value: bool) -> Section {
        self.option(name, if value { "1" } else { "0" })
    }

    pub fn list<I, S>(mut self, name: &str, values: I) -> Section
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.set(
            name,
            UciValue::List(values.into_iter().map(Into::into).collect()),
        );
        self
    }

    fn set(&mut self, name: &str, value: UciValue) {
        match self.options.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.options.push((name.to_string(), value)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&UciValue> {
        self.options.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// A single option's value.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            UciValue::Option(v) => Some(v),
            UciValue::List(_) => None,
        }
    }
}

/// A whole configuration file (a UCI package).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Package {
    pub sections: Vec<Section>,
}

impl Package {
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| s.name.as_deref() == Some(name))
    }
}

/// Something the writer refuses or the parser cannot read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UciError {
    #[error("'{0}' is not a valid UCI {1} (letters, digits and _ only)")]
    InvalidName(String, &'static str),
    #[error("a UCI value cannot hold a line break (option {0})")]
    LineBreak(String),
    #[error("line {line}: {message}")]
    Parse { line: usize, message: String },
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn valid_type(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// Writes a package as `uci export` would (without the `package` line),
/// after `header` (each line prefixed with `# `).
pub fn write(package: &Package, header: &str) -> Result<String, UciError> {
    let mut out = String::new();
    for line in header.lines() {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {line}");
        }
    }
    for section in &package.sections {
        if !valid_type(&section.kind) {
            return Err(UciError::InvalidName(section.kind.clone(), "section type"));
        }
        out.push('\n');
        match &section.name {
            Some(name) if !valid_name(name) => {
                return Err(UciError::InvalidName(name.clone(), "section name"))
            }
            Some(name) => {
                let _ = writeln!(out, "config {} {}", section.kind, quote(name));
            }
            None => {
                let _ = writeln!(out, "config {}", section.kind);
            }
        }
        for (name, value) in &section.options {
            if !valid_name(name) {
                return Err(UciError::InvalidName(name.clone(), "option name"));
            }
            let values: Vec<&String> = match value {
                UciValue::Option(v) => vec![v],
                UciValue::List(vs) => vs.iter().collect(),
            };
            if values.iter().any(|v| v.contains(['\n', '\r'])) {
                return Err(UciError::LineBreak(name.clone()));
            }
            let keyword = match value {
                UciValue::Option(_) => "option",
                UciValue::List(_) => "list",
            };
            for v in values {
                let _ = writeln!(out, "\t{keyword} {name} {}", quote(v));
            }
        }
    }
    Ok(out)
}

/// Reads the words of one line; `None` for a blank or comment line.
fn words(line: &str, number: usize) -> Result<Vec<String>, UciError> {
    let error = |message: &str| UciError::Parse {
        line: number,
        message: message.to_string(),
    };
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        match chars.peek() {
            None | Some('#') => break,
            Some(';') => return Err(error("';' separates statements only in uci batch input")),
            _ => {}
        }
        let mut word = String::new();
        loop {
            match chars.peek().copied() {
                None | Some(' ') | Some('\t') | Some('#') | Some(';') => break,
                Some('\'') => {
                    chars.next();
                    loop {
                        match chars.next() {
                            None => return Err(error("unterminated '")),
                            Some('\'') => break,
                            Some(c) => word.push(c),
                        }
                    }
                }
                Some('"') => {
                    chars.next();
                    loop {
                        match chars.next() {
                            None => return Err(error("unterminated \"")),
                            Some('"') => break,
                            Some('\\') => match chars.next() {
                                None => return Err(error("unterminated \"")),
                                Some(c) => word.push(c),
                            },
                            Some(c) => word.push(c),
                        }
                    }
                }
                Some('\\') => {
                    chars.next();
                    match chars.next() {
                        None => return Err(error("a backslash at the end of the line")),
                        Some(c) => word.push(c),
                    }
                }
                Some(c) => {
                    chars.next();
                    word.push(c);
                }
            }
        }
        words.push(word);
    }
    Ok(words)
}

/// Parses a UCI file as libuci does (see the module documentation).
pub fn parse(text: &str) -> Result<Package, UciError> {
    let mut package = Package::default();
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        let error = |message: String| UciError::Parse {
            line: number,
            message,
        };
        let words = words(line, number)?;
        let Some((keyword, args)) = words.split_first() else {
            continue;
        };
        match keyword.as_str() {
            "package" => {
                if args.len() != 1 || !package.sections.is_empty() {
                    return Err(error("`package NAME` must come first".into()));
                }
            }
            "config" => {
                let (kind, name) = match args {
                    [kind] => (kind, None),
                    [kind, name] => (kind, Some(name.clone())),
                    _ => return Err(error("expected `config TYPE [NAME]`".into())),
                };
                if !valid_type(kind) {
                    return Err(error(format!("invalid section type '{kind}'")));
                }
                if let Some(name) = &name {
                    if !valid_name(name) {
                        return Err(error(format!("invalid section name '{name}'")));
                    }
                }
                package.sections.push(Section {
                    kind: kind.clone(),
                    name,
                    options: Vec::new(),
                });
            }
            "option" | "list" => {
                let [name, value] = args else {
                    return Err(error(format!("expected `{keyword} NAME VALUE`")));
                };
                if !valid_name(name) {
                    return Err(error(format!("invalid option name '{name}'")));
                }
                let Some(section) = package.sections.last_mut() else {
                    return Err(error(format!("`{keyword}` before any `config`")));
                };
                if keyword == "option" {
                    section.set(name, UciValue::Option(value.clone()));
                } else {
                    match section.options.iter_mut().find(|(n, _)| n == name) {
                        Some((_, UciValue::List(values))) => values.push(value.clone()),
                        Some(slot) => slot.1 = UciValue::List(vec![value.clone()]),
                        None => section
                            .options
                            .push((name.clone(), UciValue::List(vec![value.clone()]))),
                    }
                }
            }
            other => return Err(error(format!("unknown statement '{other}'"))),
        }
    }
    Ok(package)
}

impl fmt::Display for UciValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UciValue::Option(v) => f.write_str(&quote(v)),
            UciValue::List(vs) => {
                let quoted: Vec<String> = vs.iter().map(|v| quote(v)).collect();
                f.write_str(&quoted.join(" "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Package {
        Package {
            sections: vec![
                Section::new("fastd", "mesh_vpn")
                    .option("group", "gluon-mesh-vpn")
                    .flag("enabled", true)
                    .list("method", ["null@l2tp", "salsa2012+umac"]),
                Section::new("peer", "mesh_vpn_backbone_peer_gw1")
                    .option("key", "it's")
                    .list("remote", ["\"gw1.example.org\" port 10000"]),
            ],
        }
    }

    #[test]
    fn writes_what_uci_export_writes() {
        let text = write(&sample(), "header").unwrap();
        assert_eq!(
            text,
            "# header\n\nconfig fastd 'mesh_vpn'\n\toption group 'gluon-mesh-vpn'\n\toption enabled '1'\n\tlist method 'null@l2tp'\n\tlist method 'salsa2012+umac'\n\nconfig peer 'mesh_vpn_backbone_peer_gw1'\n\toption key 'it'\\''s'\n\tlist remote '\"gw1.example.org\" port 10000'\n"
        );
    }

    #[test]
    fn reads_back_what_it_writes() {
        let package = sample();
        assert_eq!(parse(&write(&package, "x").unwrap()).unwrap(), package);
    }

    #[test]
    fn reads_every_quoting_style() {
        let text = "package network\n\nconfig interface wan # c\n\toption a \"x\\\"y\"'z' \n\toption b plain\\ word\n\tlist c 1\n\tlist c '2'\nconfig 'alias'\n";
        let p = parse(text).unwrap();
        assert_eq!(p.sections.len(), 2);
        let s = &p.sections[0];
        assert_eq!(s.name.as_deref(), Some("wan"));
        assert_eq!(s.get_str("a"), Some("x\"yz"));
        assert_eq!(s.get_str("b"), Some("plain word"));
        assert_eq!(
            s.get("c"),
            Some(&UciValue::List(vec!["1".into(), "2".into()]))
        );
        assert_eq!(p.sections[1].name, None);
    }

    #[test]
    fn refuses_what_uci_refuses() {
        for bad in [
            "option a 'b'\n",
            "config x 'bad-name'\n",
            "config x y\n\toption bad-name 'v'\n",
            "config x y\n\toption a 'unterminated\n",
            "config x y\n\tfrob a b\n",
            "config\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let bad = Package {
            sections: vec![Section::new("peer", "gw-1")],
        };
        assert!(matches!(
            write(&bad, ""),
            Err(UciError::InvalidName(_, "section name"))
        ));
        let bad = Package {
            sections: vec![Section::new("peer", "gw").option("a", "x\ny")],
        };
        assert!(matches!(write(&bad, ""), Err(UciError::LineBreak(_))));
    }
}
