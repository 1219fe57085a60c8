//! The gateway inventory: what a site does not say about its gateways (key
//! files, addresses, interface names, how interfaces are set up), as TOML.
//! The book's inventory page documents every key; `site-examples/
//! inventory.toml` is a sample.
//!
//! Every setting can be given for the gateway (`[gateways.NAME]`) and
//! overridden per domain (`[gateways.NAME.domains.CODE]`); a single-domain
//! site's one domain is called `default` there.
//!
//! An inventory is checked in one place, when it is read
//! ([`Inventory::parse`]): an unknown key is an error naming the nearest
//! known one, and every value must be what the files it goes into accept
//! ([`rules`]: interface names, paths, instance names, log levels, bind
//! addresses, ports); the error names the table, the key, the value
//! (escaped) and what was expected. Domain tables are checked against the
//! site when a gateway is rendered ([`Settings::for_site`]). The rendered
//! files escape every value once more for their own syntax
//! ([`crate::templates::escape`]).

use crate::input::{self, caps, Within};
use crate::site::load::Site;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    #[serde(default)]
    pub gateways: BTreeMap<String, Gateway>,
}

/// How interfaces that come and go are attached to batman-adv.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Interfaces {
    /// fastd `on up`/`on down` hooks and shell scripts.
    #[default]
    Hooks,
    /// systemd-networkd `.netdev`/`.network` units.
    SystemdNetworkd,
}

/// Which nodes fastd accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Peers {
    /// Every node (`on verify "true";`).
    #[default]
    Any,
    /// Only nodes with a file in a peer directory.
    Directory,
}

/// Settings of a gateway, or of one of its domains (then each overrides
/// the gateway's).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// A fastd config file holding `secret "…";` (included, never read into
    /// the rendered files).
    pub fastd_secret: Option<String>,
    /// A file with the WireGuard private key (base64, as `wg genkey`
    /// writes it).
    pub wireguard_private_key: Option<String>,
    /// Addresses fastd binds to (`any`, an IPv4 address, `[IPv6]`); the
    /// port comes from the site. The first IPv4 address is the tunneldigger
    /// broker's.
    pub bind: Option<Vec<String>>,
    pub interfaces: Option<Interfaces>,
    /// fastd's L2TP offload (multitap, one interface per node).
    pub offload: Option<bool>,
    pub peers: Option<Peers>,
    /// The peer directory for `peers = "directory"`.
    pub peers_dir: Option<String>,
    /// Where the rendered tree is installed on the gateway (scripts are
    /// referenced by absolute paths below it).
    pub config_dir: Option<String>,
    /// fastd's log level (`log level …;`).
    pub log_level: Option<String>,
    /// The name of the fastd/tunneldigger instance (default: the site code,
    /// or the domain code in multidomain sites).
    pub instance: Option<String>,
    pub fastd_port: Option<u16>,
    pub wireguard_port: Option<u16>,
    pub tunneldigger_port: Option<u16>,
    /// fastd's interface without offload.
    pub fastd_interface: Option<String>,
    /// fastd's interface pattern with offload (`%k`: the node's key).
    pub peer_interface: Option<String>,
    /// The batman-adv interface the VPN interfaces join.
    pub batman: Option<String>,
    /// A bridge for the batman-adv interface (systemd-networkd only).
    pub bridge: Option<String>,
    pub wireguard_interface: Option<String>,
    pub vxlan_interface: Option<String>,
    /// The uplink interface the tunneldigger broker listens on.
    pub uplink: Option<String>,
    /// Per-domain settings (only at the gateway level).
    #[serde(default)]
    pub domains: BTreeMap<String, Settings>,
}

/// A gateway's entry: its settings and per-domain overrides.
pub type Gateway = Settings;

