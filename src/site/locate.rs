//! Where a configuration path is written, for pointing diagnostics at it:
//! shared by Gluon's checks and gluonvpn's lints.

use super::value::{Key, Node};
use crate::source::Span;

/// The span of the value at `path` where a file sets it (the domain file
/// first), else of the deepest enclosing table that is set: its key, or the
/// start of the file's table when nothing of the path is set (the domain's
/// when it is as deep as the site's).
pub fn locate(site: &Node, domain: Option<&Node>, path: &[Key]) -> Option<Span> {
    if let Some(node) = domain
        .and_then(|d| d.lookup(path))
        .or_else(|| site.lookup(path))
    {
        return node.span;
    }
    let deepest = |root: &Node| -> (usize, Option<Span>, Option<Span>) {
        let mut node = root;
        let mut depth = 0;
        for key in path {
            match node.get(key) {
                Some(next) => {
                    node = next;
                    depth += 1;
                }
                None => break,
            }
        }
        (depth, node.span, node.key_span)
    };
    let site_found = deepest(site);
    let (depth, span, key_span) = match domain.map(deepest) {
        Some(found) if found.0 >= site_found.0 && found.0 > 0 => found,
        _ => site_found,
    };
    if depth == 0 {
        // The start of the file's table is enough to point at.
        span.map(|s| Span::new(s.file, s.start as usize, s.start as usize + 1))
    } else {
        key_span
    }
}

/// The span of the key that sets `path` in one file's configuration.
pub fn key_span(root: &Node, path: &[Key]) -> Option<Span> {
    root.lookup(path).and_then(|n| n.key_span.or(n.span))
}
