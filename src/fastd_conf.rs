//! Just enough of fastd's configuration syntax to find `key "…";` in a peer
//! file and `secret "…";` in a fastd configuration.
//!
//! The lexical rules follow fastd's own scanner (`src/lex.c`, fastd v22):
//! blanks are space, tab, CR and LF; comments are `#` or `//` to the end of
//! the line and `/* … */`; strings are double-quoted with `\` escaping the
//! next character (a `\` before a newline drops both); `;`, `:`, `{` and
//! `}` are tokens of their own; `[…]` is an IPv6 address; words start with
//! a lower-case letter and numbers with a digit. Statements end with `;`
//! or are blocks `… { … }`. Statements other than the one looked for are
//! skipped without being interpreted.

use std::fmt;

/// A problem at a place in the text (1-based line and column, columns
/// counted in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ConfError {}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    Str(String),
    Punct(char),
    /// Numbers, IPv4 and bracketed IPv6 addresses: never looked into.
    Other,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
    column: usize,
}

struct Lexer<'t> {
    chars: std::iter::Peekable<std::str::Chars<'t>>,
    line: usize,
    column: usize,
}

impl Lexer<'_> {
    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn error(line: usize, column: usize, message: impl Into<String>) -> ConfError {
        ConfError {
            line,
            column,
            message: message.into(),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, ConfError> {
    let mut lx = Lexer {
        chars: text.chars().peekable(),
        line: 1,
        column: 1,
    };
    let mut tokens = Vec::new();
    while let Some(&c) = lx.chars.peek() {
        let (line, column) = (lx.line, lx.column);
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                lx.bump();
            }
            ';' | ':' | '{' | '}' => {
                lx.bump();
                tokens.push(Token {
                    tok: Tok::Punct(c),
                    line,
                    column,
                });
            }
            '#' => {
                while lx.chars.peek().is_some_and(|&c| c != '\n') {
                    lx.bump();
                }
            }
            '/' => {
                lx.bump();
                match lx.bump() {
                    Some('/') => {
                        while lx.chars.peek().is_some_and(|&c| c != '\n') {
                            lx.bump();
                        }
                    }
                    Some('*') => {
                        let mut star = false;
                        loop {
                            match lx.bump() {
                                None => {
                                    return Err(Lexer::error(
                                        line,
                                        column,
                                        "unterminated block comment",
                                    ))
                                }
                                Some('/') if star => break,
                                Some(c) => star = c == '*',
                            }
                        }
                    }
                    _ => return Err(Lexer::error(line, column, "syntax error")),
                }
            }
            '"' => {
                lx.bump();
                // Room for a key, so that reading a secret does not
                // reallocate and leave copies of it in freed memory.
                let mut s = String::with_capacity(64);
                loop {
                    match lx.bump() {
                        None => return Err(Lexer::error(line, column, "unterminated string")),
                        Some('"') => break,
                        Some('\\') => match lx.bump() {
                            None => return Err(Lexer::error(line, column, "unterminated string")),
                            Some('\n') => {}
                            Some(c) => s.push(c),
                        },
                        Some(c) => s.push(c),
                    }
                }
                tokens.push(Token {
                    tok: Tok::Str(s),
                    line,
                    column,
                });
            }
            '[' => {
                loop {
                    match lx.bump() {
                        None | Some('\n') => {
                            return Err(Lexer::error(line, column, "unterminated IPv6 address"))
                        }
                        Some(']') => break,
                        Some(_) => {}
                    }
                }
                tokens.push(Token {
                    tok: Tok::Other,
                    line,
                    column,
                });
            }
            '0'..='9' => {
                while lx
                    .chars
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.')
                {
                    lx.bump();
                }
                tokens.push(Token {
                    tok: Tok::Other,
                    line,
                    column,
                });
            }
            'a'..='z' => {
                let mut w = String::new();
                while let Some(&c) = lx.chars.peek() {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        w.push(c);
                        lx.bump();
                    } else {
                        break;
                    }
                }
                tokens.push(Token {
                    tok: Tok::Word(w),
                    line,
                    column,
                });
            }
            _ => {
                return Err(Lexer::error(
                    line,
                    column,
                    "syntax error (fastd expects a keyword, a string, a number or one of ; : { })",
                ))
            }
        }
    }
    Ok(tokens)
}

/// A string argument found for a keyword, with where its statement starts
/// and where the string is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub value: String,
    pub line: usize,
    pub column: usize,
}

/// What to do with a top-level `include`, whose file is never read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Includes {
    /// Report it: what it would add could be the statement looked for (a
    /// peer file that includes its key).
    Refuse,
    /// Skip it (a gateway's fastd.conf includes its peer directories).
    Skip,
}

