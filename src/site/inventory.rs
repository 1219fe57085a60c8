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
    /// The directory of the inventory file: relative local paths
    /// (`wireguard_node_keys`) are read from there.
    #[serde(skip)]
    pub base_dir: Option<std::path::PathBuf>,
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

/// batman-adv's gateway mode on the gateway (`batctl gw_mode`,
/// systemd-networkd's `GatewayMode=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GatewayMode {
    /// Announces the gateway: Gluon nodes are gateway clients and send
    /// their clients' DHCP requests only to a gateway in server mode.
    #[default]
    Server,
    Client,
    Off,
}

impl GatewayMode {
    pub fn word(self) -> &'static str {
        match self {
            GatewayMode::Server => "server",
            GatewayMode::Client => "client",
            GatewayMode::Off => "off",
        }
    }
}

/// A fastd peer written into the gateway's config (a backbone link to
/// another gateway, a monitoring host).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticPeer {
    pub name: String,
    /// The peer's fastd public key (64 hex digits).
    pub key: String,
    /// Where to reach it, in fastd's syntax (`"host" port 10000`,
    /// `192.0.2.1:10000`, `[2001:db8::1]:10000`); none: it connects to us.
    #[serde(default)]
    pub remotes: Vec<String>,
}

/// One more fastd instance for a domain, into the same batman-adv mesh: an
/// old port, another MTU, IPv4 only, methods for old firmware.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraInstance {
    /// Appended to the instance's name (`ffhb` + `legacy` = `ffhb-legacy`).
    pub name: String,
    pub port: u16,
    /// Default: the site's fastd MTU.
    pub mtu: Option<u32>,
    /// Default: the instance's bind addresses.
    pub bind: Option<Vec<String>>,
    /// Default: the instance's methods.
    pub methods: Option<Vec<String>>,
    /// The interface (or with offload the pattern); default: `vpn-` and the
    /// instance name (see the naming scheme).
    pub interface: Option<String>,
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
    /// The methods fastd offers, replacing the default (every method a node
    /// of the site may propose).
    pub fastd_methods: Option<Vec<String>>,
    /// Methods offered after those, for old firmware (`salsa2012+gmac`).
    pub fastd_legacy_methods: Option<Vec<String>>,
    /// fastd's `peer limit`.
    pub fastd_peer_limit: Option<u32>,
    /// The command fastd runs for each unknown node (`on verify`): an
    /// absolute path and arguments; `$PEER_KEY` and fastd's other variables
    /// are passed as such.
    pub fastd_on_verify: Option<Vec<String>>,
    pub fastd_hide_ip_addresses: Option<bool>,
    pub fastd_hide_mac_addresses: Option<bool>,
    pub fastd_static_peers: Option<Vec<StaticPeer>>,
    pub fastd_extra_instances: Option<Vec<ExtraInstance>>,
    pub batman_gateway_mode: Option<GatewayMode>,
    /// `DOWN[/UP]` with `kbit` (the default unit) or `mbit`, as batctl
    /// takes it.
    pub batman_gateway_bandwidth: Option<String>,
    pub batman_hop_penalty: Option<u8>,
    /// The OGM interval in milliseconds (`orig_interval`).
    pub batman_ogm_interval: Option<u32>,
    /// A file (one WireGuard public key per line) or a directory (one file
    /// per node, the key on its first line) on this machine, read when
    /// rendering; a relative path is relative to the inventory.
    pub wireguard_node_keys: Option<String>,
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
    "fastd_methods",
    "fastd_legacy_methods",
    "fastd_peer_limit",
    "fastd_on_verify",
    "fastd_hide_ip_addresses",
    "fastd_hide_mac_addresses",
    "fastd_static_peers",
    "fastd_extra_instances",
    "batman_gateway_mode",
    "batman_gateway_bandwidth",
    "batman_hop_penalty",
    "batman_ogm_interval",
    "wireguard_node_keys",
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

    /// The methods fastd v22 knows (its manual's list; composed methods of
    /// other combinations are possible but not useful, and
    /// `xsalsa20-poly1305` is gone since v19).
    pub const FASTD_METHODS: &[&str] = &[
        "salsa2012+umac",
        "salsa20+umac",
        "aes128-ctr+umac",
        "salsa2012+gmac",
        "salsa20+gmac",
        "aes128-gcm",
        "salsa2012+poly1305",
        "salsa20+poly1305",
        "aes128-ctr+poly1305",
        "null+salsa2012+umac",
        "null+salsa20+umac",
        "null+aes128-ctr+umac",
        "null+salsa2012+gmac",
        "null+salsa20+gmac",
        "null+aes128-gmac",
        "null@l2tp",
        "null",
    ];

    /// A list of fastd methods: known ones, each once; `empty_ok` for a
    /// list that adds to another.
    pub fn methods(methods: &[String], empty_ok: bool) -> Result<(), String> {
        if methods.is_empty() && !empty_ok {
            return Err("expected at least one fastd method".into());
        }
        for (i, method) in methods.iter().enumerate() {
            if !FASTD_METHODS.contains(&method.as_str()) {
                let hint = if method == "xsalsa20-poly1305" {
                    " (fastd removed it in v19; salsa20+poly1305 replaces it)".to_string()
                } else {
                    match super::nearest(method, FASTD_METHODS.iter().copied()) {
                        Some(near) => format!(" (did you mean `{near}`?)"),
                        None => String::new(),
                    }
                };
                return Err(format!(
                    "{} is not a fastd method{hint}; fastd knows: {}",
                    super::shown(method),
                    FASTD_METHODS.join(", ")
                ));
            }
            if methods[..i].contains(method) {
                return Err(format!("{} is listed twice", super::shown(method)));
            }
        }
        Ok(())
    }

    /// The variables fastd sets for `on verify` (its manual).
    pub const FASTD_VERIFY_VARIABLES: &[&str] = &[
        "$FASTD_PID",
        "$INTERFACE",
        "$INTERFACE_MTU",
        "$LOCAL_KEY",
        "$LOCAL_ADDRESS",
        "$LOCAL_PORT",
        "$PEER_ADDRESS",
        "$PEER_PORT",
        "$PEER_NAME",
        "$PEER_KEY",
    ];

    /// An `on verify` command: an absolute path, then arguments that are
    /// fastd's variables or words of [`path_char`]s (nothing a shell acts
    /// on), at most 4,000 bytes in all.
    pub fn command(words: &[String]) -> Result<(), String> {
        const RULE: &str = "expected a command: an absolute path, then arguments of letters, digits and `/._-+@:,` or fastd's variables ($PEER_KEY, …)";
        let Some((program, arguments)) = words.split_first() else {
            return Err(RULE.into());
        };
        path(program).map_err(|e| format!("{}: {e}", super::shown(program)))?;
        let total: usize = words.iter().map(|w| w.len() + 1).sum();
        for word in arguments {
            let ok = FASTD_VERIFY_VARIABLES.contains(&word.as_str())
                || (!word.is_empty() && word.bytes().all(path_char));
            if !ok {
                return Err(format!("{}: {RULE}", super::shown(word)));
            }
        }
        if total > 4000 {
            return Err(format!("{RULE}; this one is {total} bytes"));
        }
        Ok(())
    }

    pub fn peer_limit(limit: u32) -> Result<(), String> {
        if limit == 0 {
            Err("expected at least 1 (0 would refuse every node)".into())
        } else {
            Ok(())
        }
    }

    /// batman-adv's OGM interval: the kernel takes at least 40 ms (twice
    /// its jitter); more than a day is a typo.
    pub fn ogm_interval(ms: u32) -> Result<(), String> {
        if (40..=86_400_000).contains(&ms) {
            Ok(())
        } else {
            Err("expected milliseconds from 40 to 86400000".into())
        }
    }

    /// A gateway bandwidth in kbit/s, down and up.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Bandwidth {
        pub down_kbit: u64,
        pub up_kbit: u64,
    }

    impl Bandwidth {
        /// As batctl takes it (`gw_mode server 100mbit/20mbit`).
        pub fn batctl(&self) -> String {
            let one = |kbit: u64| {
                if kbit % 1000 == 0 {
                    format!("{}mbit", kbit / 1000)
                } else {
                    format!("{kbit}kbit")
                }
            };
            format!("{}/{}", one(self.down_kbit), one(self.up_kbit))
        }

        /// As systemd-networkd takes it (bits per second, base 1000).
        pub fn networkd(kbit: u64) -> String {
            if kbit % 1000 == 0 {
                format!("{}M", kbit / 1000)
            } else {
                format!("{kbit}K")
            }
        }
    }

    /// batman-adv's `DOWN[/UP]` (`batadv_parse_gw_bandwidth`): whole
    /// numbers, `kbit` (the default) or `mbit` in any case; the kernel keeps
    /// 100 kbit/s steps, so each must be a multiple of 100 kbit/s; without
    /// UP it takes a fifth of DOWN.
    pub fn bandwidth(text: &str) -> Result<Bandwidth, String> {
        const RULE: &str = "expected DOWN[/UP] in whole kbit or mbit (`100mbit/20mbit`, `5000kbit`), each at least 100kbit and a multiple of 100kbit, at most 400000mbit";
        let one = |part: &str| -> Option<u64> {
            let lower = part.to_ascii_lowercase();
            let (digits, factor) = if let Some(d) = lower.strip_suffix("mbit") {
                (d.to_string(), 1000)
            } else if let Some(d) = lower.strip_suffix("kbit") {
                (d.to_string(), 1)
            } else {
                (lower, 1)
            };
            if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let kbit = digits.parse::<u64>().ok()?.checked_mul(factor)?;
            (kbit >= 100 && kbit % 100 == 0 && kbit <= 400_000_000).then_some(kbit)
        };
        let (down, up) = match text.split_once('/') {
            Some((down, up)) => (one(down), Some(one(up))),
            None => (one(text), None),
        };
        match (down, up) {
            (Some(down_kbit), None) => Ok(Bandwidth {
                down_kbit,
                up_kbit: (down_kbit / 5 / 100 * 100).max(100),
            }),
            (Some(down_kbit), Some(Some(up_kbit))) => Ok(Bandwidth { down_kbit, up_kbit }),
            _ => Err(RULE.into()),
        }
    }

    /// A name for a static peer or an extra instance: as an instance name,
    /// at most 32 bytes.
    pub fn short_name(name: &str) -> Result<(), String> {
        if name.len() <= 32 && instance(name).is_ok() {
            Ok(())
        } else {
            Err(
                "expected 1 to 32 letters, digits, `-`, `_` and `.`, not starting with `-` or `.`"
                    .into(),
            )
        }
    }

    /// A fastd MTU: what fastd takes (576 to 65535).
    pub fn mtu(mtu: u32) -> Result<(), String> {
        if (576..=65535).contains(&mtu) {
            Ok(())
        } else {
            Err("expected an MTU from 576 to 65535".into())
        }
    }

    /// A local path read when rendering: relative or absolute, of
    /// [`path_char`]s, at most 4,000 bytes.
    pub fn local_path(path: &str) -> Result<(), String> {
        if !path.is_empty() && path.len() <= 4000 && path.bytes().all(path_char) {
            Ok(())
        } else {
            Err("expected a path of letters, digits and `/._-+@:,`".into())
        }
    }
}