/// Every key of a gateway's table (`[gateways.NAME]`); a domain's table
/// (`[gateways.NAME.domains.CODE]`) has the same but `domains`. The book's
/// inventory page documents each.
pub const KEYS: &[&str] = &[
    "fastd_secret",
    "wireguard_private_key",
    "bind",
    "interfaces",
    "offload",
    "peers",
    "peers_dir",
    "config_dir",
    "log_level",
    "instance",
    "fastd_port",
    "wireguard_port",
    "tunneldigger_port",
    "fastd_interface",
    "peer_interface",
    "batman",
    "bridge",
    "wireguard_interface",
    "vxlan_interface",
    "uplink",
    "domains",
];

/// What each inventory value must be: the rules [`Inventory::parse`]
/// applies to every value, and `render gateway` to the names it derives
/// from the site (an instance named after the site code, `bat-<domain>`).
/// Each returns what was expected, for the message.
pub mod rules {
    /// fastd's log levels (`log_level` in fastd's `config.y`).
    pub const LOG_LEVELS: &[&str] = &[
        "fatal", "error", "warn", "info", "verbose", "debug", "debug2",
    ];

    /// The kernel's limit for interface names, without the NUL (IFNAMSIZ
    /// is 16).
    pub const IFNAME_MAX: usize = 15;

    const IFNAME_RULE: &str = "expected an interface name: 1 to 15 letters, digits, `-`, `_` and `.`, not starting with `-` or `.`, not only digits, not `all` or `default`";

    fn ifname_chars(name: &str) -> bool {
        name.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    }

    /// An interface name as Linux and systemd-networkd take it, in a set
    /// that is also safe in a shell word and a unit file: the kernel
    /// (`dev_valid_name`) refuses more than 15 bytes, `/`, `:`, white space,
    /// `.` and `..`; systemd (`ifname_valid_full`) also control and
    /// non-ASCII characters, `%`, names of digits only, `all` and
    /// `default`. gluonvpn allows letters, digits, `-`, `_`, `.`, and no
    /// `-` (an option to `ip` and `wg`) or `.` in front.
    pub fn interface_name(name: &str) -> Result<(), String> {
        let ok = !name.is_empty()
            && name.len() <= IFNAME_MAX
            && ifname_chars(name)
            && !name.starts_with(['-', '.'])
            && !name.bytes().all(|b| b.is_ascii_digit())
            && name != "all"
            && name != "default";
        if ok {
            Ok(())
        } else {
            Err(IFNAME_RULE.into())
        }
    }

    /// fastd's interface pattern for per-node interfaces (`interface
    /// "peer-%k";` with `mode multitap`): fastd (`fastd_config_ifname`)
    /// takes one `%`, followed by `k` (the node's key) or `n` (its name),
    /// and cuts what it makes to 15 bytes; the rest follows
    /// [`interface_name`], and is at most 14 bytes so that the node's part
    /// is not cut away entirely.
    pub fn interface_pattern(pattern: &str) -> Result<(), String> {
        const RULE: &str = "expected an interface pattern: one `%k` (the node's key) or `%n` (its name) and at most 14 other letters, digits, `-`, `_` and `.`, not starting with `-` or `.`";
        let Some((before, after)) = pattern.split_once('%') else {
            return Err(RULE.into());
        };
        let Some(after) = after.strip_prefix('k').or_else(|| after.strip_prefix('n')) else {
            return Err(RULE.into());
        };
        let fixed = format!("{before}{after}");
        if fixed.len() > IFNAME_MAX - 1 || !ifname_chars(&fixed) || pattern.starts_with(['-', '.'])
        {
            return Err(RULE.into());
        }
        Ok(())
    }

    /// The characters of a path: POSIX's portable file name characters
    /// (letters, digits, `.`, `_`, `-`), `/`, and `+`, `@`, `:`, `,`,
    /// which none of the files a path goes into (fastd strings, shell
    /// words, systemd units, broker.cfg) gives a meaning.
    pub fn path_char(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b"/._-+@:,".contains(&b)
    }

