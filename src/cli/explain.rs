//! `gluonvpn explain`: a diagnostic code's entry of the catalogue.

use super::Exit;
use crate::catalog;
use std::io::Write;

pub(super) fn run(code: &str) -> anyhow::Result<Exit> {
    let Some(info) = catalog::lookup(code) else {
        anyhow::bail!("unknown code '{code}'; the book's reference lists every code");
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} ({}): {}", info.code, info.name, info.summary)?;
    writeln!(
        out,
        "Severity: {}. Reported by: {}.",
        info.severity.as_str(),
        info.origin.describe()
    )?;
    writeln!(out)?;
    writeln!(out, "{}", info.explanation)?;
    Ok(Exit::Clean)
}
