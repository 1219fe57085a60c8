//! `gluonvpn check --online`: what the site points at on the network.
//!
//! Every NTP server in `ntp_servers` is resolved and asked for the time (one
//! SNTP request per address, retried once on silence); every fastd remote,
//! WireGuard endpoint and tunneldigger broker is only resolved — those are
//! UDP services that do not answer unknown peers, so gluonvpn sends them
//! nothing. Lookups and requests run side by side, with a bound on threads
//! and on time, so a site with many servers still finishes in seconds.
//!
//! Findings are ordinary diagnostics (GV5xx), placed at the value in
//! site.conf or the domain file, with the measured numbers in a `probe`
//! object for the JSON output.

pub mod ntp;
pub mod pool;
pub mod resolve;

use crate::diagnostics::{CodeInfo, Diagnostic};
use crate::site::mesh_vpn::address::{self, Endpoint, Family, Host};
use crate::site::mesh_vpn::{Address, Location, Provider};
use crate::site::value::{path_to_string, Key};
use crate::site::views::{DomainView, SiteView};
use resolve::Resolution;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long and how wide the probes may run.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeOptions {
    /// How long to wait for each NTP reply.
    pub ntp_timeout: Duration,
    /// How many requests an NTP address gets before it counts as silent.
    pub ntp_attempts: u32,
    /// How long all name lookups together may take.
    pub resolve_budget: Duration,
    /// At most this many lookups or requests at once.
    pub workers: usize,
}

impl Default for ProbeOptions {
    fn default() -> ProbeOptions {
        ProbeOptions {
            ntp_timeout: Duration::from_secs(2),
            ntp_attempts: 2,
            resolve_budget: Duration::from_secs(5),
            workers: 64,
        }
    }
}

/// The codes of `--online` (GV5xx), as named statics.
pub mod codes {
    use crate::diagnostics::declare_codes;

    declare_codes! {
        NTP_ANSWERED = "GV501" "ntp-server-answered" Info Gluonvpn
            "An NTP server answered (with --online): its stratum, delay and offset."
            "Not a problem: the record of what `--online` measured. The message names \
            the first of the server's addresses that answered, with the server's stratum, the \
            round-trip delay and the server's clock offset from this machine's clock; the notes \
            list the server's other addresses and what became of them (an address that failed \
            is worth a look: nodes may pick it). The JSON output carries the numbers in \
            `probe`. Hide these notes with `--allow GV501`."
        NTP_UNREACHABLE = "GV502" "ntp-server-unreachable" Warning Gluonvpn
            "An NTP server did not answer (with --online)."
            "gluonvpn sent an SNTP request to UDP port 123 of every address of the \
            server and got no usable reply: no answer within the timeout (2 s, asked twice), or \
            the network refused (ICMP port or host unreachable). Nodes have no battery-backed \
            clock and set it from `ntp_servers` after boot; until then their logs and \
            certificate checks are off, and WireGuard nodes (wgpeerselector) wait for the time \
            before they connect. The result \
            is from where gluonvpn runs: a server that only answers inside the mesh (a \
            `next_node` or gateway address) is expected to fail here."
        NTP_UNRESOLVABLE = "GV503" "ntp-server-unresolvable" Warning Gluonvpn
            "An NTP server's name does not resolve (with --online)."
            "The system's resolver on this machine (/etc/hosts, DNS) found no IPv4 or \
            IPv6 address for the name, or gave no answer within 5 s. A typo in `ntp_servers` \
            leaves nodes without time. Names that only the mesh's own DNS knows fail here too; \
            then this is expected."
        NTP_UNUSABLE = "GV504" "ntp-server-unsynchronised" Warning Gluonvpn
            "An NTP server answered, but with no time a client would use (with --online)."
            "The reply said that the server's own clock is not synchronised (leap \
            indicator 3 or stratum 16), or it was a kiss-o'-death (stratum 0: the server \
            refuses or rate-limits this client). NTP clients on the nodes ignore such replies, \
            so the server is as good as unreachable for them."
        ENDPOINT_UNRESOLVABLE = "GV505" "vpn-endpoint-unresolvable" Warning Gluonvpn
            "The host of a fastd remote, WireGuard endpoint or tunneldigger broker does not resolve (with --online)."
            "The system's resolver on this machine found no address for the host name \
            (or did not answer within 5 s), so no node would find that gateway either, unless \
            the name exists only in a DNS the nodes use and this machine does not. gluonvpn \
            only resolves these names; it sends nothing to the gateways themselves."
        ENDPOINT_WRONG_FAMILY = "GV506" "vpn-endpoint-wrong-family" Warning Gluonvpn
            "An `ipv4`/`ipv6` fastd remote's host has no address of that family (with --online)."
            "`ipv4 \"host\" port N` makes fastd use only the host's IPv4 addresses, \
            `ipv6 \"host\" port N` only its IPv6 addresses. The name resolves, but not to an \
            address of the family the remote asks for, so fastd never connects through this \
            remote. Add the missing A or AAAA record, or drop the family keyword."
        BROKER_IPV6_ONLY = "GV507" "broker-ipv6-only" Warning Gluonvpn
            "A tunneldigger broker's name resolves only to IPv6 addresses (with --online)."
            "tunneldigger's client connects to brokers over IPv4 only. A broker whose \
            name resolves only to IPv6 addresses (AAAA without A) can never be reached by a \
            node. (A broker written as an IPv6 address is the lint GV162's, without \
            `--online`.)"
        /// Retired: kept so that the code never takes another meaning.
        ENDPOINT_UNREADABLE = "GV508" "vpn-endpoint-unreadable" Warning Gluonvpn
            "Retired: a remote, endpoint or broker its program cannot read is reported by the lints GV145, GV152, GV162 and GV163."
            "Up to gluonvpn 0.1, `--online` reported values it could not read with this code, \
            while the lints read the same values with other grammars. Now every fastd remote, \
            WireGuard endpoint and tunneldigger broker is read once, by the grammar of the \
            program on the node, and a value that does not read is one lint finding, with or \
            without `--online`: GV152 (fastd), GV145 (WireGuard), GV162 and GV163 \
            (tunneldigger). `--online` looks up only values that read. gluonvpn no longer \
            reports GV508."
    }
}