    /// A path on the gateway: absolute, at most 4,000 bytes, of
    /// [`path_char`]s only (so no white space, no quotes, no `$`, `;` or
    /// backquote a shell would act on, no `%` that systemd or
    /// configparser would expand, no control character that would end a
    /// line), and without `..` components (a path that climbs is not what
    /// it looks like).
    pub fn path(path: &str) -> Result<(), String> {
        let ok = path.starts_with('/')
            && path.len() <= 4000
            && path.bytes().all(path_char)
            && !path.split('/').any(|c| c == "..");
        if ok {
            Ok(())
        } else {
            Err("expected an absolute path of letters, digits and `/._-+@:,`, without `..` components".into())
        }
    }

    /// An instance name: it names directories of the rendered tree
    /// (`fastd/<instance>/`), files (`50-<instance>-fastd.network`), fastd's
    /// status socket and the broker's namespace. 1 to 64 letters, digits,
    /// `-`, `_`, `.`, starting with a letter, digit or `_` (so never `.`,
    /// `..` or a hidden file, nor an option).
    pub fn instance(name: &str) -> Result<(), String> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && ifname_chars(name)
            && !name.starts_with(['-', '.']);
        if ok {
            Ok(())
        } else {
            Err("expected an instance name: 1 to 64 letters, digits, `-`, `_` and `.`, not starting with `-` or `.`".into())
        }
    }

    pub fn log_level(level: &str) -> Result<(), String> {
        if LOG_LEVELS.contains(&level) {
            Ok(())
        } else {
            Err(format!(
                "expected one of fastd's log levels: {}",
                LOG_LEVELS.join(", ")
            ))
        }
    }

    /// A fastd bind address without the port: `any`, an IPv4 address, an
    /// IPv6 address in brackets.
    pub fn bind_address(address: &str) -> Result<(), String> {
        let ok = address == "any"
            || address.parse::<std::net::Ipv4Addr>().is_ok()
            || address
                .strip_prefix('[')
                .and_then(|a| a.strip_suffix(']'))
                .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok());
        if ok {
            Ok(())
        } else {
            Err("expected `any`, an IPv4 address or an IPv6 address in brackets".into())
        }
    }

    pub fn bind(addresses: &[String]) -> Result<(), String> {
        if addresses.is_empty() {
            return Err(
                "expected at least one address: fastd needs one to bind to (`any` binds to all)"
                    .into(),
            );
        }
        for (i, address) in addresses.iter().enumerate() {
            bind_address(address).map_err(|e| format!("{}: {e}", super::shown(address)))?;
            if addresses[..i].contains(address) {
                return Err(format!("{} is listed twice", super::shown(address)));
            }
        }
        Ok(())
    }

    pub fn port(port: u16) -> Result<(), String> {
        if port == 0 {
            Err("expected a port from 1 to 65535".into())
        } else {
            Ok(())
        }
    }
}

/// A value as shown in a message: quoted, control characters escaped, cut
/// at 200 characters.
pub fn shown(value: &str) -> String {
    crate::templates::escape::shown(value)
}

/// A table name as shown in `gateways.NAME`: as it is when it is a bare
/// TOML key, else quoted and escaped.
fn key_shown(name: &str) -> String {
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        name.to_string()
    } else {
        shown(name)
    }
}

