use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    gluonvpn::cli::run(gluonvpn::cli::Cli::parse())
}