/// What a site entry points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ntp,
    FastdRemote,
    WireguardEndpoint,
    TunneldiggerBroker,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Ntp => "NTP server",
            Kind::FastdRemote => "fastd remote",
            Kind::WireguardEndpoint => "WireGuard endpoint",
            Kind::TunneldiggerBroker => "tunneldigger broker",
        }
    }

    fn json(self) -> &'static str {
        match self {
            Kind::Ntp => "ntp-server",
            Kind::FastdRemote => "fastd-remote",
            Kind::WireguardEndpoint => "wireguard-endpoint",
            Kind::TunneldiggerBroker => "tunneldigger-broker",
        }
    }
}

/// One value of the site to probe: read, and in a form its program reads.
struct Target<'v> {
    kind: Kind,
    view: &'v DomainView<'v>,
    at: Location,
    /// The value as written.
    text: String,
    endpoint: Endpoint,
}

/// The `probe` object of a diagnostic in the JSON output.
#[derive(Debug, Serialize)]
pub struct ProbeData {
    /// `ntp-server`, `fastd-remote`, `wireguard-endpoint` or
    /// `tunneldigger-broker`.
    pub kind: &'static str,
    /// The value as written in the site.
    pub value: String,
    /// The host read from the value (an address without brackets).
    pub host: String,
    pub port: u16,
    /// The family a fastd remote is restricted to.
    pub family: Option<Family>,
    /// What the host resolved to.
    pub addresses: Vec<String>,
    /// Why it did not resolve.
    pub resolve_error: Option<String>,
    /// NTP: the address whose answer is reported, and its numbers.
    pub answered_by: Option<String>,
    pub stratum: Option<u8>,
    pub delay_ms: Option<f64>,
    pub offset_ms: Option<f64>,
    /// NTP: every address asked.
    pub ntp: Vec<NtpResult>,
}

/// One address of an NTP server, as asked.
#[derive(Debug, Serialize)]
pub struct NtpResult {
    pub address: String,
    /// A usable answer came back.
    pub answered: bool,
    pub stratum: Option<u8>,
    pub delay_ms: Option<f64>,
    pub offset_ms: Option<f64>,
    pub reference: Option<String>,
    pub error: Option<String>,
}

