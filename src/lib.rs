//! gluonvpn: load a Gluon site exactly as Gluon does, check it, and render and
//! build from it.
//!
//! Data flows one way: site files → [`site`] model (values with spans, each
//! domain's mesh VPN) → [`rules`] (Gluon's own checks), [`lints`] and
//! [`probe`] → [`diagnostics`] → [`output`] formats → commands ([`cli`]).
//! Modules are layered (README, "Layout"); `tests/layers.rs` keeps every
//! `use crate::…` pointing down.

pub mod build;
pub mod catalog;
pub mod check;
pub mod ci;
pub mod cli;
pub mod derive;
pub mod diagnostics;
pub mod docs;
pub mod fastd_conf;
pub mod gluon_data;
pub mod gluon_version;
pub mod input;
pub mod keys;
pub mod lints;
pub mod migrate;
pub mod output;
pub mod parallel;
pub mod peers;
pub mod probe;
pub mod release;
pub mod render;
pub mod rules;
pub mod severity;
pub mod site;
pub mod source;
pub mod templates;
pub mod writing;
