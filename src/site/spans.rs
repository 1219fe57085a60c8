//! Source spans for the values of a configuration file.
//!
//! Lua evaluates the file; gluonvpn reads the same text again to find where
//! every table constructor field, array item and computed expression is
//! written. The two are joined key by key in [`super::lua`]: a value built by
//! a table constructor gets its field's span, anything computed (a call, a
//! variable, a concatenation) the span of that expression for itself and
//! everything in it.
//!
//! The text is untrusted, so reading it must stay cheap whatever it holds:
//! [`super::lua_lex`] turns it into tokens in one loop, brackets and blocks
//! are paired with an explicit stack, and the table constructors are walked
//! with a work list. Nothing recurses on the input, and every step is linear
//! in the number of tokens. Table constructors nested more than
//! [`MAX_NESTING`] deep get no span tree at all (Lua itself rejects such a
//! file: "chunk has too many syntax levels"); the values then carry the
//! file's span.

use super::lua_lex::{self, Kw, Tok, Token};
use std::collections::HashMap;
use std::ops::Range;

/// How deep table constructors may nest for the file to get a span tree.
/// Lua 5.1 stops at 200 syntax levels (LUAI_MAXCCALLS), so every file Lua
/// accepts is within it; it also bounds the recursion of dropping a tree.
pub const MAX_NESTING: usize = 200;

/// Tables with more fields than this get a lookup index.
const INDEXED_FIELDS: usize = 16;

/// The shape of an expression as written: its byte range and, for a table
/// constructor, its fields.
#[derive(Debug, Clone, Default)]
pub struct SpanTree {
    pub range: Range<usize>,
    /// `Some` when the expression is a table constructor.
    pub fields: Option<Vec<SpanField>>,
    /// For large constructors: where each key is written last.
    index: Option<Box<FieldIndex>>,
}

#[derive(Debug, Clone, Default)]
struct FieldIndex {
    names: HashMap<String, usize>,
    numbers: HashMap<u64, usize>,
}

#[derive(Debug, Clone)]
pub struct SpanField {
    pub key: SpanKey,
    pub key_range: Range<usize>,
    pub value: SpanTree,
}

/// A constructor field's key, as far as it can be known without evaluating.
#[derive(Debug, Clone, PartialEq)]
pub enum SpanKey {
    /// A name, or a string literal as json-c keeps it (up to a NUL byte).
    Name(String),
    /// Positional items (counted from 1) and `[n] = …` keys.
    Number(f64),
    Unknown,
}

fn number_bits(n: f64) -> u64 {
    (n + 0.0).to_bits()
}

impl SpanTree {
    fn field(&self, i: usize) -> Option<(&SpanTree, Range<usize>)> {
        let field = self.fields.as_ref()?.get(i)?;
        Some((&field.value, field.key_range.clone()))
    }

    /// The span tree of the field that holds `key`, if the expression is a
    /// table constructor that writes it. Later fields win, as in Lua.
    pub fn child_for_name(&self, name: &str) -> Option<(&SpanTree, Range<usize>)> {
        if let Some(index) = &self.index {
            return index.names.get(name).and_then(|&i| self.field(i));
        }
        self.fields
            .as_ref()?
            .iter()
            .rev()
            .find_map(|f| match &f.key {
                SpanKey::Name(n) if n == name => Some((&f.value, f.key_range.clone())),
                _ => None,
            })
    }

    pub fn child_for_number(&self, n: f64) -> Option<(&SpanTree, Range<usize>)> {
        if let Some(index) = &self.index {
            return index
                .numbers
                .get(&number_bits(n))
                .and_then(|&i| self.field(i));
        }
        self.fields
            .as_ref()?
            .iter()
            .rev()
            .find_map(|f| match f.key {
                SpanKey::Number(k) if k == n => Some((&f.value, f.key_range.clone())),
                _ => None,
            })
    }

