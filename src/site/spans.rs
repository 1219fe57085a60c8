//! Source spans for the values of a configuration file, from full_moon.
//!
//! Lua evaluates the file; full_moon parses the same text so that every table
//! constructor field, array item and computed expression keeps its byte range.
//! The two are joined key by key in [`super::lua`]: a value built by a table
//! constructor gets its field's span, anything computed (a call, a variable, a
//! concatenation) the span of that expression for itself and everything in it.

use full_moon::ast::{Expression, Field, LastStmt};
use full_moon::tokenizer::{TokenReference, TokenType};
use full_moon::LuaVersion;
use std::ops::Range;

/// The shape of an expression as written: its byte range and, for a table
/// constructor, its fields.
#[derive(Debug, Clone, Default)]
pub struct SpanTree {
    pub range: Range<usize>,
    /// `Some` when the expression is a table constructor.
    pub fields: Option<Vec<SpanField>>,
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
    Name(String),
    /// Positional items (counted from 1) and `[n] = …` keys.
    Number(f64),
    Unknown,
}

impl SpanTree {
    /// The span tree of the field that holds `key`, if the expression is a
    /// table constructor that writes it. Later fields win, as in Lua.
    pub fn child_for_name(&self, name: &str) -> Option<(&SpanTree, Range<usize>)> {
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
        self.fields
            .as_ref()?
            .iter()
            .rev()
            .find_map(|f| match f.key {
                SpanKey::Number(k) if k == n => Some((&f.value, f.key_range.clone())),
                _ => None,
            })
    }
}

/// Parses `source` (the text Lua ran, e.g. `return ` + file) and returns the
/// span tree of the first returned expression, with byte ranges shifted back
/// by `prefix_len` so they index the file's own text. `None` when full_moon
/// cannot parse what Lua accepted (the values then carry file-level spans).
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
    match expr {
        Expression::Parentheses { expression, .. } => SpanTree {
            range,
            fields: tree(expression, prefix_len).fields,
        },
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
            SpanTree {
                range,
                fields: Some(fields),
            }
        }
        _ => SpanTree {
            range,
            fields: None,
        },
    }
}

fn literal_key(key: &Expression) -> SpanKey {
    match key {
        Expression::String(token) => string_literal(token).map_or(SpanKey::Unknown, SpanKey::Name),
        Expression::Number(token) => {
            parse_lua_number(&token.token().to_string()).map_or(SpanKey::Unknown, SpanKey::Number)
        }
        Expression::Parentheses { expression, .. } => literal_key(expression),
        _ => SpanKey::Unknown,
    }
}

/// The value of a string literal without escapes; escaped strings are left
/// unknown rather than decoded half-right.
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
        let source = format!("return {text}");
        returned_expression(&source, "return ".len()).expect("parses")
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
    }
}