/// A value as shown in a message: quoted, control characters escaped, cut
/// at 200 characters.
pub fn shown(value: &str) -> String {
    crate::templates::escape::shown(value)
}

/// A list as shown in a message: its first eight values, escaped.
fn list_shown(values: &[String]) -> String {
    let list: Vec<String> = values.iter().take(8).map(|v| shown(v)).collect();
    let more = if values.len() > 8 { ", …" } else { "" };
    format!("[{}{more}]", list.join(", "))
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
    // No name gluonvpn suggests is longer than this: a longer word is no
    // typo of one, and its distance is not worth computing (a hostile
    // inventory's key may be 100,000 characters).
    const LONGEST: usize = 64;
    let length = word.chars().count();
    if length > LONGEST {
        return None;
    }
    let lower = word.to_lowercase();
    let limit = (length / 3).max(1);
    candidates
        .into_iter()
        // The distance is at least the difference of the lengths.
        .filter(|c| c.chars().count().abs_diff(length) <= limit)
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
        for (key, value, empty_ok) in [
            ("fastd_methods", &self.fastd_methods, false),
            ("fastd_legacy_methods", &self.fastd_legacy_methods, true),
        ] {
            if let Some(methods) = value {
                rules::methods(methods, empty_ok).map_err(|e| fail(key, list_shown(methods), e))?;
            }
        }
        if let Some(limit) = self.fastd_peer_limit {
            rules::peer_limit(limit).map_err(|e| fail("fastd_peer_limit", limit.to_string(), e))?;
        }
        if let Some(words) = &self.fastd_on_verify {
            rules::command(words).map_err(|e| fail("fastd_on_verify", list_shown(words), e))?;
        }
        if let Some(ms) = self.batman_ogm_interval {
            rules::ogm_interval(ms).map_err(|e| fail("batman_ogm_interval", ms.to_string(), e))?;
        }
        if let Some(text) = &self.batman_gateway_bandwidth {
            rules::bandwidth(text).map_err(|e| fail("batman_gateway_bandwidth", shown(text), e))?;
        }
        if let Some(path) = &self.wireguard_node_keys {
            rules::local_path(path).map_err(|e| fail("wireguard_node_keys", shown(path), e))?;
        }
        for (i, peer) in self.fastd_static_peers.iter().flatten().enumerate() {
            let key = format!("fastd_static_peers[{i}]");
            rules::short_name(&peer.name)
                .map_err(|e| fail(&key, shown(&peer.name), format!("name: {e}")))?;
            crate::keys::FastdPublicKey::from_hex(&peer.key)
                .map_err(|e| fail(&key, shown(&peer.key), format!("key: {e}")))?;
            for remote in &peer.remotes {
                crate::site::mesh_vpn::address::fastd_syntax(remote)
                    .map_err(|e| fail(&key, shown(remote), format!("remote {e}")))?;
            }
            if self
                .fastd_static_peers
                .iter()
                .flatten()
                .take(i)
                .any(|p| p.name == peer.name)
            {
                return Err(fail(
                    &key,
                    shown(&peer.name),
                    "expected each peer name once".into(),
                ));
            }
        }
        for (i, extra) in self.fastd_extra_instances.iter().flatten().enumerate() {
            let key = format!("fastd_extra_instances[{i}]");
            rules::short_name(&extra.name)
                .map_err(|e| fail(&key, shown(&extra.name), format!("name: {e}")))?;
            rules::port(extra.port)
                .map_err(|e| fail(&key, extra.port.to_string(), format!("port: {e}")))?;
            if let Some(mtu) = extra.mtu {
                rules::mtu(mtu).map_err(|e| fail(&key, mtu.to_string(), format!("mtu: {e}")))?;
            }
            if let Some(bind) = &extra.bind {
                rules::bind(bind)
                    .map_err(|e| fail(&key, list_shown(bind), format!("bind: {e}")))?;
            }
            if let Some(methods) = &extra.methods {
                rules::methods(methods, false)
                    .map_err(|e| fail(&key, list_shown(methods), format!("methods: {e}")))?;
            }
            if let Some(interface) = &extra.interface {
                rules::interface_name(interface)
                    .or_else(|_| rules::interface_pattern(interface))
                    .map_err(|e| fail(&key, shown(interface), format!("interface: {e}")))?;
            }
            if self
                .fastd_extra_instances
                .iter()
                .flatten()
                .take(i)
                .any(|x| x.name == extra.name)
            {
                return Err(fail(
                    &key,
                    shown(&extra.name),
                    "expected each instance name once".into(),
                ));
            }
        }
        if let Some(bind) = &self.bind {
            rules::bind(bind).map_err(|e| fail("bind", list_shown(bind), e))?;
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
        let mut inventory =
            Inventory::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        inventory.base_dir = path.parent().map(Path::to_path_buf);
        Ok(inventory)
    }
}