    fn new(range: Range<usize>, fields: Option<Vec<SpanField>>) -> SpanTree {
        let index = fields
            .as_ref()
            .filter(|f| f.len() > INDEXED_FIELDS)
            .map(|fields| {
                let mut index = FieldIndex::default();
                for (i, field) in fields.iter().enumerate() {
                    match &field.key {
                        SpanKey::Name(name) => {
                            index.names.insert(name.clone(), i);
                        }
                        SpanKey::Number(n) => {
                            index.numbers.insert(number_bits(*n), i);
                        }
                        SpanKey::Unknown => {}
                    }
                }
                Box::new(index)
            });
        SpanTree {
            range,
            fields,
            index,
        }
    }
}

/// The span tree of the expression a file returns (Gluon runs `return ` +
/// the file's text), with byte ranges into the text. `None` when the file
/// returns nothing, or nests table constructors deeper than [`MAX_NESTING`].
pub fn returned_expression(text: &str) -> Option<SpanTree> {
    let tokens = lua_lex::tokens(text);
    let pairs = pair_up(&tokens);
    let reader = Reader {
        text,
        tokens: &tokens,
        pairs: &pairs,
    };
    let end = reader.expression_end(0, tokens.len());
    if end == 0 {
        return None;
    }
    reader.tree(0..end)
}

/// What opens a nested part of the text and what closes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pair {
    Paren,
    Brace,
    Bracket,
    /// `function`, `do`, `if` … `end`
    Block,
    /// `repeat` … `until`
    Repeat,
}

fn opens(token: &Token) -> Option<Pair> {
    match &token.tok {
        Tok::Symbol("(") => Some(Pair::Paren),
        Tok::Symbol("{") => Some(Pair::Brace),
        Tok::Symbol("[") => Some(Pair::Bracket),
        Tok::Keyword(Kw::Function | Kw::Do | Kw::If) => Some(Pair::Block),
        Tok::Keyword(Kw::Repeat) => Some(Pair::Repeat),
        _ => None,
    }
}

fn closes(token: &Token) -> Option<Pair> {
    match &token.tok {
        Tok::Symbol(")") => Some(Pair::Paren),
        Tok::Symbol("}") => Some(Pair::Brace),
        Tok::Symbol("]") => Some(Pair::Bracket),
        Tok::Keyword(Kw::End) => Some(Pair::Block),
        Tok::Keyword(Kw::Until) => Some(Pair::Repeat),
        _ => None,
    }
}

/// For every opening token, the index of the token that closes it. A closer
/// that does not match the innermost open pair (only in text Lua rejects)
/// closes nothing.
fn pair_up(tokens: &[Token]) -> Vec<Option<usize>> {
    let mut pairs = vec![None; tokens.len()];
    let mut open: Vec<(usize, Pair)> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if let Some(kind) = opens(token) {
            open.push((i, kind));
        } else if let Some(kind) = closes(token) {
            if let Some(&(at, innermost)) = open.last() {
                if innermost == kind {
                    pairs[at] = Some(i);
                    open.pop();
                }
            }
        }
    }
    pairs
}

struct Reader<'a> {
    text: &'a str,
    tokens: &'a [Token],
    pairs: &'a [Option<usize>],
}

/// A span tree under construction: its fields refer to later protos.
struct Proto {
    range: Range<usize>,
    /// The `{` and `}` of a table constructor.
    table: Option<(usize, usize)>,
    depth: usize,
    fields: Vec<(SpanKey, Range<usize>, usize)>,
}

