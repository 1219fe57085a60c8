//! The output formats of a check: human (codespan-reporting), JSON, SARIF
//! and GitHub Actions workflow commands.

pub mod github;
pub mod human;
pub mod json;
pub mod sarif;