/// A gateway's settings for one domain, with the defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    pub fastd_methods: Option<Vec<String>>,
    pub fastd_legacy_methods: Vec<String>,
    pub fastd_peer_limit: Option<u32>,
    pub fastd_on_verify: Option<Vec<String>>,
    pub fastd_hide_ip_addresses: bool,
    pub fastd_hide_mac_addresses: bool,
    pub fastd_static_peers: Vec<StaticPeer>,
    pub fastd_extra_instances: Vec<ExtraInstance>,
    pub batman_gateway_mode: GatewayMode,
    pub batman_gateway_bandwidth: Option<rules::Bandwidth>,
    pub batman_hop_penalty: Option<u8>,
    pub batman_ogm_interval: Option<u32>,
    pub wireguard_node_keys: Option<String>,
}

impl Resolved {
    /// The methods the gateway offers in a domain: `fastd_methods`, or
    /// every method a node of the site may propose
    /// ([`default_gateway_methods`](crate::site::mesh_vpn::methods::default_gateway_methods)),
    /// then the legacy methods not yet in it.
    pub fn offered_methods(&self, site_methods: &[String], configurable: bool) -> Vec<String> {
        let mut methods = self.fastd_methods.clone().unwrap_or_else(|| {
            crate::site::mesh_vpn::methods::default_gateway_methods(site_methods, configurable)
        });
        for method in &self.fastd_legacy_methods {
            if !methods.contains(method) {
                methods.push(method.clone());
            }
        }
        methods
    }
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
            fastd_methods: pick!(fastd_methods),
            fastd_legacy_methods: pick!(fastd_legacy_methods).unwrap_or_default(),
            fastd_peer_limit: pick!(fastd_peer_limit),
            fastd_on_verify: pick!(fastd_on_verify),
            // What fastd logs of nodes is personal data: hidden unless the
            // inventory says otherwise.
            fastd_hide_ip_addresses: pick!(fastd_hide_ip_addresses).unwrap_or(true),
            fastd_hide_mac_addresses: pick!(fastd_hide_mac_addresses).unwrap_or(true),
            fastd_static_peers: pick!(fastd_static_peers).unwrap_or_default(),
            fastd_extra_instances: pick!(fastd_extra_instances).unwrap_or_default(),
            batman_gateway_mode: pick!(batman_gateway_mode).unwrap_or_default(),
            // Checked when the inventory was read.
            batman_gateway_bandwidth: pick!(batman_gateway_bandwidth)
                .and_then(|b| rules::bandwidth(&b).ok()),
            batman_hop_penalty: pick!(batman_hop_penalty),
            batman_ogm_interval: pick!(batman_ogm_interval),
            wireguard_node_keys: pick!(wireguard_node_keys),
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
    fn bandwidths_as_batman_adv_reads_them() {
        let b = rules::bandwidth("100Mbit/20MBIT").unwrap();
        assert_eq!((b.down_kbit, b.up_kbit), (100_000, 20_000));
        assert_eq!(b.batctl(), "100mbit/20mbit");
        // without UP, a fifth of DOWN (batadv_gw_bandwidth_set)
        let b = rules::bandwidth("96mbit").unwrap();
        assert_eq!((b.down_kbit, b.up_kbit), (96_000, 19_200));
        assert_eq!(rules::Bandwidth::networkd(b.up_kbit), "19200K");
        assert_eq!(rules::Bandwidth::networkd(b.down_kbit), "96M");
        let b = rules::bandwidth("300").unwrap();
        assert_eq!((b.down_kbit, b.up_kbit), (300, 100));
    }