impl Reader<'_> {
    /// The end (exclusive) of the expression that starts at token `start`:
    /// the first `,`, `;` or closer outside any pair, or `limit`.
    fn expression_end(&self, start: usize, limit: usize) -> usize {
        let mut i = start;
        while i < limit {
            let token = &self.tokens[i];
            if token.is(",") || token.is(";") || closes(token).is_some() {
                break;
            }
            if opens(token).is_some() {
                match self.pairs[i] {
                    Some(close) if close < limit => i = close + 1,
                    _ => return limit,
                }
            } else {
                i += 1;
            }
        }
        i
    }

    /// The byte range of tokens `range` (not empty).
    fn bytes(&self, tokens: Range<usize>) -> Range<usize> {
        self.tokens[tokens.start].range.start..self.tokens[tokens.end - 1].range.end
    }

    /// Tokens `range` without parentheses around all of them.
    fn unparenthesised(&self, mut range: Range<usize>) -> Range<usize> {
        while range.len() >= 2
            && self.tokens[range.start].is("(")
            && self.pairs[range.start] == Some(range.end - 1)
        {
            range = range.start + 1..range.end - 1;
        }
        range
    }

    /// The `{` and `}` when tokens `range` are a table constructor,
    /// possibly in parentheses.
    fn constructor(&self, range: Range<usize>) -> Option<(usize, usize)> {
        let inner = self.unparenthesised(range);
        (inner.len() >= 2
            && self.tokens[inner.start].is("{")
            && self.pairs[inner.start] == Some(inner.end - 1))
        .then_some((inner.start, inner.end - 1))
    }

    /// The key `[key]` stands for, when it is a literal.
    fn literal_key(&self, range: Range<usize>) -> SpanKey {
        let inner = self.unparenthesised(range);
        if inner.len() != 1 {
            return SpanKey::Unknown;
        }
        let token = &self.tokens[inner.start];
        match token.tok {
            Tok::String => lua_lex::string_value(self.text, token).map_or(SpanKey::Unknown, |v| {
                SpanKey::Name(super::lua::jsonc_string(&v))
            }),
            Tok::Number => parse_lua_number(&self.text[token.range.clone()])
                .map_or(SpanKey::Unknown, SpanKey::Number),
            _ => SpanKey::Unknown,
        }
    }

    /// The span tree of the expression in tokens `range`, built with a work
    /// list of constructors still to read.
    fn tree(&self, range: Range<usize>) -> Option<SpanTree> {
        let mut protos = vec![Proto {
            range: self.bytes(range.clone()),
            table: self.constructor(range),
            depth: 1,
            fields: Vec::new(),
        }];
        let mut work = vec![0];
        while let Some(at) = work.pop() {
            let Some((open, close)) = protos[at].table else {
                continue;
            };
            let depth = protos[at].depth;
            let mut fields = Vec::new();
            let mut position = 0.0;
            let mut i = open + 1;
            while i < close {
                let token = &self.tokens[i];
                // The key and where it is written; `None` for a positional item.
                let (key, value_start) = if token.is("[") {
                    let Some(key_close) = self.pairs[i].filter(|&c| c < close) else {
                        break;
                    };
                    let key_tokens = i + 1..key_close;
                    let after = key_close + 1;
                    let value_start = if after < close && self.tokens[after].is("=") {
                        after + 1
                    } else {
                        after
                    };
                    let key_range = if key_tokens.is_empty() {
                        self.bytes(i..key_close + 1)
                    } else {
                        self.bytes(key_tokens.clone())
                    };
                    (Some((self.literal_key(key_tokens), key_range)), value_start)
                } else if token.tok == Tok::Name && i + 1 < close && self.tokens[i + 1].is("=") {
                    let name = self.text[token.range.clone()].to_string();
                    (Some((SpanKey::Name(name), token.range.clone())), i + 2)
                } else {
                    (None, i)
                };
                let value_end = self.expression_end(value_start, close);
                if value_end <= value_start {
                    // Nothing Lua would accept (a stray `,` or closer): step over it.
                    i = value_start + 1;
                    continue;
                }
                let value_tokens = value_start..value_end;
                let value_range = self.bytes(value_tokens.clone());
                let (key, key_range) = key.unwrap_or_else(|| {
                    position += 1.0;
                    (SpanKey::Number(position), value_range.clone())
                });
                let table = self.constructor(value_tokens);
                let child = protos.len();
                if table.is_some() {
                    if depth >= MAX_NESTING {
                        return None;
                    }
                    work.push(child);
                }
                protos.push(Proto {
                    range: value_range,
                    table,
                    depth: depth + 1,
                    fields: Vec::new(),
                });
                fields.push((key, key_range, child));
                i = value_end;
            }
            protos[at].fields = fields;
        }
        // Children come after their parents: build from the back.
        let mut built: Vec<Option<SpanTree>> = (0..protos.len()).map(|_| None).collect();
        for (at, proto) in protos.into_iter().enumerate().rev() {
            let fields = proto.table.map(|_| {
                proto
                    .fields
                    .into_iter()
                    .map(|(key, key_range, child)| SpanField {
                        key,
                        key_range,
                        value: built
                            .get_mut(child)
                            .and_then(Option::take)
                            .unwrap_or_default(),
                    })
                    .collect()
            });
            built[at] = Some(SpanTree::new(proto.range, fields));
        }
        built.into_iter().next().flatten()
    }
}

