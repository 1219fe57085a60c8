//! The command line: the original's options (`-i/--interface`, `-v`,
//! `--group`, `-p/--pid-file`, `-h`) with the same meanings and defaults,
//! and the selector's own.

use crate::ntp::SetTime;
use std::path::PathBuf;
use std::time::Duration;

/// What the daemon needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub ifname: String,
    pub verbose: bool,
    pub group: Option<String>,
    pub pid_file: Option<PathBuf>,
    pub config: PathBuf,
    pub system_config: PathBuf,
    pub ntp_servers: Vec<String>,
    pub ntp_timeout: Duration,
    pub set_time: SetTime,
    /// `None`: the default for the interface.
    pub status_socket: Option<PathBuf>,
    /// ubusd's socket (builds with the `ubus` feature); `None`: libubus'
    /// default.
    pub ubus_socket: Option<PathBuf>,
    pub parallel: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ifname: "wg0".into(),
            verbose: false,
            group: None,
            pid_file: None,
            config: "/etc/config/wgpeerselector".into(),
            system_config: "/etc/config/system".into(),
            ntp_servers: Vec::new(),
            ntp_timeout: Duration::from_secs(1),
            set_time: SetTime::Clock,
            status_socket: None,
            ubus_socket: None,
            parallel: 4,
        }
    }
}

impl Options {
    /// The status socket: the one given, or one per interface.
    pub fn status_socket(&self) -> PathBuf {
        self.status_socket
            .clone()
            .unwrap_or_else(|| default_status_socket(&self.ifname))
    }
}

/// `/var/run/wgpeerselector.<interface>.sock`
pub fn default_status_socket(ifname: &str) -> PathBuf {
    PathBuf::from(format!("/var/run/wgpeerselector.{ifname}.sock"))
}

/// What was asked for.
// made once per process: the size of `Run` does not matter
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Run(Options),
    /// `wgpeerselector status`: print the status document of a running
    /// selector.
    Status(PathBuf),
    Help,
    Version,
}

pub const HELP: &str = "\
Usage: wgpeerselector [OPTIONS]
       wgpeerselector status [-i IFACE] [--status-socket PATH]

