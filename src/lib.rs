//! gluonvpn: load a Gluon site exactly as Gluon does, check it, and render and
//! build from it.
//!
//! Data flows one way: site files → [`site`] model (values with spans) →
//! [`rules`] (Gluon's own checks) → [`diagnostics`] → renderers.

pub mod build;
pub mod check;
pub mod ci;
pub mod cli;
pub mod derive;
pub mod diagnostics;
pub mod docs;
pub mod fastd_conf;
pub mod gluon_data;
pub mod gluon_version;
pub mod keys;
pub mod lints;
pub mod peers;
pub mod probe;
pub mod registry;
pub mod render;
pub mod rules;
pub mod site;
pub mod templates;