/// Whether the VPN section of a package is in use: the package is in an
/// image, or the images are unknown (the selection could not be evaluated).
fn uses(context: &SiteView<'_>, package: &str) -> bool {
    context.site.default_selection || context.has_package(package)
}

/// The values of a domain to probe. Remotes, endpoints and brokers come
/// from the typed mesh VPN; those their program cannot read are skipped —
/// the lints report them (GV145, GV152, GV162, GV163), and nothing is
/// looked up for them.
fn collect<'v>(context: &SiteView<'_>, view: &'v DomainView<'v>, out: &mut Vec<Target<'v>>) {
    let mut push = |kind: Kind, at: &Location, text: &str, endpoint: &Endpoint| {
        out.push(Target {
            kind,
            view,
            at: at.clone(),
            text: text.to_string(),
            endpoint: endpoint.clone(),
        });
    };
    if let Some(servers) = view.merged.get_name("ntp_servers") {
        for (i, node) in servers.items().iter().enumerate() {
            let Some(text) = node.as_str() else { continue };
            let Some(endpoint) = ntp_host(text) else {
                continue;
            };
            let path = vec![Key::from("ntp_servers"), Key::Index(i + 1)];
            let at = Location {
                span: context.span_of(view, Some(node), &path),
                path,
            };
            push(Kind::Ntp, &at, text, &endpoint);
        }
    }
    let vpn = &view.mesh_vpn;
    // A scoped address (`[fe80::1%eth0]`) names an interface of the node:
    // there is nothing to look up from here.
    let readable = |address: &'v Address| {
        let endpoint = address.endpoint.as_ref().ok()?;
        let scoped = matches!(endpoint.host, Host::Address { zone: Some(_), .. });
        (!scoped).then_some((address, endpoint))
    };
    if let Some(fastd) = vpn
        .fastd
        .as_ref()
        .filter(|_| uses(context, Provider::Fastd.package()))
    {
        for (_, peer) in fastd.all_peers() {
            let remotes = peer.remotes.iter().flat_map(|r| r.value.iter());
            for (remote, endpoint) in remotes.filter_map(readable) {
                push(Kind::FastdRemote, &remote.at, &remote.text, endpoint);
            }
        }
    }
    if let Some(wireguard) = vpn
        .wireguard
        .as_ref()
        .filter(|_| uses(context, Provider::WireGuard.package()))
    {
        for peer in &wireguard.peers {
            if let Some((address, endpoint)) = peer.endpoint.as_ref().and_then(readable) {
                push(
                    Kind::WireguardEndpoint,
                    &address.at,
                    &address.text,
                    endpoint,
                );
            }
        }
    }
    if let Some(tunneldigger) = vpn
        .tunneldigger
        .as_ref()
        .filter(|_| uses(context, Provider::Tunneldigger.package()))
    {
        for (broker, endpoint) in tunneldigger.brokers.iter().filter_map(readable) {
            push(Kind::TunneldiggerBroker, &broker.at, &broker.text, endpoint);
        }
    }
}

/// An `ntp_servers` entry: a name or an address (an IPv6 address may be
/// bracketed). Empty entries are left to Gluon's checks.
fn ntp_host(text: &str) -> Option<Endpoint> {
    let host = text.trim();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return None;
    }
    let host = match address::literal(host) {
        Some(ip) if !host.contains('%') => Host::Address { ip, zone: None },
        _ => Host::Name(host.to_string()),
    };
    Some(Endpoint {
        host,
        port: ntp::PORT,
        family: None,
    })
}

