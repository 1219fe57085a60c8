//! A Lua 5.1 lexer, for finding where things are written in a site's files.
//!
//! It follows Lua 5.1's llex.c token for token (long brackets, comments,
//! numerals, escapes), but it never fails: text Lua would reject still yields
//! tokens, so that locating never depends on the file being valid. It is a
//! single loop over the bytes: nothing in it recurses, whatever the input.

use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kw {
    And,
    Break,
    Do,
    Else,
    Elseif,
    End,
    False,
    For,
    Function,
    If,
    In,
    Local,
    Nil,
    Not,
    Or,
    Repeat,
    Return,
    Then,
    True,
    Until,
    While,
}

impl Kw {
    fn from_name(name: &[u8]) -> Option<Kw> {
        Some(match name {
            b"and" => Kw::And,
            b"break" => Kw::Break,
            b"do" => Kw::Do,
            b"else" => Kw::Else,
            b"elseif" => Kw::Elseif,
            b"end" => Kw::End,
            b"false" => Kw::False,
            b"for" => Kw::For,
            b"function" => Kw::Function,
            b"if" => Kw::If,
            b"in" => Kw::In,
            b"local" => Kw::Local,
            b"nil" => Kw::Nil,
            b"not" => Kw::Not,
            b"or" => Kw::Or,
            b"repeat" => Kw::Repeat,
            b"return" => Kw::Return,
            b"then" => Kw::Then,
            b"true" => Kw::True,
            b"until" => Kw::Until,
            b"while" => Kw::While,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Name,
    Keyword(Kw),
    Number,
    /// A string literal, quoted or in long brackets ([`string_value`]).
    String,
    /// An operator or punctuation: `..`, `==`, `{`, … (one or more bytes).
    Symbol(&'static str),
    /// A byte Lua 5.1 has no token for (it rejects the file).
    Other,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub range: Range<usize>,
}

impl Token {
    pub fn is(&self, symbol: &str) -> bool {
        matches!(self.tok, Tok::Symbol(s) if s == symbol)
    }

    pub fn is_keyword(&self, keyword: Kw) -> bool {
        self.tok == Tok::Keyword(keyword)
    }
}

const SYMBOLS: &[&str] = &[
    "...", "..", "==", "~=", "<=", ">=", "+", "-", "*", "/", "%", "^", "#", "<", ">", "=", "(",
    ")", "{", "}", "[", "]", ";", ":", ",", ".", "~",
];

/// The tokens of `text`, comments and whitespace left out.
pub fn tokens(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i += 2;
                match long_bracket_level(bytes, i) {
                    Some(level) => i = long_bracket_end(bytes, i, level).end,
                    None => {
                        while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                            i += 1;
                        }
                    }
                }
            }
            b'[' => {
                let tok = match long_bracket_level(bytes, i) {
                    Some(level) => {
                        i = long_bracket_end(bytes, i, level).end;
                        Tok::String
                    }
                    None => {
                        i += 1;
                        Tok::Symbol("[")
                    }
                };
                out.push(Token {
                    tok,
                    range: start..i,
                });
            }
            b'"' | b'\'' => {
                i = short_string(bytes, i).0;
                out.push(Token {
                    tok: Tok::String,
                    range: start..i,
                });
            }
            b'0'..=b'9' => {
                i = numeral_end(bytes, i);
                out.push(Token {
                    tok: Tok::Number,
                    range: start..i,
                });
            }
            b'.' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i = numeral_end(bytes, i);
                out.push(Token {
                    tok: Tok::Number,
                    range: start..i,
                });
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let tok = Kw::from_name(&bytes[start..i]).map_or(Tok::Name, Tok::Keyword);
                out.push(Token {
                    tok,
                    range: start..i,
                });
            }
            _ => {
                let symbol = SYMBOLS
                    .iter()
                    .find(|s| bytes[i..].starts_with(s.as_bytes()));
                let (tok, len) = match symbol {
                    Some(s) => (Tok::Symbol(s), s.len()),
                    // One whole character, so that ranges stay on char
                    // boundaries.
                    None => (
                        Tok::Other,
                        text[i..].chars().next().map_or(1, char::len_utf8),
                    ),
                };
                i += len;
                out.push(Token {
                    tok,
                    range: start..i,
                });
            }
        }
    }
    out
}

/// The value of a string token, when Lua 5.1 would accept the literal (not
/// an unfinished string, nor an escape above `\255`).
pub fn string_value(text: &str, token: &Token) -> Option<Vec<u8>> {
    let bytes = text.as_bytes().get(token.range.clone())?;
    match long_bracket_level(bytes, 0) {
        Some(level) => {
            let content = long_bracket_end(bytes, 0, level).content?;
            Some(long_string_value(&bytes[content]))
        }
        None => match short_string(bytes, 0) {
            (end, value) if end == bytes.len() => value,
            _ => None,
        },
    }
}

/// `[[`, `[=[`, …: the number of `=` when a long bracket opens at `at`.
fn long_bracket_level(bytes: &[u8], at: usize) -> Option<usize> {
    if bytes.get(at) != Some(&b'[') {
        return None;
    }
    let level = bytes[at + 1..].iter().take_while(|&&b| b == b'=').count();
    (bytes.get(at + 1 + level) == Some(&b'[')).then_some(level)
}

struct LongBracket {
    /// Just past the closing bracket (or the end of the text).
    end: usize,
    /// The text between the brackets; `None` when it never closes.
    content: Option<Range<usize>>,
}

