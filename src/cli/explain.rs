//! `gluonvpn explain`: a diagnostic code's entry of the catalogue.

use crate::catalog;
use std::io::Write;
use std::process::ExitCode;

pub(super) fn run(code: &str) -> anyhow::Result<ExitCode> {
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
    Ok(ExitCode::SUCCESS)
}