/// The edit distance of two words, by characters: insertions, deletions,
/// substitutions and swaps of two neighbours (`nrod` for `nord`) count one
/// each (the optimal string alignment distance).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: the distance of a[..i] and b[..j]
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The candidate nearest to `word`, if it is near enough to be a typo of
/// it (at most a third of its characters off, at least one).
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// Unknown keys, named with where they are and the nearest known one.
fn check_keys(table: &toml::Table) -> Result<(), String> {
    if let Some(key) = table.keys().find(|k| *k != "gateways") {
        let hint = match nearest(key, ["gateways"]) {
            Some(near) => format!("did you mean `{near}`?"),
            None => "the inventory has only [gateways.NAME] tables".into(),
        };
        return Err(format!(
            "unknown key `{}` at the top level ({hint})",
            key_shown(key)
        ));
    }
    let Some(toml::Value::Table(gateways)) = table.get("gateways") else {
        return Ok(());
    };
    for (name, gateway) in gateways {
        let toml::Value::Table(gateway) = gateway else {
            continue;
        };
        let at = format!("gateways.{}", key_shown(name));
        check_table_keys(gateway, &at, KEYS)?;
        let Some(toml::Value::Table(domains)) = gateway.get("domains") else {
            continue;
        };
        for (domain, settings) in domains {
            let toml::Value::Table(settings) = settings else {
                continue;
            };
            let at = format!("{at}.domains.{}", key_shown(domain));
            if settings.contains_key("domains") {
                return Err(format!("{at}: domains cannot be nested"));
            }
            check_table_keys(settings, &at, &KEYS[..KEYS.len() - 1])?;
        }
    }
    Ok(())
}

fn check_table_keys(table: &toml::Table, at: &str, known: &[&str]) -> Result<(), String> {
    for (key, value) in table {
        if known.contains(&key.as_str()) {
            continue;
        }
        let hint = match nearest(key, known.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None if value.is_table() && known.contains(&"domains") => format!(
                "a domain's settings go into [{at}.domains.{}]",
                key_shown(key)
            ),
            None => format!("known keys: {}", known.join(", ")),
        };
        return Err(format!("{at}: unknown key `{}` ({hint})", key_shown(key)));
    }
    Ok(())
}

impl Settings {
    /// Every value against its rule (see [`rules`]); `at` is the table's
    /// name for messages.
    fn validate(&self, at: &str) -> Result<(), String> {
        let fail = |key: &str, value: String, expected: String| {
            format!("{at}: {key} = {value}: {expected}")
        };
        type Rule = fn(&str) -> Result<(), String>;
        let checks: [(&str, &Option<String>, Rule); 13] = [
            ("fastd_secret", &self.fastd_secret, rules::path),
            (
                "wireguard_private_key",
                &self.wireguard_private_key,
                rules::path,
            ),
            ("peers_dir", &self.peers_dir, rules::path),
            ("config_dir", &self.config_dir, rules::path),
            ("log_level", &self.log_level, rules::log_level),
            ("instance", &self.instance, rules::instance),
            (
                "fastd_interface",
                &self.fastd_interface,
                rules::interface_name,
            ),
            (
                "peer_interface",
                &self.peer_interface,
                rules::interface_pattern,
            ),
            ("batman", &self.batman, rules::interface_name),
            ("bridge", &self.bridge, rules::interface_name),
            (
                "wireguard_interface",
                &self.wireguard_interface,
                rules::interface_name,
            ),
            (
                "vxlan_interface",
                &self.vxlan_interface,
                rules::interface_name,
            ),
            ("uplink", &self.uplink, rules::interface_name),
        ];
        for (key, value, rule) in checks {
            if let Some(value) = value {
                rule(value).map_err(|e| fail(key, shown(value), e))?;
            }
        }
        for (key, value) in [
            ("fastd_port", self.fastd_port),
            ("wireguard_port", self.wireguard_port),
            ("tunneldigger_port", self.tunneldigger_port),
        ] {
            if let Some(port) = value {
                rules::port(port).map_err(|e| fail(key, port.to_string(), e))?;
            }
        }
        if let Some(bind) = &self.bind {
            rules::bind(bind).map_err(|e| {
                let list: Vec<String> = bind.iter().take(8).map(|b| shown(b)).collect();
                let more = if bind.len() > 8 { ", …" } else { "" };
                fail("bind", format!("[{}{more}]", list.join(", ")), e)
            })?;
        }
        Ok(())
    }