fn long_bracket_end(bytes: &[u8], open: usize, level: usize) -> LongBracket {
    let content_start = open + level + 2;
    let mut i = content_start;
    while i < bytes.len() {
        if bytes[i] == b']' {
            let equals = bytes[i + 1..].iter().take_while(|&&b| b == b'=').count();
            if equals == level && bytes.get(i + 1 + level) == Some(&b']') {
                return LongBracket {
                    end: i + level + 2,
                    content: Some(content_start..i),
                };
            }
        }
        i += 1;
    }
    LongBracket {
        end: bytes.len(),
        content: None,
    }
}

/// Lua 5.1 skips a newline right after the opening bracket and reads every
/// newline sequence (`\n`, `\r`, `\r\n`, `\n\r`) as `\n`.
fn long_string_value(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    let mut first = true;
    while i < raw.len() {
        let b = raw[i];
        if b == b'\n' || b == b'\r' {
            i += 1;
            if i < raw.len() && (raw[i] == b'\n' || raw[i] == b'\r') && raw[i] != b {
                i += 1;
            }
            if !first {
                out.push(b'\n');
            }
        } else {
            out.push(b);
            i += 1;
        }
        first = false;
    }
    out
}

/// A quoted string from its opening quote: where it ends, and its value when
/// Lua 5.1 would accept it.
fn short_string(bytes: &[u8], open: usize) -> (usize, Option<Vec<u8>>) {
    let quote = bytes[open];
    let mut value = Vec::new();
    let mut valid = true;
    let mut i = open + 1;
    loop {
        let Some(&b) = bytes.get(i) else {
            return (i, None);
        };
        match b {
            _ if b == quote => return (i + 1, valid.then_some(value)),
            b'\n' | b'\r' => return (i, None),
            b'\\' => {
                i += 1;
                let Some(&e) = bytes.get(i) else {
                    return (i, None);
                };
                match e {
                    b'a' => value.push(0x07),
                    b'b' => value.push(0x08),
                    b'f' => value.push(0x0c),
                    b'n' => value.push(b'\n'),
                    b'r' => value.push(b'\r'),
                    b't' => value.push(b'\t'),
                    b'v' => value.push(0x0b),
                    b'\n' | b'\r' => {
                        value.push(b'\n');
                        if bytes
                            .get(i + 1)
                            .is_some_and(|&n| (n == b'\n' || n == b'\r') && n != e)
                        {
                            i += 1;
                        }
                    }
                    b'0'..=b'9' => {
                        let digits = bytes[i..]
                            .iter()
                            .take(3)
                            .take_while(|d| d.is_ascii_digit())
                            .count();
                        let code = bytes[i..i + digits]
                            .iter()
                            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
                        match u8::try_from(code) {
                            Ok(c) => value.push(c),
                            Err(_) => valid = false,
                        }
                        i += digits;
                        continue;
                    }
                    other => value.push(other),
                }
                i += 1;
            }
            _ => {
                value.push(b);
                i += 1;
            }
        }
    }
}

/// Lua 5.1's read_numeral: digits and dots, an optional exponent sign, then
/// any letters, digits and underscores (`0x1F`, `1e-5`, `3.`).
fn numeral_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
        i += 1;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
    }
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Tok, &str)> {
        tokens(text)
            .into_iter()
            .map(|t| {
                let slice = &text[t.range.clone()];
                (t.tok, slice)
            })
            .collect()
    }

    fn strings(text: &str) -> Vec<Option<Vec<u8>>> {
        tokens(text)
            .iter()
            .filter(|t| t.tok == Tok::String)
            .map(|t| string_value(text, t))
            .collect()
    }

    #[test]
    fn comments_long_brackets_and_numerals_are_single_tokens() {
        let text = "--[==[ a ]] ]==] x = [[\nlong]] .. 1e-5 - 0x1F --[ line\n...[=[]=]";
        let toks = kinds(text);
        assert_eq!(
            toks,
            vec![
                (Tok::Name, "x"),
                (Tok::Symbol("="), "="),
                (Tok::String, "[[\nlong]]"),
                (Tok::Symbol(".."), ".."),
                (Tok::Number, "1e-5"),
                (Tok::Symbol("-"), "-"),
                (Tok::Number, "0x1F"),
                (Tok::Symbol("..."), "..."),
                (Tok::String, "[=[]=]"),
            ]
        );
        assert_eq!(strings(text), [Some(b"long".to_vec()), Some(vec![])]);
        assert_eq!(
            strings("[[\r\na\r\nb\n\rc\rd]]"),
            [Some(b"a\nb\nc\nd".to_vec())]
        );
        assert_eq!(strings("[==[ open ]]"), [None]);
    }

    #[test]
    fn short_strings_decode_lua_escapes() {
        let text = r#"'a\'b' "\65\066\0671" 'x\q' '\300' 'line\
two' 'open"#;
        assert_eq!(
            strings(text),
            [
                Some(b"a'b".to_vec()),
                Some(b"AB\x431".to_vec()),
                Some(b"xq".to_vec()),
                None,
                Some(b"line\ntwo".to_vec()),
                None,
            ]
        );
        assert_eq!(kinds(text).last(), Some(&(Tok::String, "'open")));
    }

    #[test]
    fn keywords_and_odd_bytes() {
        let toks = kinds("function é end ~= ~");
        assert_eq!(toks[0].0, Tok::Keyword(Kw::Function));
        assert_eq!(toks[1], (Tok::Other, "é"));
        assert_eq!(toks[2].0, Tok::Keyword(Kw::End));
        assert_eq!(toks[3].0, Tok::Symbol("~="));
        assert_eq!(toks[4].0, Tok::Symbol("~"));
    }
}
