//! The command line and config.json of the original (Python, argparse):
//! `-w IFACE… -x IFACE…` in pairs, or `-c CONFIGPATH` with
//! `{"interfaces": {"wireguard": [...], "vxlan": [...]}}`; and the glue's
//! own `--interval` and `--stale-after`.
//!
//! Differences from argparse: long options are not abbreviated, and a
//! repeated `-w`/`-x` adds interfaces (argparse kept the last list only).

use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

pub const USAGE: &str = "\
Usage: wireguard-vxlan-glue -w IFACE [IFACE ...] -x IFACE [IFACE ...] [OPTIONS]
       wireguard-vxlan-glue -c CONFIGPATH [OPTIONS]

For every peer of each WireGuard interface with a handshake in the last
3 minutes, keeps a VXLAN FDB entry 00:00:00:00:00:00 dst <node link-local>
on the paired VXLAN interface and a route <link-local>/128 dev <wg> proto
129; removes them when the peer goes stale, and all of them on SIGTERM or
SIGINT.

  -w, --wireguard IFACE ...  WireGuard interfaces
  -x, --vxlan IFACE ...      VXLAN interfaces, one per WireGuard interface,
                             in the same order
  -c, --cfg CONFIGPATH       read the interfaces from a JSON file instead:
                             {\"interfaces\": {\"wireguard\": [..], \"vxlan\": [..]}}
      --interval SECONDS     how often to read the handshakes (default 1)
      --stale-after SECONDS  how long after its latest handshake a peer
                             counts as gone (default 180)
      --no-proto-name        do not write /etc/iproute2/rt_protos.d/
                             wireguard-vxlan-glue.conf (names proto 129)
  -h, --help                 print this help
  -V, --version              print the version
";

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// (WireGuard interface, VXLAN interface)
    pub pairs: Vec<(String, String)>,
    pub interval: Duration,
    pub stale_after: Duration,
    pub write_proto_name: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Run(Options),
    Help,
    Version,
}

/// A command line that cannot run: the message, and the exit code (2 for
/// what argparse rejects, 1 for the original's own checks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CliError {
    pub message: String,
    pub code: u8,
}

fn usage_error(message: impl Into<String>) -> CliError {
    CliError {
        message: message.into(),
        code: 2,
    }
}

fn check_error(message: impl Into<String>) -> CliError {
    CliError {
        message: message.into(),
        code: 1,
    }
}

/// Seconds as a decimal number: `1`, `0.5`, `180`, `2.125`.
pub fn parse_seconds(text: &str) -> Option<Duration> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 9
    {
        return None;
    }
    let secs: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut nanos = 0u32;
    for (i, d) in frac.bytes().enumerate() {
        nanos += u32::from(d - b'0') * 10u32.pow(8 - i as u32);
    }
    Some(Duration::new(secs, nanos))
}

/// Seconds as [`parse_seconds`] reads them: `1`, `0.5`, `180`.
pub fn format_seconds(d: Duration) -> String {
    let mut s = d.as_secs().to_string();
    if d.subsec_nanos() != 0 {
        let frac = format!("{:09}", d.subsec_nanos());
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s
}

#[derive(Deserialize)]
struct ConfigFile {
    interfaces: ConfigInterfaces,
}

#[derive(Deserialize)]
struct ConfigInterfaces {
    wireguard: Vec<String>,
    vxlan: Vec<String>,
}

/// The interfaces of a config.json: (WireGuard, VXLAN) lists.
pub fn read_config(path: &Path) -> Result<(Vec<String>, Vec<String>), CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| check_error(format!("{}: {e}", path.display())))?;
    parse_config(&text).map_err(|e| check_error(format!("{}: {e}", path.display())))
}

/// The interfaces of a config.json's text.
pub fn parse_config(text: &str) -> Result<(Vec<String>, Vec<String>), String> {
    let c: ConfigFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok((c.interfaces.wireguard, c.interfaces.vxlan))
}

