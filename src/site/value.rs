//! The value model of a site configuration as Gluon's checks see it.
//!
//! Gluon evaluates site.conf with Lua, serialises the result with lua-jsonc and
//! the checks load that JSON again. The round trip decides what a check sees:
//! a table whose keys are exactly 1..n becomes an array (an empty table is an
//! empty array), any other table an object with string keys (numeric keys turn
//! into strings, other keys vanish), integral numbers pass through json-c's
//! 32-bit integers, and functions vanish. [`Value`] is the state after that
//! trip; the conversion lives in [`super::lua`].

use crate::source::Span;
use std::fmt;

/// Builds a configuration path: `p!["mesh_vpn", "fastd", "mtu"]`.
macro_rules! config_path {
    ($($key:expr),* $(,)?) => {
        vec![$($crate::site::value::Key::from($key)),*]
    };
}
pub(crate) use config_path as p;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    Number(f64),
    String(String),
    /// A Lua table with keys 1..n.
    Array(Vec<Node>),
    /// Any other Lua table; after the JSON round trip all keys are strings.
    Object(Vec<(String, Node)>),
}

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    /// The expression that produced the value.
    pub span: Option<Span>,
    /// The key of the field holding the value (`name` in `name = value`); for
    /// array items and values without a key, the value's own span.
    pub key_span: Option<Span>,
}

impl Node {
    pub fn new(value: Value, span: Option<Span>) -> Node {
        Node {
            value,
            span,
            key_span: span,
        }
    }

    /// Lua's `type()` of the value.
    pub fn lua_type(&self) -> &'static str {
        self.value.lua_type()
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self.value {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn is_table(&self) -> bool {
        matches!(self.value, Value::Array(_) | Value::Object(_))
    }

    /// Lua truthiness (nil and false are false; the caller handles nil).
    pub fn truthy(&self) -> bool {
        !matches!(self.value, Value::Bool(false))
    }

    /// `t[key]` in Lua, for a table; `None` for nil or a non-table.
    pub fn get(&self, key: &Key) -> Option<&Node> {
        match (&self.value, key) {
            (Value::Object(fields), Key::Name(name)) => {
                fields.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v)
            }
            (Value::Array(items), Key::Index(i)) => i.checked_sub(1).and_then(|i| items.get(i)),
            _ => None,
        }
    }

    pub fn get_name(&self, name: &str) -> Option<&Node> {
        match &self.value {
            Value::Object(fields) => fields.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Lua's `#t`: the array length; 0 for objects (their keys are strings).
    /// (Emptiness of a table is [`Node::is_empty_table`]; `#t == 0` is not it.)
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        match &self.value {
            Value::Array(items) => items.len(),
            _ => 0,
        }
    }

    pub fn is_empty_table(&self) -> bool {
        match &self.value {
            Value::Array(items) => items.is_empty(),
            Value::Object(fields) => fields.is_empty(),
            _ => false,
        }
    }

    /// The array items (`ipairs`), empty for objects and non-tables.
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Array(items) => items,
            _ => &[],
        }
    }

    /// `pairs(t)`: every key with its value.
    pub fn entries(&self) -> Vec<(Key, &Node)> {
        match &self.value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, n)| (Key::Index(i + 1), n))
                .collect(),
            Value::Object(fields) => fields
                .iter()
                .map(|(k, n)| (Key::Name(k.clone()), n))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Follows a path of string keys (`node.at(&["mesh_vpn", "fastd"])`).
    pub fn at(&self, names: &[&str]) -> Option<&Node> {
        let mut node = self;
        for name in names {
            node = node.get_name(name)?;
        }
        Some(node)
    }

    /// Follows a path of keys; `None` as soon as a step is nil or not a table.
    pub fn lookup(&self, path: &[Key]) -> Option<&Node> {
        let mut node = self;
        for key in path {
            node = node.get(key)?;
        }
        Some(node)
    }

    /// Converts to plain JSON, as Gluon's site.json holds it.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 9.0e15 {
                    J::from(*n as i64)
                } else {
                    serde_json::Number::from_f64(*n).map_or(J::Null, J::Number)
                }
            }
            Value::String(s) => J::String(s.clone()),
            Value::Array(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Object(fields) => J::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

impl Value {
    pub fn lua_type(&self) -> &'static str {
        match self {
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) | Value::Object(_) => "table",
        }
    }
}