/// Lua 5.1 number syntax: decimal with optional exponent, or hexadecimal.
pub fn parse_lua_number(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok().map(|n| n as f64);
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> SpanTree {
        returned_expression(text).expect("parses")
    }

    #[test]
    fn fields_and_items_keep_their_ranges() {
        let text = "{\n  a = 1,\n  ['b'] = { 'x', 'y' },\n  [3] = f(),\n}";
        let tree = spans(text);
        let (a, a_key) = tree.child_for_name("a").expect("a");
        assert_eq!(&text[a.range.clone()], "1");
        assert_eq!(&text[a_key], "a");
        let (b, _) = tree.child_for_name("b").expect("b");
        let (y, _) = b.child_for_number(2.0).expect("y");
        assert_eq!(&text[y.range.clone()], "'y'");
        let (call, _) = tree.child_for_number(3.0).expect("[3]");
        assert_eq!(&text[call.range.clone()], "f()");
        assert!(call.fields.is_none());
    }

    #[test]
    fn parenthesised_constructors_still_have_fields() {
        let tree = spans("({ a = true })");
        assert!(tree.child_for_name("a").is_some());
        assert!(spans("(({ a = true }))").child_for_name("a").is_some());
        // an index into a constructor is computed
        assert!(spans("({ a = true }).x").fields.is_none());
        assert!(spans("{ a = true }, 5").child_for_name("a").is_some());
    }

    #[test]
    fn keys_are_read_as_lua_reads_them() {
        let text = "{ ['a\\98'] = 1, [ [[\nlong]] ] = 2, [(0x10)] = 3, [1e1] = 4, x.y, 'p'; f(a, {b = 1}), a = 5 }";
        let tree = spans(text);
        assert!(tree.child_for_name("a\\98").is_none());
        assert!(tree.child_for_name("ab").is_some());
        assert!(tree.child_for_name("long").is_some());
        assert!(tree.child_for_number(16.0).is_some());
        assert!(tree.child_for_number(10.0).is_some());
        let (first, _) = tree.child_for_number(1.0).expect("x.y");
        assert_eq!(&text[first.range.clone()], "x.y");
        let (third, _) = tree.child_for_number(3.0).expect("f(…)");
        assert_eq!(&text[third.range.clone()], "f(a, {b = 1})");
        let (a, key) = tree.child_for_name("a").expect("a");
        assert_eq!((&text[a.range.clone()], &text[key]), ("5", "a"));
    }

    #[test]
    fn function_bodies_are_skipped_whole() {
        let text = "{ f = function(a, b) if a then return {a, b} end repeat local x = 1 until x; return 1 end, g = 2 }";
        let tree = spans(text);
        let (f, _) = tree.child_for_name("f").expect("f");
        assert!(f.fields.is_none());
        assert!(
            text[f.range.clone()].starts_with("function") && text[f.range.clone()].ends_with("end")
        );
        assert!(tree.child_for_name("g").is_some());
    }

    #[test]
    fn large_tables_are_indexed_and_later_fields_win() {
        let fields: String = (0..100).map(|i| format!("k{} = {i}, ", i % 50)).collect();
        let text = format!("{{ {fields} 'x' }}");
        let tree = spans(&text);
        let (k3, _) = tree.child_for_name("k3").expect("k3");
        assert_eq!(&text[k3.range.clone()], "53");
        let (x, _) = tree.child_for_number(1.0).expect("x");
        assert_eq!(&text[x.range.clone()], "'x'");
    }

    #[test]
    fn nesting_is_bounded_and_never_recursed_on() {
        for depth in [1, 10, MAX_NESTING] {
            let text = format!("{}{}", "{".repeat(depth), "}".repeat(depth));
            assert!(returned_expression(&text).is_some(), "{depth}");
        }
        for depth in [MAX_NESTING + 1, 100_000] {
            let text = format!("{}{}", "{".repeat(depth), "}".repeat(depth));
            assert!(returned_expression(&text).is_none(), "{depth}");
        }
        // other deep expressions have a range and no fields
        for text in [
            format!("{{ x = {}true }}", "not ".repeat(100_000)),
            format!("{{ x = {}1{} }}", "(".repeat(100_000), ")".repeat(100_000)),
            format!("{{ x = {}1 }}", "1+".repeat(100_000)),
            format!("{{ x = {}1{} }}", "a[".repeat(100_000), "]".repeat(100_000)),
            format!(
                "{{ x = {}1{} }}",
                "function() return ".repeat(100_000),
                " end".repeat(100_000)
            ),
        ] {
            let tree = returned_expression(&text).expect("a tree");
            let (x, _) = tree.child_for_name("x").expect("x");
            assert_eq!(x.range.end, text.len() - 2);
        }
    }

    #[test]
    fn invalid_text_gives_some_answer_without_panicking() {
        for text in [
            "",
            ";",
            "{",
            "}",
            "{ a = }",
            "{ [ = 1 }",
            "{ [1] 2 }",
            "({)}",
            "{ a = 1 ) , b = 2 }",
            "{ 'open",
            "{ [[open",
            "--[[ open",
            "{ x = function() }",
            "{ ,,; }",
            "end end",
            "{ a = 1 until }",
            "\u{e9}\u{e9}",
            "{ [ [ ] ] = 1 }",
        ] {
            let _ = returned_expression(text);
        }
    }

    /// gluonvpn's span trees agree with full_moon's reading of the same
    /// files, which gluonvpn used before: every example and corpus site.
    #[test]
    fn agrees_with_full_moon_on_real_sites() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in [root.join("site-examples"), root.join("../shared/corpus")] {
            for entry in walkdir::WalkDir::new(dir)
                .into_iter()
                .filter_map(Result::ok)
            {
                let path = entry.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name == "site.conf"
                    || path.parent().is_some_and(|p| p.ends_with("domains"))
                        && name.ends_with(".conf")
                {
                    files.push(path.to_path_buf());
                }
            }
        }
        assert!(files.len() > 3, "{files:?}");
        let mut compared = 0;
        for path in files {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let ours = returned_expression(&text);
            let theirs = oracle::returned_expression(&format!("return {text}"), "return ".len());
            match (ours, theirs) {
                (Some(ours), Some(theirs)) => {
                    if let Err(e) = same(&text, &ours, &theirs) {
                        panic!("{}: {e}", path.display());
                    }
                    compared += 1;
                }
                // Text full_moon rejects, Lua rejects too: its spans are
                // never used.
                (_, None) => {}
                (ours, theirs) => panic!(
                    "{}: ours {:?}, full_moon's {:?}",
                    path.display(),
                    ours.map(|t| t.range),
                    theirs.map(|t| t.range)
                ),
            }
        }
        assert!(compared > 3, "{compared} files compared");
        eprintln!("{compared} files agree with full_moon");
    }

    fn same(text: &str, ours: &SpanTree, theirs: &SpanTree) -> Result<(), String> {
        let mut work = vec![(ours, theirs)];
        while let Some((ours, theirs)) = work.pop() {
            if ours.range != theirs.range {
                return Err(format!(
                    "{:?} vs {:?}",
                    &text[ours.range.clone()],
                    &text[theirs.range.clone()]
                ));
            }
            match (&ours.fields, &theirs.fields) {
                (None, None) => {}
                (Some(a), Some(b)) if a.len() == b.len() => {
                    for (a, b) in a.iter().zip(b) {
                        if a.key != b.key || a.key_range != b.key_range {
                            return Err(format!("{:?} vs {:?}", a.key, b.key));
                        }
                        work.push((&a.value, &b.value));
                    }
                }
                _ => return Err(format!("fields of {:?}", &text[ours.range.clone()])),
            }
        }
        Ok(())
    }

    /// The full_moon span walker gluonvpn used up to issue 12, as the
    /// reference: it recursed on the input (full_moon's parser, its `Drop`
    /// and `Node::range`), so it only runs on real files here.
    mod oracle {
        use super::super::{parse_lua_number, SpanField, SpanKey, SpanTree};
        use full_moon::ast::{Expression, Field, LastStmt};
        use full_moon::tokenizer::{TokenReference, TokenType};
        use full_moon::LuaVersion;
        use std::ops::Range;

        pub fn returned_expression(source: &str, prefix_len: usize) -> Option<SpanTree> {
            let result = full_moon::parse_fallible(source, LuaVersion::lua51());
            if !result.errors().is_empty() {
                return None;
            }
            let ast = result.ast();
            match ast.nodes().last_stmt()? {
                LastStmt::Return(ret) => {
                    let first = ret.returns().iter().next()?;
                    Some(tree(first, prefix_len))
                }
                _ => None,
            }
        }

        fn range_of(node: &impl full_moon::node::Node, prefix_len: usize) -> Range<usize> {
            match node.range() {
                Some((start, end)) => {
                    start.bytes().saturating_sub(prefix_len)..end.bytes().saturating_sub(prefix_len)
                }
                None => 0..0,
            }
        }

        fn tree(expr: &Expression, prefix_len: usize) -> SpanTree {
            let range = range_of(expr, prefix_len);
            let fields = match expr {
                Expression::Parentheses { expression, .. } => tree(expression, prefix_len).fields,
                Expression::TableConstructor(table) => {
                    let mut fields = Vec::new();
                    let mut position = 0.0;
                    for field in table.fields().iter() {
                        match field {
                            Field::NameKey { key, value, .. } => fields.push(SpanField {
                                key: SpanKey::Name(key.token().to_string()),
                                key_range: range_of(key, prefix_len),
                                value: tree(value, prefix_len),
                            }),
                            Field::ExpressionKey { key, value, .. } => fields.push(SpanField {
                                key: literal_key(key),
                                key_range: range_of(key.as_ref(), prefix_len),
                                value: tree(value, prefix_len),
                            }),
                            Field::NoKey(value) => {
                                position += 1.0;
                                let value = tree(value, prefix_len);
                                fields.push(SpanField {
                                    key: SpanKey::Number(position),
                                    key_range: value.range.clone(),
                                    value,
                                });
                            }
                            _ => {}
                        }
                    }
                    Some(fields)
                }
                _ => None,
            };
            SpanTree::new(range, fields)
        }

        fn literal_key(key: &Expression) -> SpanKey {
            match key {
                Expression::String(token) => {
                    string_literal(token).map_or(SpanKey::Unknown, SpanKey::Name)
                }
                Expression::Number(token) => parse_lua_number(&token.token().to_string())
                    .map_or(SpanKey::Unknown, SpanKey::Number),
                Expression::Parentheses { expression, .. } => literal_key(expression),
                _ => SpanKey::Unknown,
            }
        }

        fn string_literal(token: &TokenReference) -> Option<String> {
            match token.token().token_type() {
                TokenType::StringLiteral {
                    literal,
                    quote_type,
                    ..
                } => {
                    let text = literal.to_string();
                    let is_long = matches!(
                        quote_type,
                        full_moon::tokenizer::StringLiteralQuoteType::Brackets
                    );
                    (is_long || !text.contains('\\')).then_some(text)
                }
                _ => None,
            }
        }
    }
}
