//! Reading UCI files (`/etc/config/*`) the way libuci parses them: `config
//! TYPE ['NAME']`, `option NAME 'VALUE'`, `list NAME 'VALUE'` (also
//! abbreviated to `c`, `o`, `l`), `package NAME`, comments from an unquoted
//! `#`, commands separated by newlines or `;`, single quotes taken
//! literally, double quotes and bare words with backslash escapes, quoted
//! values spanning lines, and adjacent quoted and bare parts forming one
//! word (`'a'"b"c` is `abc`).
//!
//! Unnamed sections get the name libuci gives them: `cfg` + the section's
//! number in the file (two hex digits, counting from 1) + four hex digits of
//! a hash of its type — the name the original selector puts into its status
//! document for an unnamed peer section.
//!
//! Only reading: changes saved with `uci set` but not yet committed (the
//! deltas under /tmp/.uci) are not applied, as they are not in the file.

use std::fmt;

/// An option's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `option NAME VALUE`
    Single(String),
    /// `list NAME VALUE` lines, in order.
    List(Vec<String>),
}

impl Value {
    /// The values: one for an option, all for a list.
    pub fn values(&self) -> Vec<&str> {
        match self {
            Value::Single(v) => vec![v.as_str()],
            Value::List(l) => l.iter().map(String::as_str).collect(),
        }
    }
}

/// A `config` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub section_type: String,
    /// Its name; for unnamed sections the one libuci generates.
    pub name: String,
    pub anonymous: bool,
    /// Options in the order they first appeared.
    pub options: Vec<(String, Value)>,
}

impl Section {
    /// An option's value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.options.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// A single option's value (a list's last value, as `uci get` would
    /// print all of them joined; callers that want lists use [`Self::get`]).
    pub fn option(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::Single(v) => Some(v),
            Value::List(l) => l.last().map(String::as_str),
        }
    }

    fn set(&mut self, name: &str, value: String) {
        // libuci, reading a file: an empty value neither creates nor
        // changes an option (checked against libuci itself)
        if value.is_empty() {
            return;
        }
        match self.options.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = Value::Single(value),
            None => self.options.push((name.to_string(), Value::Single(value))),
        }
    }

    fn add_list(&mut self, name: &str, value: String) {
        match self.options.iter_mut().find(|(n, _)| n == name) {
            Some((_, Value::List(l))) => l.push(value),
            Some((_, v)) => {
                let Value::Single(old) = std::mem::replace(v, Value::List(Vec::new())) else {
                    unreachable!()
                };
                *v = Value::List(vec![old, value]);
            }
            None => self
                .options
                .push((name.to_string(), Value::List(vec![value]))),
        }
    }
}

/// A parsed UCI file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Package {
    pub sections: Vec<Section>,
}

impl Package {
    /// The sections of a type, in file order.
    pub fn sections_of<'a>(&'a self, section_type: &'a str) -> impl Iterator<Item = &'a Section> {
        self.sections
            .iter()
            .filter(move |s| s.section_type == section_type)
    }

    /// A section by name.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }
}

/// Why a file did not parse, with its line (from 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// libuci's name hash (D. J. Bernstein's), over the section type only: an
/// unnamed section is named when it is created, before it has options.
fn djb_hash(text: &str) -> u32 {
    let mut hash: u32 = 5381;
    for b in text.bytes() {
        // C `char`: the bytes of ASCII type names are the same signed or not
        hash = (hash << 5)
            .wrapping_add(hash)
            .wrapping_add(b as i8 as i32 as u32);
    }
    hash & 0x7fff_ffff
}

/// The name libuci gives the `n`-th section (from 1) if it is unnamed.
pub fn anonymous_name(n: usize, section_type: &str) -> String {
    format!("cfg{:02x}{:04x}", n, djb_hash(section_type) % (1 << 16))
}

fn unterminated(line: usize, quote: &str) -> ParseError {
    ParseError {
        line,
        message: if quote == "'" {
            "a '-quoted value that never ends"
        } else {
            "a \"-quoted value that never ends"
        },
    }
}

struct Lexer<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
}