/// Runs every probe for the site's domains and returns the findings.
pub fn run(context: &SiteView<'_>, options: &ProbeOptions) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for view in &context.domains {
        collect(context, view, &mut found);
    }
    // Each host is looked up once, each NTP address asked once.
    let hosts: BTreeSet<String> = found.iter().map(|t| t.endpoint.host.text()).collect();
    let resolved = resolve::resolve_all(
        hosts.into_iter().collect(),
        options.workers,
        options.resolve_budget,
    );
    let mut ntp_addresses: BTreeSet<SocketAddr> = BTreeSet::new();
    for target in found.iter().filter(|t| t.kind == Kind::Ntp) {
        if let Some(Resolution::Addresses(addresses)) = resolved.get(&target.endpoint.host.text()) {
            ntp_addresses.extend(addresses.iter().map(|a| with_port(*a, ntp::PORT)));
        }
    }
    let ntp_addresses: Vec<SocketAddr> = ntp_addresses.into_iter().collect();
    let deadline =
        Instant::now() + options.ntp_timeout * options.ntp_attempts.max(1) + Duration::from_secs(1);
    let (timeout, attempts) = (options.ntp_timeout, options.ntp_attempts);
    let outcomes = pool::run_all(
        ntp_addresses.clone(),
        options.workers,
        deadline,
        move |address| ntp::probe(address, timeout, attempts),
    );
    let answers: BTreeMap<SocketAddr, ntp::Outcome> = ntp_addresses
        .into_iter()
        .zip(outcomes)
        .map(|(address, outcome)| {
            (
                address,
                outcome.unwrap_or_else(|| {
                    ntp::Outcome::NoAnswer("not asked: the time for NTP requests ran out".into())
                }),
            )
        })
        .collect();
    found
        .iter()
        .filter_map(|target| report(target, &resolved, &answers, options))
        .collect()
}

fn with_port(address: SocketAddr, port: u16) -> SocketAddr {
    let mut address = address;
    address.set_port(port);
    address
}