    /// The gateway's settings for a site: each `[gateways.NAME.domains.X]`
    /// must name a domain of the site, by its code or a name of its
    /// `domain_names` (an alias is filed under the code); in a site without
    /// domains, the one domain is `default`. An unknown name is an error
    /// naming the nearest domain code.
    pub fn for_site(&self, name: &str, site: &Site) -> Result<Settings, String> {
        let mut settings = self.clone();
        settings.domains.clear();
        let codes: Vec<&str> = if site.multidomain {
            site.domains.iter().map(|d| d.code.as_str()).collect()
        } else {
            vec!["default"]
        };
        for (given, domain) in &self.domains {
            let code = if site.multidomain {
                site.domain_code(given)
            } else {
                (given == "default").then_some("default")
            };
            let at = format!("gateways.{}.domains.{}", key_shown(name), key_shown(given));
            let Some(code) = code else {
                let names = codes
                    .iter()
                    .copied()
                    .chain(site.domain_names.keys().map(String::as_str));
                let hint = match nearest(given, names) {
                    Some(near) => {
                        let code = site.domain_code(near).unwrap_or(near);
                        format!("did you mean `{code}`?")
                    }
                    None if site.multidomain => format!("its domains are: {}", codes.join(", ")),
                    None => "a site without domains has one, `default`".to_string(),
                };
                return Err(format!(
                    "{at}: the site has no domain {} ({hint})",
                    shown(given)
                ));
            };
            if settings
                .domains
                .insert(code.to_string(), domain.clone())
                .is_some()
            {
                return Err(format!(
                    "{at}: domain {code} has settings under two of its names; keep one table"
                ));
            }
        }
        Ok(settings)
    }
}

impl Inventory {
    /// Reads an inventory: unknown keys are errors naming the nearest known
    /// key, and every value is checked against its rule ([`rules`]), so
    /// that nothing unchecked reaches a rendered file.
    pub fn parse(text: &str) -> Result<Inventory, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        check_keys(&table)?;
        let inventory: Inventory = toml::from_str(text).map_err(|e| e.to_string())?;
        for (name, gateway) in &inventory.gateways {
            let at = format!("gateways.{}", key_shown(name));
            gateway.validate(&at)?;
            for (domain, settings) in &gateway.domains {
                settings.validate(&format!("{at}.domains.{}", key_shown(domain)))?;
            }
        }
        Ok(inventory)
    }

    pub fn load(path: &Path) -> anyhow::Result<Inventory> {
        let text = input::read_text(path, Within::Anywhere, caps::INVENTORY)
            .map_err(|e| anyhow::anyhow!("{} {e}", path.display()))?;
        Inventory::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

/// A gateway's settings for one domain, with the defaults applied.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub fastd_secret: Option<String>,
    pub wireguard_private_key: Option<String>,
    pub bind: Vec<String>,
    pub interfaces: Interfaces,
    pub offload: bool,
    pub peers: Peers,
    pub peers_dir: Option<String>,
    pub config_dir: String,
    pub log_level: String,
    pub instance: Option<String>,
    pub fastd_port: Option<u16>,
    pub wireguard_port: Option<u16>,
    pub tunneldigger_port: Option<u16>,
    pub fastd_interface: Option<String>,
    pub peer_interface: Option<String>,
    pub batman: Option<String>,
    pub bridge: Option<String>,
    pub wireguard_interface: Option<String>,
    pub vxlan_interface: Option<String>,
    pub uplink: String,
}