/// One step of a path into the configuration: a string key or an array index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Name(String),
    Index(usize),
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Name(name) => f.write_str(name),
            Key::Index(i) => write!(f, "{i}"),
        }
    }
}

impl From<&str> for Key {
    fn from(name: &str) -> Key {
        Key::Name(name.to_string())
    }
}

impl From<String> for Key {
    fn from(name: String) -> Key {
        Key::Name(name)
    }
}

impl From<usize> for Key {
    fn from(index: usize) -> Key {
        Key::Index(index)
    }
}

/// A path as Gluon prints it: keys joined with dots (`mesh_vpn.fastd.mtu`).
pub fn path_to_string(path: &[Key]) -> String {
    path.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// Lua 5.1's `tostring` of a number (`%.14g`).
pub fn lua_number_to_string(n: f64) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    format_g(n, 14)
}

/// C's `%.<precision>g`.
fn format_g(n: f64, precision: usize) -> String {
    if n == 0.0 {
        return if n.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let precision = precision.max(1);
    // Integers with no more digits than the precision print as they are
    // (most numbers of a site; the general path below is slow).
    if n.fract() == 0.0 && n.abs() < 10f64.powi(precision as i32) {
        return format!("{}", n as i64);
    }
    // Round to `precision` significant digits in scientific form first: its
    // exponent decides between fixed and exponential notation, as C does.
    let sci = format!("{:.*e}", precision - 1, n);
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if exponent < -4 || exponent >= precision as i32 {
        let mantissa = trim_fraction_zeros(mantissa);
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
        trim_fraction_zeros(&format!("{n:.decimals$}")).to_string()
    }
}

fn trim_fraction_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Lua 5.1's `string.format('%q', s)`.
pub fn lua_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' | '\n' => {
                out.push('\\');
                out.push(c);
            }
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\000"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// How Gluon's validator prints a value in a message (`format()` in
/// validator.lua): strings quoted with `%q`, everything else via `tostring`.
/// Tables print as an address in Lua; we print `{…}` instead, as the address
/// means nothing to a reader.
pub fn format_value(node: &Node) -> String {
    match &node.value {
        Value::String(s) => lua_quote(s),
        Value::Number(n) => lua_number_to_string(*n),
        Value::Bool(b) => b.to_string(),
        Value::Array(_) | Value::Object(_) => "{…}".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_lua_5_1() {
        let cases = [
            (1.0, "1"),
            (-3.0, "-3"),
            (1312.0, "1312"),
            (0.5, "0.5"),
            (1e15, "1e+15"),
            (123456789012345.0, "1.2345678901234e+14"),
            (12345678901234.0, "12345678901234"),
            (99999999999999.0, "99999999999999"),
            (-99999999999999.0, "-99999999999999"),
            (1e14, "1e+14"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.0 / 3.0, "0.33333333333333"),
            (-0.0, "-0"),
            (2.5e-7, "2.5e-07"),
        ];
        for (n, expected) in cases {
            assert_eq!(lua_number_to_string(n), expected, "{n}");
        }
    }

    #[test]
    fn quoting_matches_lua_q() {
        assert_eq!(
            lua_quote("a\"b\\c\nd\re\0"),
            "\"a\\\"b\\\\c\\\nd\\re\\000\""
        );
    }

    #[test]
    fn lookup_distinguishes_array_indices_from_string_keys() {
        let array = Node::new(
            Value::Array(vec![Node::new(Value::String("x".into()), None)]),
            None,
        );
        assert!(array.get(&Key::Index(1)).is_some());
        assert!(array.get(&Key::Name("1".into())).is_none());
        let object = Node::new(
            Value::Object(vec![("1".into(), Node::new(Value::Bool(true), None))]),
            None,
        );
        assert!(object.get(&Key::Index(1)).is_none());
        assert_eq!(object.len(), 0);
    }
}