    #[test]
    fn nearest_words() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("nrod", "nord"), 1);
        assert_eq!(nearest("ofload", KEYS.iter().copied()), Some("offload"));
        assert_eq!(nearest("BATMAN", KEYS.iter().copied()), Some("batman"));
        assert_eq!(nearest("port", KEYS.iter().copied()), None);
        // a hostile key (the fuzzer's: 189 KB) is no typo of a known one
        assert_eq!(nearest(&"a".repeat(200_000), KEYS.iter().copied()), None);
        assert_eq!(nearest(&format!("{}x", "a".repeat(64)), ["a"]), None);
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
            ("batman_gateway_bandwidth", "\"100Mbit/100Mbit\""),
            ("batman_gateway_bandwidth", "\"5000\""),
            (
                "fastd_on_verify",
                "[\"/usr/local/bin/fastd-limiter\", \"verify\", \"$PEER_KEY\"]",
            ),
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
            ("fastd_methods", "[]"),
            ("fastd_methods", "[\"salsa2012+umac\", \"salsa2012+umac\"]"),
            ("fastd_methods", "[\"salsa2012+umac; on up \\\"id\\\"\"]"),
            ("fastd_legacy_methods", "[\"xsalsa20-poly1305\"]"),
            ("fastd_peer_limit", "0"),
            ("fastd_on_verify", "[]"),
            ("fastd_on_verify", "[\"blacklist.sh\"]"),
            ("fastd_on_verify", "[\"/bin/check\", \"$(id)\"]"),
            ("fastd_on_verify", "[\"/bin/check\", \"$PEER_KEY;id\"]"),
            ("fastd_on_verify", "[\"/bin/check\", \"a b\"]"),
            ("batman_gateway_bandwidth", "\"fast\""),
            ("batman_gateway_bandwidth", "\"50kbit\""),
            ("batman_gateway_bandwidth", "\"1.5mbit\""),
            ("batman_gateway_bandwidth", "\"150kbit\""),
            ("batman_gateway_bandwidth", "\"100mbit/\""),
            ("batman_ogm_interval", "1"),
            ("batman_hop_penalty", "256"),
            ("batman_gateway_mode", "\"on\""),
            ("fastd_static_peers", "[{ name = \"x\", key = \"00\" }]"),
            ("fastd_static_peers", "[{ name = \"../x\", key = \"9f0b3e7a1c5d2f8e4a6b0c9d7e1f3a5b8c2d4e6f0a1b3c5d7e9f1a2b4c6d8e0f\" }]"),
            ("fastd_static_peers", "[{ name = \"x\", key = \"9f0b3e7a1c5d2f8e4a6b0c9d7e1f3a5b8c2d4e6f0a1b3c5d7e9f1a2b4c6d8e0f\", remotes = [\"gw port 1; on up \\\"id\\\"\"] }]"),
            ("fastd_extra_instances", "[{ name = \"x\", port = 0 }]"),
            ("fastd_extra_instances", "[{ name = \"x\", port = 1, mtu = 100 }]"),
            ("fastd_extra_instances", "[{ name = \"x\", port = 1, interface = \"a b\" }]"),
            ("fastd_extra_instances", "[{ name = \"x\", port = 1 }, { name = \"x\", port = 2 }]"),
            ("wireguard_node_keys", "\"keys; id\""),
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