/// One command's words, and the line it started on.
type Command = (usize, Vec<String>);

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        if c == b'\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn err(&self, message: &'static str) -> ParseError {
        ParseError {
            line: self.line,
            message,
        }
    }

    fn skip_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == b'\n' {
                break;
            }
            self.pos += 1;
        }
    }

    /// The next command, `None` at the end of the text.
    fn command(&mut self) -> Result<Option<Command>, ParseError> {
        let mut words = Vec::new();
        let mut start = self.line;
        loop {
            // whitespace between words; a newline or `;` ends the command
            match self.peek() {
                None => {
                    return Ok(if words.is_empty() {
                        None
                    } else {
                        Some((start, words))
                    })
                }
                Some(b'\n') | Some(b';') => {
                    self.bump();
                    if words.is_empty() {
                        start = self.line;
                        continue;
                    }
                    return Ok(Some((start, words)));
                }
                Some(c) if c.is_ascii_whitespace() => {
                    self.bump();
                }
                Some(b'#') => self.skip_comment(),
                Some(b'\\') if self.text.get(self.pos + 1) == Some(&b'\n') => {
                    // a line continued
                    self.bump();
                    self.bump();
                }
                Some(_) => {
                    if words.is_empty() {
                        start = self.line;
                    }
                    words.push(self.word()?);
                }
            }
        }
    }

    /// One word: quoted and bare parts up to whitespace, `;` or a comment.
    fn word(&mut self) -> Result<String, ParseError> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => break,
                Some(c) if c.is_ascii_whitespace() || c == b';' => break,
                Some(b'#') => {
                    self.skip_comment();
                    break;
                }
                Some(b'\'') => {
                    let opened = self.line;
                    self.bump();
                    loop {
                        match self.bump() {
                            None => return Err(unterminated(opened, "'")),
                            Some(b'\'') => break,
                            Some(c) => out.push(c),
                        }
                    }
                }
                Some(b'"') => {
                    let opened = self.line;
                    self.bump();
                    loop {
                        match self.bump() {
                            None => return Err(unterminated(opened, "\"")),
                            Some(b'"') => break,
                            Some(b'\\') => match self.bump() {
                                None => return Err(unterminated(opened, "\"")),
                                Some(b'\n') => {}
                                Some(c) => out.push(c),
                            },
                            Some(c) => out.push(c),
                        }
                    }
                }
                Some(b'\\') => {
                    self.bump();
                    match self.bump() {
                        None | Some(b'\n') => {}
                        Some(c) => out.push(c),
                    }
                }
                Some(c) => {
                    self.bump();
                    out.push(c);
                }
            }
        }
        String::from_utf8(out).map_err(|_| self.err("text that is not UTF-8"))
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn valid_type(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Parses a UCI file's text.
pub fn parse(text: &str) -> Result<Package, ParseError> {
    let mut lexer = Lexer {
        text: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    let mut package = Package::default();
    // libuci counts every section it allocates; a named section that comes
    // again is the same section and not counted twice
    let mut allocated = 0usize;
    let mut current: Option<usize> = None;
    while let Some((line, words)) = lexer.command()? {
        let err = |message| ParseError { line, message };
        let keyword = words[0].as_str();
        let args = &words[1..];
        match keyword {
            "package" | "p" => {
                if args.is_empty() {
                    return Err(err("package without name"));
                }
            }
            "config" | "c" => {
                let Some(section_type) = args.first() else {
                    return Err(err("config without type"));
                };
                if !valid_type(section_type) {
                    return Err(err("invalid character in type field"));
                }
                let name = args.get(1).map(String::as_str).unwrap_or("");
                if args.len() > 2 {
                    return Err(err("too many arguments"));
                }
                if name.is_empty() {
                    allocated += 1;
                    package.sections.push(Section {
                        section_type: section_type.clone(),
                        name: anonymous_name(allocated, section_type),
                        anonymous: true,
                        options: Vec::new(),
                    });
                    current = Some(package.sections.len() - 1);
                } else {
                    if !valid_name(name) {
                        return Err(err("invalid character in name field"));
                    }
                    match package.sections.iter().position(|s| s.name == name) {
                        Some(i) => {
                            package.sections[i].section_type = section_type.clone();
                            current = Some(i);
                        }
                        None => {
                            allocated += 1;
                            package.sections.push(Section {
                                section_type: section_type.clone(),
                                name: name.to_string(),
                                anonymous: false,
                                options: Vec::new(),
                            });
                            current = Some(package.sections.len() - 1);
                        }
                    }
                }
            }
            "option" | "o" | "list" | "l" => {
                let Some(i) = current else {
                    return Err(err("option/list command found before the first section"));
                };
                let Some(name) = args.first() else {
                    return Err(err("option without name"));
                };
                if !valid_name(name) {
                    return Err(err("invalid character in name field"));
                }
                if args.len() > 2 {
                    return Err(err("too many arguments"));
                }
                let value = args.get(1).cloned().unwrap_or_default();
                if keyword.starts_with('o') {
                    package.sections[i].set(name, value);
                } else {
                    package.sections[i].add_list(name, value);
                }
            }
            _ => return Err(err("invalid command")),
        }
    }
    Ok(package)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gluon_style_file() {
        let text = "\nconfig peer 'gw01'\n\toption enabled '1'\n\toption public_key 'mIDOdscl2R3Dq+YthxdTvvtH4D53VhawzEnmet+E7W0='\n\tlist allowed_ips 'fe80::1/128'\n\toption ifname 'wg_mesh'\n\toption endpoint 'gw01.example.org:51820'\n\nconfig peer 'gw02'\n\toption enabled '0'\n";
        let p = parse(text).unwrap();
        assert_eq!(p.sections.len(), 2);
        let s = &p.sections[0];
        assert_eq!((s.section_type.as_str(), s.name.as_str()), ("peer", "gw01"));
        assert_eq!(s.option("enabled"), Some("1"));
        assert_eq!(
            s.get("allowed_ips"),
            Some(&Value::List(vec!["fe80::1/128".into()]))
        );
        assert_eq!(s.option("endpoint"), Some("gw01.example.org:51820"));
        assert_eq!(p.section("gw02").unwrap().option("enabled"), Some("0"));
    }

    #[test]
    fn quoting_comments_and_continuations() {
        let text = "# comment\nconfig system # trailing\n\toption a \"x\\\"y\" # c\n\toption b 'it''s'\n\toption c bare\\ word\n\toption d 'multi\nline'\n\toption e \"joined\\\n\"\n\toption f mixed'quo'\"ted\"; option g two\n\toption h '#not a comment'\n";
        let p = parse(text).unwrap();
        let s = &p.sections[0];
        assert_eq!(s.option("a"), Some("x\"y"));
        assert_eq!(s.option("b"), Some("its"));
        assert_eq!(s.option("c"), Some("bare word"));
        assert_eq!(s.option("d"), Some("multi\nline"));
        assert_eq!(s.option("e"), Some("joined"));
        assert_eq!(s.option("f"), Some("mixedquoted"));
        assert_eq!(s.option("g"), Some("two"));
        assert_eq!(s.option("h"), Some("#not a comment"));
    }

    #[test]
    fn lists_options_and_repeated_sections() {
        let text = "config timeserver 'ntp'\n\tlist server 'a'\n\tlist server 'b'\nc peer x\n\to opt 1\n\tl opt 2\nconfig timeserver 'ntp'\n\tlist server 'c'\n\toption gone 'x'\n\toption gone ''\n\toption never ''\n";
        let p = parse(text).unwrap();
        assert_eq!(p.sections.len(), 2);
        let ntp = p.section("ntp").unwrap();
        assert_eq!(
            ntp.get("server").unwrap().values(),
            vec!["a", "b", "c"],
            "a named section that comes again is the same section"
        );
        assert_eq!(
            ntp.option("gone"),
            Some("x"),
            "an empty value changes nothing"
        );
        assert_eq!(ntp.get("never"), None);
        assert_eq!(
            p.section("x").unwrap().get("opt").unwrap().values(),
            vec!["1", "2"]
        );
    }

    #[test]
    fn unnamed_sections_are_named_like_libuci() {
        // djb hash of "peer": 0x7c9c3511 (checked with Python), low 16 bits
        assert_eq!(anonymous_name(1, "peer"), "cfg013511");
        let p = parse("config peer\nconfig peer 'named'\nconfig peer\n").unwrap();
        let names: Vec<&str> = p.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["cfg013511", "named", "cfg033511"]);
        assert!(p.sections[0].anonymous && !p.sections[1].anonymous);
    }

    #[test]
    fn errors_have_lines() {
        for (text, line) in [
            ("option x y\n", 1),
            ("config peer a\n\n\toption bad-name x\n", 3),
            ("config peer 'a\n", 1),
            ("config peer a\nfrobnicate\n", 2),
            ("config 'p@r' a\n", 1),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
        }
    }
}
