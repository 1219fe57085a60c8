//! Edits of a Lua configuration file by source span: a field removed with its
//! separator (and its line when nothing else stands on it), a field added to
//! a table after its last field in the table's own layout, a value replaced.
//! Everything else in the file stays as the user wrote it.

use crate::site::value::{Node, Value};
use std::ops::Range;

/// One change to a file: the bytes `range` replaced by `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// The file, relative to the site (`site.conf`, `domains/a.conf`).
    pub file: String,
    pub range: Range<usize>,
    pub text: String,
}

/// Two edits of one file touch the same bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Overlap;

/// Applies edits to a text. Edits may come in any order; overlapping ones
/// are refused.
pub fn apply(text: &str, edits: &[&Edit]) -> Result<String, Overlap> {
    let mut sorted: Vec<&&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in sorted {
        if edit.range.start < at
            || edit.range.end > text.len()
            || !text.is_char_boundary(edit.range.start)
            || !text.is_char_boundary(edit.range.end)
        {
            return Err(Overlap);
        }
        out.push_str(&text[at..edit.range.start]);
        out.push_str(&edit.text);
        at = edit.range.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// Where a field of a table stands in its file: its key and its value.
#[derive(Clone, Debug)]
pub struct Field {
    pub key: Range<usize>,
    pub value: Range<usize>,
}

/// The field `name` of a table node, if the file spells it out (`name =` or
/// `['name'] =`) at the place the model says: values a function or a loop
/// computed have no such place, and are not edited.
pub fn field(text: &str, table: &Node, name: &str) -> Option<Field> {
    let Value::Object(fields) = &table.value else {
        return None;
    };
    let (_, node) = fields.iter().rev().find(|(k, _)| k == name)?;
    let key = node.key_span?;
    let value = node.span?;
    let key = key.start as usize..key.end as usize;
    let value = value.start as usize..value.end as usize;
    // `name = …`, or `['name'] = …` (the key is then the string).
    let spelled = text.get(key.clone())?;
    let quoted = [format!("'{name}'"), format!("\"{name}\"")]
        .iter()
        .any(|q| spelled == q);
    if !(spelled == name || quoted) || value.start < key.end || value.end > text.len() {
        return None;
    }
    // The key ends before an `=` and the value follows it.
    let between = text.get(key.end..value.start)?;
    if !between
        .trim_start_matches([']', '\'', '"'])
        .trim()
        .starts_with('=')
    {
        return None;
    }
    Some(Field { key, value })
}

/// The range of a table constructor the model's node covers, if the file
/// has `{ … }` there.
pub fn table_range(text: &str, table: &Node) -> Option<Range<usize>> {
    if !matches!(table.value, Value::Object(_) | Value::Array(_)) {
        return None;
    }
    let span = table.span?;
    let range = span.start as usize..span.end as usize;
    let inner = text.get(range.clone())?;
    (inner.starts_with('{') && inner.ends_with('}')).then_some(range)
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i)
}

/// After `at`: spaces and tabs skipped.
fn skip_blanks(text: &str, mut at: usize) -> usize {
    while text[at..].starts_with([' ', '\t']) {
        at += 1;
    }
    at
}

/// After a field's value: its `,` or `;`, if it has one.
fn after_separator(text: &str, value_end: usize) -> Option<usize> {
    let at = skip_blanks(text, value_end);
    text[at..].starts_with([',', ';']).then_some(at + 1)
}

/// The edit removing a field: with its separator, and the whole line (with a
/// comment after it) when the field is alone on its lines.
pub fn remove_field(file: &str, text: &str, field: &Field) -> Edit {
    let mut end = after_separator(text, field.value.end).unwrap_or(field.value.end);
    let rest_at = skip_blanks(text, end);
    let rest = &text[rest_at..line_end(text, rest_at)];
    let start_of_line = line_start(text, field.key.start);
    // A `[` before the key belongs to the field.
    let mut start = field.key.start;
    let before = text[start_of_line..start].trim_end();
    if before.ends_with('[') && !text[start..].starts_with('[') {
        start = start_of_line + before.len() - 1;
    }
    let alone = text[start_of_line..start].trim().is_empty()
        && (rest.trim().is_empty() || rest.trim_start().starts_with("--"));
    if alone {
        start = start_of_line;
        end = (line_end(text, rest_at) + 1).min(text.len());
    } else {
        end = skip_blanks(text, end);
    }
    Edit {
        file: file.to_string(),
        range: start..end,
        text: String::new(),
    }
}

/// The edit adding `name = value` to a table (given by its range): after the
/// last field, on a line of its own with that field's indentation when the
/// table spans several lines, else inline.
pub fn add_field(
    file: &str,
    text: &str,
    table: Range<usize>,
    last: Option<&Field>,
    name: &str,
    value: &str,
) -> Edit {
    let field = format!("{name} = {value}");
    let close = table.end.saturating_sub(1);
    let Some(last) = last else {
        // An empty table: fill it.
        return Edit {
            file: file.to_string(),
            range: table.start..table.end,
            text: format!("{{ {field} }}"),
        };
    };
    // A last field outside the table (places the model could not pin
    // down): the new field goes first, right after the brace.
    if !(table.start < last.key.start && last.value.end <= close) {
        return Edit {
            file: file.to_string(),
            range: table.start + 1..table.start + 1,
            text: format!(" {field},"),
        };
    }
    let separator = after_separator(text, last.value.end);
    let multiline = text[last.value.end..close].contains('\n');
    if multiline {
        let line_of_last = line_start(text, last.key.start);
        let indent: String = text[line_of_last..]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        let end_of_line = line_end(text, separator.unwrap_or(last.value.end));
        let (from, prefix) = match separator {
            Some(_) => (end_of_line, String::new()),
            None => (
                last.value.end,
                ",".to_string() + &text[last.value.end..end_of_line],
            ),
        };
        Edit {
            file: file.to_string(),
            range: from..end_of_line,
            text: format!("{prefix}\n{indent}{field},"),
        }
    } else {
        match separator {
            Some(after) => Edit {
                file: file.to_string(),
                range: after..after,
                text: format!(" {field},"),
            },
            None => Edit {
                file: file.to_string(),
                range: last.value.end..last.value.end,
                text: format!(", {field}"),
            },
        }
    }
}

/// The last field of a table in the file, as written (by position).
pub fn last_field(text: &str, table: &Node) -> Option<Field> {
    let Value::Object(fields) = &table.value else {
        return None;
    };
    fields
        .iter()
        .filter_map(|(name, _)| field(text, table, name))
        .max_by_key(|f| f.value.end)
}

/// A Lua string literal for a value gluonvpn writes: single-quoted, with
/// every character that needs it escaped.
pub fn lua_string(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\{:03}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(range: Range<usize>, text: &str) -> Edit {
        Edit {
            file: "f".into(),
            range,
            text: text.into(),
        }
    }

    #[test]
    fn edits_apply_in_any_order_and_never_overlap() {
        let a = edit(0..1, "X");
        let b = edit(2..3, "Y");
        assert_eq!(apply("abc", &[&b, &a]), Ok("XbY".to_string()));
        let c = edit(0..2, "");
        assert_eq!(apply("abc", &[&a, &c]), Err(Overlap));
        assert_eq!(apply("abc", &[&edit(2..9, "")]), Err(Overlap));
    }

    #[test]
    fn fields_are_added_in_the_tables_layout() {
        let text = "{\n  a = 1, -- one\n  b = { 2 }\n}";
        let last = Field {
            key: 20..21,
            value: 24..29,
        };
        assert_eq!(&text[last.key.clone()], "b");
        let e = add_field("f", text, 0..text.len(), Some(&last), "c", "3");
        assert_eq!(
            apply(text, &[&e]).unwrap(),
            "{\n  a = 1, -- one\n  b = { 2 },\n  c = 3,\n}"
        );
        let inline = "{ a = 1 }";
        let last = Field {
            key: 2..3,
            value: 6..7,
        };
        let e = add_field("f", inline, 0..inline.len(), Some(&last), "c", "3");
        assert_eq!(apply(inline, &[&e]).unwrap(), "{ a = 1, c = 3 }");
        assert_eq!(
            apply("{}", &[&add_field("f", "{}", 0..2, None, "c", "3")]).unwrap(),
            "{ c = 3 }"
        );
        // A field the table does not hold: first, never a panic.
        let stray = Field {
            key: 40..41,
            value: 44..45,
        };
        let e = add_field("f", inline, 0..inline.len(), Some(&stray), "c", "3");
        assert_eq!(apply(inline, &[&e]).unwrap(), "{ c = 3, a = 1 }");
    }

    #[test]
    fn strings_are_quoted_for_lua() {
        assert_eq!(lua_string("a'b\\c\n"), "'a\\'b\\\\c\\n'");
        assert_eq!(lua_string("\u{1}"), "'\\001'");
    }
}
