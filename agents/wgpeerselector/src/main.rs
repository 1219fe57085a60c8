//! `wgpeerselector`: see the library's documentation and `--help`.

use gluonvpn_wgpeerselector::cli::{self, Command};
use gluonvpn_wgpeerselector::daemon;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = match std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect::<Result<_, _>>()
    {
        Ok(args) => args,
        Err(bad) => {
            eprintln!("wgpeerselector: argument {bad:?} is not UTF-8");
            return ExitCode::from(2);
        }
    };
    let code = match cli::parse(args) {
        Ok(Command::Help) => {
            print!("{}", cli::HELP);
            0
        }
        Ok(Command::Version) => {
            // a build with the status on ubus says so
            let ubus = if cfg!(feature = "ubus") {
                " (ubus)"
            } else {
                ""
            };
            println!("wgpeerselector {}{ubus}", env!("CARGO_PKG_VERSION"));
            0
        }
        Ok(Command::Status(socket)) => daemon::print_status(&socket),
        Ok(Command::Run(options)) => daemon::run(options),
        Err(e) => {
            eprintln!("wgpeerselector: {e}");
            2
        }
    };
    ExitCode::from(code as u8)
}