impl Settings {
    /// The settings for a domain (`default` in single-domain sites).
    pub fn resolve(&self, domain: &str) -> Resolved {
        let d = self.domains.get(domain).cloned().unwrap_or_default();
        let g = self;
        macro_rules! pick {
            ($f:ident) => {
                d.$f.clone().or_else(|| g.$f.clone())
            };
        }
        Resolved {
            fastd_secret: pick!(fastd_secret),
            wireguard_private_key: pick!(wireguard_private_key),
            bind: pick!(bind).unwrap_or_else(|| vec!["any".into()]),
            interfaces: pick!(interfaces).unwrap_or_default(),
            offload: pick!(offload).unwrap_or(false),
            peers: pick!(peers).unwrap_or_default(),
            peers_dir: pick!(peers_dir),
            config_dir: pick!(config_dir).unwrap_or_else(|| "/etc/gluonvpn".into()),
            log_level: pick!(log_level).unwrap_or_else(|| "info".into()),
            instance: pick!(instance),
            fastd_port: pick!(fastd_port),
            wireguard_port: pick!(wireguard_port),
            tunneldigger_port: pick!(tunneldigger_port),
            fastd_interface: pick!(fastd_interface),
            peer_interface: pick!(peer_interface),
            batman: pick!(batman),
            bridge: pick!(bridge),
            wireguard_interface: pick!(wireguard_interface),
            vxlan_interface: pick!(vxlan_interface),
            uplink: pick!(uplink).unwrap_or_else(|| "eth0".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_settings_override_the_gateway() {
        let inv = Inventory::parse(
            r#"
[gateways.gw1]
offload = true
bind = ["0.0.0.0"]
interfaces = "systemd-networkd"
[gateways.gw1.domains.nord]
offload = false
batman = "bat-nord"
"#,
        )
        .unwrap();
        let gw = &inv.gateways["gw1"];
        let nord = gw.resolve("nord");
        assert!(!nord.offload);
        assert_eq!(nord.batman.as_deref(), Some("bat-nord"));
        assert_eq!(nord.bind, ["0.0.0.0"]);
        assert_eq!(nord.interfaces, Interfaces::SystemdNetworkd);
        assert!(gw.resolve("sued").offload);
        assert_eq!(gw.resolve("sued").peers, Peers::Any);
    }

    #[test]
    fn typos_are_errors() {
        let e = Inventory::parse("[gateways.gw1]\nofload = true\n").unwrap_err();
        assert_eq!(
            e,
            "gateways.gw1: unknown key `ofload` (did you mean `offload`?)"
        );
        let e =
            Inventory::parse("[gateways.gw1.domains.nord]\nlog-level = \"info\"\n").unwrap_err();
        assert_eq!(
            e,
            "gateways.gw1.domains.nord: unknown key `log-level` (did you mean `log_level`?)"
        );
        let e = Inventory::parse("[gatways.gw1]\n").unwrap_err();
        assert!(
            e.contains("`gatways` at the top level (did you mean `gateways`?)"),
            "{e}"
        );
        let e = Inventory::parse("[gateways.gw1.nord]\nbatman = \"bat1\"\n").unwrap_err();
        assert!(e.contains("[gateways.gw1.domains.nord]"), "{e}");
        let e = Inventory::parse("[gateways.gw1]\nzzzzzzzz = 1\n").unwrap_err();
        assert!(e.contains("known keys: fastd_secret,"), "{e}");
        let e = Inventory::parse("[gateways.gw1.domains.a.domains.b]\n").unwrap_err();
        assert!(e.contains("domains cannot be nested"), "{e}");
        assert!(Inventory::parse("[gateways.gw1]\ninterfaces = \"ifupdown\"\n").is_err());
    }

    #[test]
    fn nearest_words() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("nrod", "nord"), 1);
        assert_eq!(nearest("ofload", KEYS.iter().copied()), Some("offload"));
        assert_eq!(nearest("BATMAN", KEYS.iter().copied()), Some("batman"));
        assert_eq!(nearest("port", KEYS.iter().copied()), None);
    }

    fn value_error(key: &str, value: &str) -> String {
        Inventory::parse(&format!("[gateways.gw1]\n{key} = {value}\n"))
            .expect_err(&format!("{key} = {value} is refused"))
    }

    #[test]
    fn every_value_is_checked() {
        // valid
        for (key, value) in [
            ("batman", "\"bat-nord.1_x\""),
            ("peer_interface", "\"peer-%k\""),
            ("peer_interface", "\"%n\""),
            ("fastd_secret", "\"/etc/fastd/ffx/secret.conf\""),
            ("config_dir", "\"/\""),
            ("log_level", "\"debug2\""),
            ("instance", "\"ff_x-1.2\""),
            ("bind", "[\"any\", \"192.0.2.1\", \"[2001:db8::1]\"]"),
            ("fastd_port", "65535"),
        ] {
            let text = format!("[gateways.gw1]\n{key} = {value}\n");
            Inventory::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
        // refused, with the table, the key, the value and the rule
        let e = value_error("log_level", r#""info; on up \"id\"""#);
        assert_eq!(
            e,
            r#"gateways.gw1: log_level = "info; on up \"id\"": expected one of fastd's log levels: fatal, error, warn, info, verbose, debug, debug2"#
        );
        let e = value_error("bridge", r#""br\n[Network]\nAddress=192.0.2.1/24""#);
        assert!(
            e.starts_with(r#"gateways.gw1: bridge = "br\n[Network]\nAddress=192.0.2.1/24": expected an interface name"#),
            "{e}"
        );
        for (key, value) in [
            ("batman", "\"\""),
            ("batman", "\"bat0123456789abc\""),
            ("batman", "\"bat 0\""),
            ("batman", "\"bat/0\""),
            ("batman", "\"bat:0\""),
            ("batman", "\"bat%d\""),
            ("batman", "\"..\""),
            ("batman", "\".\""),
            ("batman", "\"-bat\""),
            ("batman", "\"12\""),
            ("batman", "\"all\""),
            ("batman", "\"default\""),
            ("batman", "\"bät0\""),
            ("uplink", "\"eth0;id\""),
            ("fastd_interface", "\"vpn-%k\""),
            ("wireguard_interface", "\"wg$(id)\""),
            ("vxlan_interface", "\"vx\\nx\""),
            ("peer_interface", "\"peer\""),
            ("peer_interface", "\"p-%k-%n\""),
            ("peer_interface", "\"p-%x\""),
            ("peer_interface", "\"abcdefghijklmno%k\""),
            ("peer_interface", "\"p %k\""),
            ("fastd_secret", "\"secret.conf\""),
            ("fastd_secret", "\"/etc/fastd/../../shadow\""),
            ("wireguard_private_key", "\"/k; touch /tmp/pwned\""),
            ("wireguard_private_key", "\"/k$(id)\""),
            ("config_dir", "\"/etc/`id`\""),
            ("config_dir", "\"/etc/%n\""),
            ("peers_dir", "\"/etc/peers\\n\""),
            ("peers_dir", "\"/etc/p\\\"; on up \\\"id\""),
            ("instance", "\"../../x\""),
            ("instance", "\"..\""),
            ("instance", "\"a/b\""),
            ("instance", "\".hidden\""),
            ("instance", "\"\""),
            ("log_level", "\"INFO\""),
            ("bind", "[]"),
            ("bind", "[\"eth0\"]"),
            ("bind", "[\"any\", \"any\"]"),
            ("bind", "[\"::\"]"),
            ("bind", "[\"0.0.0.0:10000\"]"),
            ("fastd_port", "0"),
            ("wireguard_port", "0"),
            ("tunneldigger_port", "0"),
            ("fastd_port", "65536"),
        ] {
            let e = value_error(key, value);
            assert!(e.contains(key), "{key} = {value}: {e}");
        }
        // domain tables are checked too
        let e =
            Inventory::parse("[gateways.gw1.domains.nord]\nlog_level = \"loud\"\n").unwrap_err();
        assert!(
            e.starts_with("gateways.gw1.domains.nord: log_level = \"loud\""),
            "{e}"
        );
        // odd table names are shown escaped
        let e = Inventory::parse("[gateways.\"g\\nw\"]\nbatman = \"\"\n").unwrap_err();
        assert!(e.starts_with("gateways.\"g\\nw\": batman"), "{e}");
    }
}