/// Every top-level statement `KEYWORD "STRING";` in the text, in order.
/// A top-level statement with this keyword of another shape is an error;
/// statements inside blocks (`peer "x" { … }`) are not top-level.
pub fn string_statements(
    text: &str,
    keyword: &str,
    includes: Includes,
) -> Result<Vec<Found>, ConfError> {
    let mut tokens = tokenize(text)?;
    let mut found = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let mut at_statement_start = true;
    while i < tokens.len() {
        let t = &tokens[i];
        match &t.tok {
            Tok::Punct('{') => {
                depth += 1;
                at_statement_start = true;
            }
            Tok::Punct('}') => {
                if depth == 0 {
                    return Err(Lexer::error(t.line, t.column, "unexpected '}'"));
                }
                depth -= 1;
                at_statement_start = true;
            }
            Tok::Punct(';') => at_statement_start = true,
            Tok::Word(w)
                if at_statement_start
                    && depth == 0
                    && w == "include"
                    && includes == Includes::Refuse =>
            {
                return Err(Lexer::error(
                    t.line,
                    t.column,
                    "`include` is not followed; translate the included file itself",
                ));
            }
            Tok::Word(w) if at_statement_start && depth == 0 && w == keyword => {
                match (tokens.get(i + 1), tokens.get(i + 2)) {
                    (
                        Some(Token {
                            tok: Tok::Str(_), ..
                        }),
                        Some(Token {
                            tok: Tok::Punct(';'),
                            ..
                        }),
                    ) => {
                        // Moved out, not copied: it may be a secret.
                        let string = &mut tokens[i + 1];
                        let Tok::Str(value) = std::mem::replace(&mut string.tok, Tok::Other) else {
                            unreachable!("matched above")
                        };
                        found.push(Found {
                            value,
                            line: string.line,
                            column: string.column,
                        });
                        i += 3;
                        continue;
                    }
                    _ => {
                        return Err(Lexer::error(
                            t.line,
                            t.column,
                            format!("expected `{keyword} \"…\";`"),
                        ))
                    }
                }
            }
            _ => at_statement_start = false,
        }
        i += 1;
    }
    if depth > 0 {
        let last = tokens.last().expect("a '{' was seen");
        return Err(Lexer::error(last.line, last.column, "missing '}'"));
    }
    Ok(found)
}

/// The one `KEYWORD "STRING";` statement of a file: none or several is an
/// error (at line 1, column 1, or at the second one).
pub fn single_string_statement(
    text: &str,
    keyword: &str,
    includes: Includes,
) -> Result<Found, ConfError> {
    let mut found = string_statements(text, keyword, includes)?;
    match found.len() {
        0 => Err(Lexer::error(
            1,
            1,
            match includes {
                Includes::Refuse => format!("no `{keyword} \"…\";` statement"),
                Includes::Skip => {
                    format!("no `{keyword} \"…\";` statement (included files are not read)")
                }
            },
        )),
        1 => Ok(found.remove(0)),
        _ => Err(Lexer::error(
            found[1].line,
            found[1].column,
            format!(
                "a second `{keyword}` statement (the first is at line {})",
                found[0].line
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_key_among_comments_and_other_statements() {
        let text = "# node a\n/* block\n comment */ remote \"x.example\" port 10000;\n// c\nkey \"ab\\\ncd\";\nfloat yes;\n";
        let found = single_string_statement(text, "key", Includes::Refuse).unwrap();
        assert_eq!(found.value, "abcd");
        assert_eq!((found.line, found.column), (5, 5));
    }

    #[test]
    fn keys_inside_blocks_are_not_top_level() {
        let text = "secret \"s\";\npeer \"x\" { key \"k\"; }\n";
        assert_eq!(
            string_statements(text, "key", Includes::Refuse).unwrap(),
            vec![]
        );
        assert_eq!(
            single_string_statement(text, "secret", Includes::Skip)
                .unwrap()
                .value,
            "s"
        );
    }

    #[test]
    fn errors_have_places() {
        let e = single_string_statement("key \"abc;\n", "key", Includes::Refuse).unwrap_err();
        assert_eq!((e.line, e.column), (1, 5));
        assert!(e.message.contains("unterminated string"));
        let e = single_string_statement("key abc;\n", "key", Includes::Refuse).unwrap_err();
        assert_eq!((e.line, e.column), (1, 1));
        let e = single_string_statement("key \"a\";\nkey \"b\";\n", "key", Includes::Refuse)
            .unwrap_err();
        assert_eq!((e.line, e.column), (2, 5));
        let e = single_string_statement("# nothing\n", "key", Includes::Refuse).unwrap_err();
        assert!(e.message.contains("no `key"));
        let e = single_string_statement("Key \"a\";\n", "key", Includes::Refuse).unwrap_err();
        assert_eq!((e.line, e.column), (1, 1));
        let e =
            single_string_statement("include \"other\";\n", "key", Includes::Refuse).unwrap_err();
        assert!(e.message.contains("include"));
        let gateway = "secret \"s\";\ninclude peers from \"peers\";\n";
        let found = single_string_statement(gateway, "secret", Includes::Skip).unwrap();
        assert_eq!(found.value, "s");
    }
}
