//! What several tests read out of rendered trees.

// each test target uses a part of it
#![allow(dead_code)]

use gluonvpn::render::{Entry, Format, Tree};

/// The fastd configurations of a rendered tree: (path, text).
pub fn fastd_configs(tree: &Tree) -> Vec<(&str, &str)> {
    tree.entries
        .iter()
        .filter_map(|e| match e {
            Entry::File {
                path,
                content,
                format: Format::Fastd,
                ..
            } => Some((path.as_str(), content.as_str())),
            _ => None,
        })
        .collect()
}