/// Parses the arguments (without the program name).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, CliError> {
    let args: Vec<String> = args.into_iter().collect();
    let mut wireguard = Vec::new();
    let mut vxlan = Vec::new();
    let mut cfg: Option<String> = None;
    let mut interval = Duration::from_secs(1);
    let mut stale_after = Duration::from_secs(180);
    let mut write_proto_name = true;

    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        // `--opt=value` and `-oVALUE` carry their value
        let (name, inline): (&str, Option<&str>) = if let Some(long) = arg.strip_prefix("--") {
            match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            }
        } else if arg.starts_with('-') && arg.len() > 2 && !arg[1..].starts_with('-') {
            (&arg[1..2], Some(&arg[2..]))
        } else if let Some(short) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            (short, None)
        } else {
            return Err(usage_error(format!("unrecognized argument: {arg}")));
        };
        let takes_list = matches!(name, "w" | "wireguard" | "x" | "vxlan");
        let takes_value = matches!(name, "c" | "cfg" | "interval" | "stale-after");
        let mut values = Vec::new();
        if let Some(v) = inline {
            if !(takes_list || takes_value) {
                return Err(usage_error(format!("unrecognized argument: {arg}")));
            }
            values.push(v.to_string());
        }
        if takes_list {
            while i < args.len() && !(args[i].starts_with('-') && args[i].len() > 1) {
                values.push(args[i].clone());
                i += 1;
            }
        } else if takes_value && values.is_empty() && i < args.len() {
            values.push(args[i].clone());
            i += 1;
        }
        if (takes_list || takes_value) && values.is_empty() {
            return Err(usage_error(format!("argument {arg}: expected a value")));
        }
        match name {
            "w" | "wireguard" => wireguard.extend(values),
            "x" | "vxlan" => vxlan.extend(values),
            "c" | "cfg" => cfg = values.pop(),
            "interval" | "stale-after" => {
                let d = parse_seconds(&values[0])
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| {
                        usage_error(format!(
                            "argument --{name}: expected seconds greater than 0, like 1 or 0.5, got {:?}",
                            values[0]
                        ))
                    })?;
                if name == "interval" {
                    interval = d;
                } else {
                    stale_after = d;
                }
            }
            "no-proto-name" => write_proto_name = false,
            "h" | "help" => return Ok(Command::Help),
            "V" | "version" => return Ok(Command::Version),
            _ => return Err(usage_error(format!("unrecognized argument: {arg}"))),
        }
    }

    if let Some(path) = cfg {
        if !wireguard.is_empty() || !vxlan.is_empty() {
            return Err(check_error(
                "Please use either cfg- or 'wireguard and vxlan'-parameters, not both.",
            ));
        }
        (wireguard, vxlan) = read_config(Path::new(&path))?;
    }
    if wireguard.len() != vxlan.len() {
        return Err(check_error(
            "Please specify equal amount of vxlan and wireguard interfaces.",
        ));
    }
    if wireguard.is_empty() {
        return Err(check_error(
            "Please specify at least one vxlan and one wireguard interface.",
        ));
    }
    Ok(Command::Run(Options {
        pairs: wireguard.into_iter().zip(vxlan).collect(),
        interval,
        stale_after,
        write_proto_name,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &str) -> Result<Command, CliError> {
        parse(args.split_whitespace().map(str::to_string))
    }

    fn pairs(args: &str) -> Vec<(String, String)> {
        match run(args).unwrap() {
            Command::Run(o) => o.pairs,
            other => panic!("{other:?}"),
        }
    }

    fn p(w: &str, x: &str) -> (String, String) {
        (w.to_string(), x.to_string())
    }

    #[test]
    fn the_original_command_lines() {
        assert_eq!(pairs("-w wg0 -x vx0"), vec![p("wg0", "vx0")]);
        assert_eq!(
            pairs("-w wg0 wg1 -x vx0 vx1"),
            vec![p("wg0", "vx0"), p("wg1", "vx1")]
        );
        assert_eq!(
            pairs("--vxlan vx0 vx1 --wireguard wg0 wg1"),
            vec![p("wg0", "vx0"), p("wg1", "vx1")]
        );
        assert_eq!(pairs("-wwg0 --vxlan=vx0"), vec![p("wg0", "vx0")]);
        // repeated options add up
        assert_eq!(
            pairs("-w wg0 -x vx0 -w wg1 -x vx1"),
            vec![p("wg0", "vx0"), p("wg1", "vx1")]
        );
        match run("-w wg0 -x vx0").unwrap() {
            Command::Run(o) => {
                assert_eq!(o.interval, Duration::from_secs(1));
                assert_eq!(o.stale_after, Duration::from_secs(180));
                assert!(o.write_proto_name);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_glue_s_own_options() {
        match run("-w wg0 -x vx0 --interval 0.25 --stale-after=5 --no-proto-name").unwrap() {
            Command::Run(o) => {
                assert_eq!(o.interval, Duration::from_millis(250));
                assert_eq!(o.stale_after, Duration::from_secs(5));
                assert!(!o.write_proto_name);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(run("-h").unwrap(), Command::Help);
        assert_eq!(run("-w wg0 --help").unwrap(), Command::Help);
        assert_eq!(run("--version").unwrap(), Command::Version);
    }

    #[test]
    fn the_original_s_checks_exit_1() {
        for (args, msg) in [
            ("-w wg0 -x vx0 vx1", "equal amount"),
            ("", "at least one"),
            ("-c x.json -w wg0", "not both"),
        ] {
            let e = run(args).unwrap_err();
            assert_eq!(e.code, 1, "{args}");
            assert!(e.message.contains(msg), "{args}: {}", e.message);
        }
    }

    #[test]
    fn bad_arguments_exit_2() {
        for args in [
            "-w",
            "-w wg0 -x",
            "-w wg0 -x vx0 --interval",
            "-w wg0 -x vx0 --interval 0",
            "-w wg0 -x vx0 --interval -1",
            "-w wg0 -x vx0 --stale-after 3m",
            "-w wg0 -x vx0 --bogus",
            "-w wg0 -x vx0 -q",
            "-w wg0 -x vx0 --no-proto-name=1",
            "stray",
        ] {
            assert_eq!(run(args).unwrap_err().code, 2, "{args}");
        }
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("1"), Some(Duration::from_secs(1)));
        assert_eq!(parse_seconds("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_seconds(".5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_seconds("2."), Some(Duration::from_secs(2)));
        assert_eq!(parse_seconds("0.000000001"), Some(Duration::from_nanos(1)));
        for bad in ["", ".", "1e3", "-1", "1.0000000001", "1,5", " 1"] {
            assert_eq!(parse_seconds(bad), None, "{bad}");
        }
        for text in ["1", "0.5", "180", "2.125", "0.000000001"] {
            assert_eq!(format_seconds(parse_seconds(text).unwrap()), text);
        }
    }

    #[test]
    fn the_example_config_of_the_original() {
        // netlink_cfg.json.example of freifunkh/wireguard-vxlan-glue, shortened
        let text = r#"{"interfaces":
  {"wireguard": [
    "wgtest-10",
    "wgtest-99"]
  ,
  "vxlan": [
    "mesh-vpn-10",
    "mesh-vpn-99"]
  }
}
"#;
        let (w, x) = parse_config(text).unwrap();
        assert_eq!(w, vec!["wgtest-10", "wgtest-99"]);
        assert_eq!(x, vec!["mesh-vpn-10", "mesh-vpn-99"]);
        // other keys are ignored, as the original ignores them
        let (w, _) = parse_config(
            r#"{"comment": 1, "interfaces": {"wireguard": ["a"], "vxlan": ["b"], "x": null}}"#,
        )
        .unwrap();
        assert_eq!(w, vec!["a"]);
        assert!(parse_config(r#"{"interfaces": {"wireguard": ["a"]}}"#).is_err());
        assert!(parse_config("{").is_err());
    }

    #[test]
    fn a_config_file_replaces_the_lists() {
        let dir = std::env::temp_dir().join(format!("wvg-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        std::fs::write(
            &path,
            r#"{"interfaces": {"wireguard": ["wg0", "wg1"], "vxlan": ["vx0", "vx1"]}}"#,
        )
        .unwrap();
        let got = pairs(&format!("-c {} --interval 2", path.display()));
        assert_eq!(got, vec![p("wg0", "vx0"), p("wg1", "vx1")]);
        let e = run(&format!("--cfg {}", dir.join("missing.json").display())).unwrap_err();
        assert_eq!(e.code, 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
