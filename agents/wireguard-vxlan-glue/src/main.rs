use std::path::Path;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};
use wireguard_vxlan_glue::cli::{self, Command, USAGE};
use wireguard_vxlan_glue::glue::{
    check_iface, ensure_proto_name, flush_routes, log_err, Pair, PROTO_NAME_FILE,
};
use wireguard_vxlan_glue::rtnl::Rtnl;
use wireguard_vxlan_glue::signals::{self, Signals};

fn main() -> ExitCode {
    // first, so that a signal during the start is not lost: it waits for
    // the first sleep, and everything installed until then is removed
    let signals = match Signals::block(&[libc::SIGTERM, libc::SIGINT]) {
        Ok(s) => s,
        Err(e) => {
            log_err(&format!("Cannot block signals: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let options = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Run(o)) => o,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("wireguard-vxlan-glue {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{}", e.message);
            if e.code == 2 {
                eprint!("\n{USAGE}");
            }
            return ExitCode::from(e.code);
        }
    };

    for (wg, vx) in &options.pairs {
        for (iface, devtype) in [(wg, "wireguard"), (vx, "vxlan")] {
            if let Err(msg) = check_iface(iface, devtype) {
                println!("{msg}");
                return ExitCode::FAILURE;
            }
        }
    }
    if options.write_proto_name {
        let path = Path::new(PROTO_NAME_FILE);
        if let Err(e) = ensure_proto_name(path) {
            log_err(&format!("Cannot write {}: {e}", path.display()));
        }
    }
    let mut rtnl = match Rtnl::new() {
        Ok(r) => r,
        Err(e) => {
            log_err(&format!("Cannot open rtnetlink: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match flush_routes(&mut rtnl) {
        Ok(0) => {}
        Ok(n) => println!("Initial cleanup: Deleted {n} route(s) with proto wg-vxlan-glue."),
        Err(e) => log_err(&format!("Initial cleanup failed: {e}")),
    }

    let mut pairs: Vec<Pair> = options
        .pairs
        .iter()
        .map(|(wg, vx)| Pair::new(wg, vx))
        .collect();
    println!(
        "Watching {} every {} s; peers count as gone {} s after their latest handshake.",
        options
            .pairs
            .iter()
            .map(|(wg, vx)| format!("{wg} -> {vx}"))
            .collect::<Vec<_>>()
            .join(", "),
        cli::format_seconds(options.interval),
        cli::format_seconds(options.stale_after)
    );

    let signal = loop {
        let start = Instant::now();
        let now = SystemTime::now();
        for pair in &mut pairs {
            pair.cycle(&mut rtnl, now, options.stale_after);
        }
        if let Some(signal) = signals.wait_until(start + options.interval) {
            break signal;
        }
    };
    println!("Received {}. Exiting...", signals::name(signal));
    for pair in &mut pairs {
        pair.clear(&mut rtnl);
    }
    ExitCode::SUCCESS
}