fn list(addresses: &[SocketAddr]) -> String {
    addresses
        .iter()
        .map(|a| a.ip().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn ms(value: f64) -> String {
    if value.abs() >= 1000.0 {
        format!("{:.3} s", value / 1000.0)
    } else {
        format!("{value:.2} ms")
    }
}

fn signed_ms(value: f64) -> String {
    let text = ms(value);
    if value >= 0.0 {
        format!("+{text}")
    } else {
        text
    }
}

fn describe(answer: &ntp::Answer) -> String {
    format!(
        "stratum {}, delay {}, offset {}",
        answer.stratum,
        ms(answer.delay_ms),
        signed_ms(answer.offset_ms)
    )
}

/// The finding for one target, if any.
fn report(
    target: &Target<'_>,
    resolved: &BTreeMap<String, Resolution>,
    answers: &BTreeMap<SocketAddr, ntp::Outcome>,
    options: &ProbeOptions,
) -> Option<Diagnostic> {
    let label = target.kind.label();
    let mut data = ProbeData {
        kind: target.kind.json(),
        value: target.text.clone(),
        host: target.endpoint.host.text(),
        port: target.endpoint.port,
        family: None,
        addresses: Vec::new(),
        resolve_error: None,
        answered_by: None,
        stratum: None,
        delay_ms: None,
        offset_ms: None,
        ntp: Vec::new(),
    };
    let endpoint = &target.endpoint;
    let host = &endpoint.host.text();
    data.family = endpoint.family;
    let addresses = match resolved.get(host) {
        Some(Resolution::Addresses(addresses)) => addresses,
        Some(Resolution::Failed(error)) => {
            data.resolve_error = Some(error.clone());
            let message = format!("{label} `{host}` does not resolve: {error}");
            return Some(finding(target, unresolvable(target.kind), message, data));
        }
        timed_out => {
            let budget = match timed_out {
                Some(Resolution::TimedOut(budget)) => *budget,
                _ => options.resolve_budget,
            };
            let error = format!(
                "the lookup did not finish within {} s",
                ntp::trim_float(budget.as_secs_f64())
            );
            data.resolve_error = Some(error.clone());
            let message = format!("{label} `{host}` did not resolve: {error}");
            return Some(finding(target, unresolvable(target.kind), message, data));
        }
    };
    data.addresses = addresses.iter().map(|a| a.ip().to_string()).collect();
    let literal = endpoint.literal().is_some();
    match target.kind {
        Kind::Ntp => Some(ntp_report(target, host, literal, addresses, answers, data)),
        Kind::FastdRemote => {
            let family = endpoint.family?;
            if addresses.iter().any(|a| Family::of(&a.ip()) == family) {
                return None;
            }
            let message = format!(
                "{label} `{}`: `{host}` has no {} address (it resolves to {})",
                target.text,
                family.label(),
                list(addresses)
            );
            Some(finding(target, codes::ENDPOINT_WRONG_FAMILY, message, data))
        }
        Kind::WireguardEndpoint => None,
        Kind::TunneldiggerBroker => {
            if addresses.iter().any(|a| a.is_ipv4()) {
                return None;
            }
            let message = format!(
                "{label} `{host}` resolves only to IPv6 ({}); tunneldigger connects over IPv4 only",
                list(addresses)
            );
            Some(finding(target, codes::BROKER_IPV6_ONLY, message, data))
        }
    }
}

fn unresolvable(kind: Kind) -> &'static CodeInfo {
    match kind {
        Kind::Ntp => codes::NTP_UNRESOLVABLE,
        _ => codes::ENDPOINT_UNRESOLVABLE,
    }
}

fn ntp_report(
    target: &Target<'_>,
    host: &str,
    literal: bool,
    addresses: &[SocketAddr],
    answers: &BTreeMap<SocketAddr, ntp::Outcome>,
    mut data: ProbeData,
) -> Diagnostic {
    let outcomes: Vec<(SocketAddr, &ntp::Outcome)> = addresses
        .iter()
        .filter_map(|a| {
            let a = with_port(*a, ntp::PORT);
            answers.get(&a).map(|o| (a, o))
        })
        .collect();
    for (address, outcome) in &outcomes {
        let (answer, error) = match outcome {
            ntp::Outcome::Answered(answer) => (Some(answer), None),
            ntp::Outcome::Unusable(why) | ntp::Outcome::NoAnswer(why) => (None, Some(why.clone())),
        };
        data.ntp.push(NtpResult {
            address: address.ip().to_string(),
            answered: answer.is_some(),
            stratum: answer.map(|a| a.stratum),
            delay_ms: answer.map(|a| a.delay_ms),
            offset_ms: answer.map(|a| a.offset_ms),
            reference: answer.map(|a| a.reference.clone()),
            error,
        });
    }
    // Every address but the one the message is about, as notes.
    let notes = |skip: Option<SocketAddr>| -> Vec<String> {
        outcomes
            .iter()
            .filter(|(a, _)| Some(*a) != skip)
            .map(|(a, outcome)| match outcome {
                ntp::Outcome::Answered(answer) => {
                    format!("{} answered too: {}", a.ip(), describe(answer))
                }
                ntp::Outcome::Unusable(why) => format!("{}: {why}", a.ip()),
                ntp::Outcome::NoAnswer(why) => format!("{} did not answer: {why}", a.ip()),
            })
            .collect()
    };
    let name = format!("NTP server `{host}`");
    let answered = outcomes.iter().find_map(|(a, o)| match o {
        ntp::Outcome::Answered(answer) => Some((*a, answer)),
        _ => None,
    });
    if let Some((address, answer)) = answered {
        data.answered_by = Some(address.ip().to_string());
        data.stratum = Some(answer.stratum);
        data.delay_ms = Some(answer.delay_ms);
        data.offset_ms = Some(answer.offset_ms);
        let from = if literal {
            String::new()
        } else {
            format!(" from {}", address.ip())
        };
        let message = format!("{name} answered{from}: {}", describe(answer));
        let mut d = finding(target, codes::NTP_ANSWERED, message, data);
        d.notes.extend(notes(Some(address)));
        return d;
    }
    if let Some((address, why)) = outcomes.iter().find_map(|(a, o)| match o {
        ntp::Outcome::Unusable(why) => Some((*a, why)),
        _ => None,
    }) {
        let at = if literal {
            String::new()
        } else {
            format!(" at {}", address.ip())
        };
        let message = format!("{name}{at} answered, but {why}");
        let mut d = finding(target, codes::NTP_UNUSABLE, message, data);
        d.notes.extend(notes(Some(address)));
        return d;
    }
    let message = match outcomes.as_slice() {
        [(_, ntp::Outcome::NoAnswer(why))] if literal => {
            format!("{name} did not answer: {why}")
        }
        [(address, ntp::Outcome::NoAnswer(why))] => {
            format!("{name} ({}) did not answer: {why}", address.ip())
        }
        many => format!(
            "{name} did not answer on any of its {} addresses",
            many.len()
        ),
    };
    let mut d = finding(target, codes::NTP_UNREACHABLE, message, data);
    if outcomes.len() > 1 {
        d.notes.extend(notes(None));
    }
    d
}

fn finding(
    target: &Target<'_>,
    code: &'static CodeInfo,
    message: String,
    data: ProbeData,
) -> Diagnostic {
    let mut d =
        Diagnostic::new(code, message, target.at.span).with_path(path_to_string(&target.at.path));
    if let Some(name) = target.view.name {
        d = d.with_domain(name);
    }
    d.with_probe(serde_json::to_value(&data).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_entries() {
        let host = |text: &str| ntp_host(text).map(|e| e.host);
        assert_eq!(
            host(" ntp.example.org "),
            Some(Host::Name("ntp.example.org".into()))
        );
        assert_eq!(
            host("[2001:db8::1]").and_then(|h| h.literal()),
            Some("2001:db8::1".parse().expect("address"))
        );
        assert_eq!(host(""), None);
    }

    /// The multidomain example with values that need no name lookup: its
    /// NTP server is the loopback address, one remote cannot be read (the
    /// lint reports it, the probe leaves it alone), one is an address
    /// literal (nothing to look up, nothing to report).
    #[test]
    fn findings_are_placed_per_domain_and_shared_ones_merged() {
        let example =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("site-examples/multidomain");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("domains")).expect("mkdir");
        for file in [
            "site.conf",
            "site.mk",
            "image-customization.lua",
            "domains/nord.conf",
            "domains/sued.conf",
        ] {
            let text = std::fs::read_to_string(example.join(file)).expect("example");
            let text = text
                .replace("'ntp.example.org'", "'127.0.0.1'")
                .replace(
                    "'\"gw-nord.example.org\" port 10061'",
                    "'gw-nord.example.org:10061'",
                )
                .replace(
                    "'\"gw-sued.example.org\" port 10062'",
                    "'[2001:db8::1]:10062'",
                );
            assert!(
                !text.contains("example.org\" port"),
                "{file} still names a host"
            );
            std::fs::write(dir.path().join(file), text).expect("write");
        }
        let mut options =
            crate::check::CheckOptions::new(crate::gluon_version::GluonVersion::V2025_1);
        options.online = Some(ProbeOptions {
            ntp_timeout: Duration::from_millis(300),
            ntp_attempts: 1,
            ..ProbeOptions::default()
        });
        let outcome = crate::check::check(dir.path(), &options).expect("check");
        let probes: Vec<&Diagnostic> = outcome
            .report
            .diagnostics
            .iter()
            .filter(|d| d.code().starts_with("GV5"))
            .collect();
        assert_eq!(probes.len(), 1, "{probes:#?}");
        // site.conf's NTP server: one finding for both domains (answered
        // where a local NTP server runs, refused elsewhere).
        let ntp = probes
            .iter()
            .find(|d| d.config_path.as_deref() == Some("ntp_servers.1"))
            .expect("ntp");
        assert!(
            ntp.info == codes::NTP_ANSWERED || ntp.info == codes::NTP_UNREACHABLE,
            "{ntp:#?}"
        );
        assert_eq!(ntp.domains, ["nord", "sued"]);
        let file = ntp
            .span
            .map(|s| outcome.site.sources.get(s.file).name.clone());
        assert_eq!(file.as_deref(), Some("site.conf"));
        // The unreadable remote, in its domain file: one finding, the lint's.
        let at_remote: Vec<&Diagnostic> = outcome
            .report
            .diagnostics
            .iter()
            .filter(|d| {
                d.config_path.as_deref()
                    == Some("mesh_vpn.fastd.groups.backbone.peers.gw_nord.remotes.1")
            })
            .collect();
        assert_eq!(at_remote.len(), 1, "{at_remote:#?}");
        let remote = at_remote[0];
        assert_eq!(remote.code(), "GV152");
        assert_eq!(remote.domains, ["nord"]);
        let span = remote.span.expect("span");
        let source = outcome.site.sources.get(span.file);
        assert_eq!(source.name, "domains/nord.conf");
        assert_eq!(
            &source.text[span.start as usize..span.end as usize],
            "'gw-nord.example.org:10061'"
        );
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(ms(0.4137), "0.41 ms");
        assert_eq!(signed_ms(0.02), "+0.02 ms");
        assert_eq!(signed_ms(-1500.0), "-1.500 s");
    }
}