Keeps a WireGuard interface connected to one of the gateways configured in
/etc/config/wgpeerselector (UCI `peer` sections), probing several at once.

 -h, --help                 Shows this help text
 -V, --version              Shows the version
 -i, --interface IFACE      (Existing) WireGuard interface (default: wg0)
 -v, --verbose              Verbose: debug messages too
 --group GROUP              Change unix group on startup
 -p, --pid-file FILE        Writes the PID to FILE
 --config PATH              Peers' UCI file (default: /etc/config/wgpeerselector)
 --system-config PATH       UCI file with system.ntp.server (default: /etc/config/system)
 --ntp-server HOST          Also ask HOST for the time (repeatable)
 --ntp-timeout SECONDS      Wait this long for the time before connecting (default: 1)
 --set-time-command CMD     Set the clock by running CMD @SECONDS (e.g. \"date -s\")
 --no-set-time              Ask for the time but leave the clock alone
 --status-socket PATH       Status socket (default: /var/run/wgpeerselector.IFACE.sock)
 --ubus-socket PATH         ubusd's socket, for the status on ubus as
                            wgpeerselector.IFACE (default: libubus' own;
                            builds with the ubus feature)
 --parallel N               Probe at most N gateways at once (default: 4; 1: one by one)
";

fn value(
    name: &str,
    inline: Option<String>,
    rest: &mut impl Iterator<Item = String>,
) -> Result<String, String> {
    inline
        .or_else(|| rest.next())
        .ok_or_else(|| format!("{name} needs a value"))
}

/// `2`, `0.5`, `1.25`: seconds with up to three decimals.
fn parse_seconds(text: &str) -> Option<Duration> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || int.len() > 6 || frac.len() > 3 || !digits(int) || !digits(frac) {
        return None;
    }
    let millis = format!("{frac:0<3}").parse::<u64>().ok()?;
    Some(Duration::from_secs(int.parse().ok()?) + Duration::from_millis(millis))
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut args = args.into_iter().peekable();
    let status = args.peek().is_some_and(|a| a == "status");
    if status {
        args.next();
    }
    let mut o = Options::default();
    let mut help = false;
    let mut version = false;
    while let Some(arg) = args.next() {
        // `--name=value` as well as `--name value`
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let flag = |inline: &Option<String>| match inline {
            Some(_) => Err(format!("{name} takes no value")),
            None => Ok(()),
        };
        match name.as_str() {
            "-h" | "--help" => {
                flag(&inline)?;
                help = true;
            }
            "-V" | "--version" => {
                flag(&inline)?;
                version = true;
            }
            "-v" | "--verbose" => {
                flag(&inline)?;
                o.verbose = true;
            }
            "-i" | "--interface" => o.ifname = value(&name, inline, &mut args)?,
            "--group" => o.group = Some(value(&name, inline, &mut args)?),
            "-p" | "--pid-file" => o.pid_file = Some(value(&name, inline, &mut args)?.into()),
            "--config" => o.config = value(&name, inline, &mut args)?.into(),
            "--system-config" => o.system_config = value(&name, inline, &mut args)?.into(),
            "--ntp-server" => o.ntp_servers.push(value(&name, inline, &mut args)?),
            "--ntp-timeout" => {
                let v = value(&name, inline, &mut args)?;
                o.ntp_timeout = parse_seconds(&v)
                    .filter(|d| !d.is_zero() && *d <= Duration::from_secs(600))
                    .ok_or_else(|| format!("--ntp-timeout: expected seconds, got {v:?}"))?;
            }
            "--set-time-command" => {
                let v = value(&name, inline, &mut args)?;
                if v.trim().is_empty() {
                    return Err("--set-time-command needs a command".into());
                }
                o.set_time = SetTime::Command(v);
            }
            "--no-set-time" => {
                flag(&inline)?;
                o.set_time = SetTime::Off;
            }
            "--status-socket" => o.status_socket = Some(value(&name, inline, &mut args)?.into()),
            "--ubus-socket" => o.ubus_socket = Some(value(&name, inline, &mut args)?.into()),
            "--parallel" => {
                let v = value(&name, inline, &mut args)?;
                o.parallel = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=64).contains(n))
                    .ok_or_else(|| format!("--parallel: expected 1 to 64, got {v:?}"))?;
            }
            other => return Err(format!("unknown option {other:?} (see --help)")),
        }
    }
    if o.ifname.is_empty() || o.ifname.len() > 15 || o.ifname.contains(['/', '\0', ' ']) {
        return Err(format!("invalid interface name {:?}", o.ifname));
    }
    Ok(if help {
        Command::Help
    } else if version {
        Command::Version
    } else if status {
        Command::Status(o.status_socket())
    } else {
        Command::Run(o)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn the_originals_command_line() {
        // as Gluon's netifd proto starts it
        let Command::Run(o) = p(&["-i", "wg_mesh", "--group", "gluon-mesh-vpn"]).unwrap() else {
            panic!()
        };
        assert_eq!(o.ifname, "wg_mesh");
        assert_eq!(o.group.as_deref(), Some("gluon-mesh-vpn"));
        assert!(!o.verbose);
        assert_eq!(
            o.status_socket(),
            PathBuf::from("/var/run/wgpeerselector.wg_mesh.sock")
        );
        let Command::Run(o) = p(&["--interface", "vpn", "-v", "-p", "/run/x.pid"]).unwrap() else {
            panic!()
        };
        assert_eq!((o.ifname.as_str(), o.verbose), ("vpn", true));
        assert_eq!(o.pid_file, Some("/run/x.pid".into()));
        let Command::Run(o) = p(&["--pid-file=/run/y.pid", "--verbose"]).unwrap() else {
            panic!()
        };
        assert_eq!(o.pid_file, Some("/run/y.pid".into()));
        let Command::Run(o) = p(&[]).unwrap() else {
            panic!()
        };
        assert_eq!(o, Options::default());
        assert_eq!(o.ifname, "wg0");
        assert_eq!(p(&["-h"]), Ok(Command::Help));
        assert_eq!(p(&["-i", "x", "--help"]), Ok(Command::Help));
    }

    #[test]
    fn our_options() {
        let Command::Run(o) = p(&[
            "--config",
            "/tmp/c",
            "--system-config=/tmp/s",
            "--ntp-server",
            "198.18.0.1",
            "--ntp-server",
            "ntp.example.org",
            "--ntp-timeout",
            "0.5",
            "--set-time-command",
            "date -s",
            "--status-socket",
            "/tmp/s.sock",
            "--ubus-socket=/tmp/ubus.sock",
            "--parallel",
            "1",
        ])
        .unwrap() else {
            panic!()
        };
        assert_eq!(o.config, PathBuf::from("/tmp/c"));
        assert_eq!(o.system_config, PathBuf::from("/tmp/s"));
        assert_eq!(o.ntp_servers, ["198.18.0.1", "ntp.example.org"]);
        assert_eq!(o.ntp_timeout, Duration::from_millis(500));
        assert_eq!(o.set_time, SetTime::Command("date -s".into()));
        assert_eq!(o.status_socket(), PathBuf::from("/tmp/s.sock"));
        assert_eq!(o.ubus_socket, Some(PathBuf::from("/tmp/ubus.sock")));
        assert_eq!(o.parallel, 1);
        let Command::Run(o) = p(&["--no-set-time"]).unwrap() else {
            panic!()
        };
        assert_eq!(o.set_time, SetTime::Off);
    }

    #[test]
    fn status_subcommand() {
        assert_eq!(
            p(&["status", "-i", "wg_mesh"]),
            Ok(Command::Status(
                "/var/run/wgpeerselector.wg_mesh.sock".into()
            ))
        );
        assert_eq!(
            p(&["status", "--status-socket", "/tmp/x"]),
            Ok(Command::Status("/tmp/x".into()))
        );
    }

    #[test]
    fn mistakes() {
        for bad in [
            &["-i"][..],
            &["--frobnicate"],
            &["--parallel", "0"],
            &["--ntp-timeout", "-1"],
            &["--ntp-timeout", "0"],
            &["--ntp-timeout", "1.2345"],
            &["--ntp-timeout", ".5"],
            &["--verbose=yes"],
            &["-i", "much-too-long-name"],
            &["--set-time-command", " "],
        ] {
            assert!(p(bad).is_err(), "{bad:?}");
        }
    }
}
