//! Evaluating one configuration file (site.conf or a domain file) into a
//! [`Node`], with the diagnostics Gluon's scripts/site_config.lua would give.

use super::codes;
use super::lua::{self, FailureKind, LuaFailure, Sandbox, SpanSource};
use super::value::Node;
use crate::diagnostics::Diagnostic;
use crate::source::{FileId, SourceMap, Span};

/// Evaluates a loaded file as `return <text>` and converts the result the
/// way Gluon's JSON round trip does.
pub fn evaluate(
    sandbox: &Sandbox,
    sources: &SourceMap,
    file: FileId,
) -> Result<Node, Box<Diagnostic>> {
    let value = evaluate_value(sandbox, sources, file)?;
    let tree = lua::file_span_tree(&sources.get(file).text);
    to_config_node(sources, file, &value, tree.as_ref())
}

/// The first half of [`evaluate`]: Lua's value, before spans are known (so
/// that parsing for spans can run elsewhere meanwhile).
pub fn evaluate_value(
    sandbox: &Sandbox,
    sources: &SourceMap,
    file: FileId,
) -> Result<mlua::Value, Box<Diagnostic>> {
    let source = sources.get(file);
    sandbox
        .eval_config(&source.name, &source.text)
        .map_err(|failure| Box::new(lua_failure(sources, file, &failure)))
}

/// The second half of [`evaluate`]: the JSON round trip, with spans from the
/// file's span tree.
pub fn to_config_node(
    sources: &SourceMap,
    file: FileId,
    value: &mlua::Value,
    tree: Option<&lua::SpanTree>,
) -> Result<Node, Box<Diagnostic>> {
    let source = sources.get(file);
    let whole = 0..source.text.trim_end().len();
    let node = lua::to_node(
        value,
        SpanSource {
            file,
            tree,
            fallback: whole.clone(),
        },
    )
    .map_err(|error| {
        let message = match error {
            lua::ConvertError::TooDeep => "the configuration contains a table that contains itself, or tables nested more than 64 levels deep".to_string(),
            lua::ConvertError::Lua(e) => format!("gluonvpn could not read the evaluated configuration: {e}"),
        };
        Box::new(Diagnostic::new(
            codes::NOT_SERIALISABLE,
            message,
            Some(Span::file_start(file)),
        ))
    })?;
    match node {
        Some(node) if node.is_table() => Ok(node),
        other => {
            let found = other.map_or("nil".to_string(), |n| n.lua_type().to_string());
            let start = tree.map_or(0, |t| t.range.start);
            Err(Box::new(Diagnostic::new(
                codes::NOT_A_TABLE,
                format!(
                    "{} must evaluate to a table, but it evaluates to {found}",
                    source.name
                ),
                Some(Span::new(file, start, start + 1)),
            )))
        }
    }
}

/// A diagnostic for a failed Lua evaluation, at the line Lua names when it
/// names this file.
pub fn lua_failure(sources: &SourceMap, file: FileId, failure: &LuaFailure) -> Diagnostic {
    let source = sources.get(file);
    let code = match failure.kind {
        FailureKind::Syntax => codes::LUA_SYNTAX,
        FailureKind::Runtime => codes::LUA_RUNTIME,
        FailureKind::Limit(_) => codes::LUA_LIMIT,
    };
    let span = match &failure.location {
        Some((chunk, line)) if *chunk == source.name => {
            Some(near_token(source, file, *line, &failure.message))
        }
        _ => Some(Span::file_start(file)),
    };
    let mut diagnostic = Diagnostic::new(code, failure.bare_message().to_string(), span);
    // Gluon runs without gluonvpn's time and pattern limits: it has no
    // message for them.
    if !matches!(
        failure.kind,
        FailureKind::Limit(lua::LimitKind::Time | lua::LimitKind::Pattern)
    ) {
        diagnostic = diagnostic.with_gluon_message(failure.message.clone());
    }
    diagnostic
}

/// Lua names the token it stopped at (`… near '%'`): point at it on the
/// line when it is there, else at the whole line.
fn near_token(
    source: &crate::source::SourceFile,
    file: FileId,
    line: usize,
    message: &str,
) -> Span {
    let line_span = source.line_span(file, line);
    let token = message
        .rsplit_once(" near '")
        .and_then(|(_, rest)| rest.strip_suffix('\''))
        .filter(|t| !t.is_empty());
    let found = token.and_then(|t| source.line_text(line).find(t).map(|at| (at, t.len())));
    match found {
        Some((at, len)) => {
            let start = line_span.start as usize + at;
            Span::new(file, start, start + len)
        }
        None => line_span,
    }
}
