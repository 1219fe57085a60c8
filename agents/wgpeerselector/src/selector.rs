//! Choosing a gateway: the decisions, without any I/O (the daemon runs them
//! against WireGuard, the simulation against a model of many nodes).
//!
//! # How a gateway is chosen
//!
//! The original installs one random peer, waits 5 s, keeps it if a
//! handshake happened and removes it otherwise: with 3 of 4 gateways down
//! that is 5 s per dead gateway, 20 s in the worst case. Peers cannot simply
//! all be installed at once with the same allowed IPs: WireGuard routes an
//! allowed IP to one peer only (every Gluon gateway is `fe80::1/128`).
//!
//! The selector therefore *probes*: it installs a candidate with its
//! endpoint, **no allowed IPs** and a persistent keepalive of 1 s. Turning
//! the keepalive on makes WireGuard (the kernel and wireguard-go alike)
//! send a keepalive at once, and with no session yet that starts a
//! handshake — no traffic from the mesh is needed, and none can leak to a
//! candidate, which has no allowed IPs. Candidates are started one after
//! another, [`Params::probe_interval`] apart, in a random order, while the
//! earlier ones are still waiting (as Happy Eyeballs, RFC 8305, staggers
//! connection attempts). The first candidate whose handshake completes —
//! and if several did since the last look, the one started first — becomes
//! the gateway: it gets its allowed IPs and its configured keepalive (Gluon:
//! none), and every other candidate is removed.
//!
//! Staggering keeps the load where the random order puts it: a gateway
//! answering within the interval is taken before the next one is even
//! asked, so a gateway that is a few milliseconds closer does not attract
//! every node. It also keeps the gateways' work down: one handshake per
//! node as long as the first gateway answers.
//!
//! A candidate that has no handshake after [`Params::probe_timeout`] is
//! removed. WireGuard retries an unanswered handshake after 5 s (plus up to
//! ⅓ s of jitter), so 5.5 s gives every candidate a second attempt. When
//! every peer was tried once (the original's rule: all peers once before
//! any twice) and none answered, the selector waits — 2 s, then twice as
//! long each time up to 60 s, each randomised between half and all of it so
//! that nodes that lost the same gateway do not come back in step — and
//! starts over in a new random order.
//!
//! # Established
//!
//! As in the original, a connection is established while its latest
//! handshake is younger than 150 s. WireGuard renews a session every 2
//! minutes while traffic flows, so batman-adv's originator messages (every
//! ~5 s) keep it established without a keepalive. The age is followed on
//! the monotonic clock from the moment a new handshake is seen, so that
//! setting the wall clock (the NTP step) neither ends nor prolongs a
//! connection. When the handshake gets too old the peer is removed and a
//! new round starts at once, with the lost gateway tried last.

use crate::config::{Endpoint, PeerSpec};
use crate::rng::{shuffle, Rng};
use crate::{debug, info, warn};
use gluonvpn_wg::Key;
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

/// The selector's timings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    /// Between starting one candidate and the next.
    pub probe_interval: Duration,
    /// How long a candidate may take for its handshake.
    pub probe_timeout: Duration,
    /// At most this many candidates at once.
    pub parallel: usize,
    /// Persistent keepalive of candidates (seconds, > 0).
    pub probe_keepalive: u16,
    /// A connection is established while its latest handshake is younger.
    pub established_timeout: Duration,
    /// How often an established connection is looked at.
    pub watch_interval: Duration,
    /// How often candidates are looked at for a handshake.
    pub poll_interval: Duration,
    /// The first pause after a round in which nobody answered.
    pub backoff_min: Duration,
    /// The longest pause.
    pub backoff_max: Duration,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            probe_interval: Duration::from_millis(200),
            probe_timeout: Duration::from_millis(5500),
            parallel: 4,
            probe_keepalive: 1,
            established_timeout: Duration::from_secs(150),
            watch_interval: Duration::from_secs(5),
            poll_interval: Duration::from_millis(50),
            backoff_min: Duration::from_secs(2),
            backoff_max: Duration::from_secs(60),
        }
    }
}

/// What the selector does to the interface.
pub trait Link {
    /// The peers on the interface and their latest handshakes.
    fn handshakes(&mut self) -> io::Result<Vec<(Key, Option<SystemTime>)>>;
    /// Installs a candidate: endpoint, no allowed IPs, a keepalive.
    fn probe(&mut self, peer: &PeerSpec, endpoint: SocketAddr, keepalive: u16) -> io::Result<()>;
    /// Makes a candidate the gateway: its allowed IPs (and their routes) and
    /// its own keepalive.
    fn promote(&mut self, peer: &PeerSpec) -> io::Result<()>;
    /// Removes a peer (and its routes, if it was `promoted`).
    fn remove(&mut self, peer: &PeerSpec, promoted: bool) -> io::Result<()>;
    /// Starts resolving a name; the answer comes back through
    /// [`Selector::resolved`] for peer `index`.
    fn resolve(&mut self, index: usize, host: &str, port: u16);
}

struct PeerState {
    spec: PeerSpec,
    /// Addresses of a name not tried yet in this cycle.
    remotes: Vec<SocketAddr>,
    resolving: bool,
}

enum Remote {
    Ready(SocketAddr),
    Resolve(String, u16),
}

impl PeerState {
    /// The next address to try: the endpoint's, or one of its name's not
    /// tried since the name was last resolved, at random.
    fn next_remote(&mut self, rng: &mut dyn Rng) -> Remote {
        match &self.spec.endpoint {
            Endpoint::Addr(a) => Remote::Ready(*a),
            Endpoint::Host { host, port } => {
                if self.remotes.is_empty() {
                    Remote::Resolve(host.clone(), *port)
                } else {
                    let i = rng.below(self.remotes.len() as u32) as usize;
                    Remote::Ready(self.remotes.swap_remove(i))
                }
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Candidate {
    peer: usize,
    endpoint: SocketAddr,
    since: Instant,
}

enum Phase {
    /// Nothing installed; waiting for [`Selector::start`].
    Idle,
    Probing {
        /// Peers not started yet, in order.
        queue: VecDeque<usize>,
        active: Vec<Candidate>,
        /// Peers whose name is being resolved, and since when.
        waiting: Vec<(usize, Instant)>,
        next_launch: Instant,
        started: Instant,
        /// Names of the candidates that did not answer.
        silent: Vec<usize>,
    },
    Backoff {
        until: Instant,
    },
    Established {
        peer: usize,
        /// When the connection was established (its first handshake).
        since: Instant,
        /// The latest handshake seen, and when it happened on the monotonic
        /// clock.
        handshake: Option<SystemTime>,
        handshake_at: Instant,
    },
}

/// The selector's state.
pub struct Selector {
    peers: Vec<PeerState>,
    params: Params,
    phase: Phase,
    /// Rounds in a row in which nobody answered.
    failures: u32,
    /// The peer lost last: tried last in the next round.
    lost: Option<usize>,
}

/// Where a handshake at wall-clock time `at` lies on the monotonic clock:
/// `now` minus its age (a handshake "in the future", after the clock was set
/// back, is taken as now).
fn monotonic(now: Instant, wall: SystemTime, at: SystemTime) -> Instant {
    let age = wall.duration_since(at).unwrap_or(Duration::ZERO);
    now.checked_sub(age).unwrap_or(now)
}

fn secs(d: Duration) -> String {
    crate::log::duration(d)
}

impl Selector {
    pub fn new(peers: Vec<PeerSpec>, params: Params) -> Self {
        Selector {
            peers: peers
                .into_iter()
                .map(|spec| PeerState {
                    spec,
                    remotes: Vec::new(),
                    resolving: false,
                })
                .collect(),
            params,
            phase: Phase::Idle,
            failures: 0,
            lost: None,
        }
    }

    /// The peers, in configuration order.
    pub fn peers(&self) -> impl Iterator<Item = &PeerSpec> {
        self.peers.iter().map(|p| &p.spec)
    }

    /// The gateway connected to, if any.
    pub fn established(&self) -> Option<&PeerSpec> {
        match &self.phase {
            Phase::Established { peer, .. } => Some(&self.peers[*peer].spec),
            _ => None,
        }
    }

    /// Forgets everything installed: the interface went away and took its
    /// peers with it.
    pub fn reset(&mut self) {
        self.phase = Phase::Idle;
        self.failures = 0;
    }

    /// Starts a round now; [`Self::step`] does the work.
    pub fn start(&mut self, now: Instant, rng: &mut dyn Rng) {
        let mut order: Vec<usize> = (0..self.peers.len()).collect();
        shuffle(&mut order, rng);
        if let Some(lost) = self.lost {
            order.retain(|&p| p != lost);
            order.push(lost);
        }
        debug!(
            "Trying {}.",
            order
                .iter()
                .map(|&p| self.peers[p].spec.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.phase = Phase::Probing {
            queue: order.into(),
            active: Vec::new(),
            waiting: Vec::new(),
            next_launch: now,
            started: now,
            silent: Vec::new(),
        };
    }

    /// A name's addresses (or why there are none).
    pub fn resolved(&mut self, index: usize, result: io::Result<Vec<SocketAddr>>) {
        let peer = &mut self.peers[index];
        peer.resolving = false;
        let ok = match result {
            Ok(mut addrs) if !addrs.is_empty() => {
                addrs.dedup();
                debug!(
                    "{} resolves to {}.",
                    peer.spec.endpoint,
                    addrs
                        .iter()
                        .map(|a| a.ip().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                peer.remotes = addrs;
                true
            }
            Ok(_) => {
                warn!("DNS resolution of {} gave no address.", peer.spec.endpoint);
                false
            }
            Err(e) => {
                warn!("DNS resolution of {} failed: {e}", peer.spec.endpoint);
                false
            }
        };
        if let Phase::Probing { queue, waiting, .. } = &mut self.phase {
            if let Some(i) = waiting.iter().position(|&(p, _)| p == index) {
                waiting.remove(i);
                if ok {
                    // next in line, as it was when its turn came
                    queue.push_front(index);
                }
            }
        }
    }

    /// Does what is due at `now` (`wall`: the wall clock at the same
    /// moment); returns when to call again. An error from the link leaves
    /// the interface in an unknown state: the caller cleans up, resets and
    /// starts again.
    pub fn step(
        &mut self,
        now: Instant,
        wall: SystemTime,
        link: &mut dyn Link,
        rng: &mut dyn Rng,
    ) -> io::Result<Instant> {
        loop {
            match self.phase {
                Phase::Idle => return Ok(now + self.params.watch_interval),
                Phase::Backoff { until } => {
                    if now < until {
                        return Ok(until);
                    }
                    self.start(now, rng);
                }
                Phase::Probing { .. } => return self.probe_step(now, wall, link, rng),
                Phase::Established { .. } => {
                    if let Some(next) = self.watch_step(now, wall, link)? {
                        return Ok(next);
                    }
                    // lost: a new round right away
                    self.start(now, rng);
                }
            }
        }
    }

    fn probe_step(
        &mut self,
        now: Instant,
        wall: SystemTime,
        link: &mut dyn Link,
        rng: &mut dyn Rng,
    ) -> io::Result<Instant> {
        let params = self.params.clone();
        let Phase::Probing {
            queue,
            active,
            waiting,
            next_launch,
            started,
            silent,
        } = &mut self.phase
        else {
            unreachable!("probe_step outside probing")
        };

        // 1. a handshake?
        if !active.is_empty() {
            let handshakes = link.handshakes()?;
            let done = |c: &Candidate| {
                let key = self.peers[c.peer].spec.public_key;
                handshakes
                    .iter()
                    .find(|(k, _)| *k == key)
                    .and_then(|(_, h)| *h)
            };
            let winner = active
                .iter()
                .filter_map(|c| done(c).map(|h| (c.clone(), h)))
                .min_by_key(|(c, _)| c.since);
            if let Some((winner, handshake)) = winner {
                for c in active.iter().filter(|c| c.peer != winner.peer) {
                    link.remove(&self.peers[c.peer].spec, false)?;
                    debug!("Removed candidate {}.", self.peers[c.peer].spec.name);
                }
                let spec = &self.peers[winner.peer].spec;
                link.promote(spec)?;
                info!(
                    "Connection established with {} ({}) after {}.",
                    spec.name,
                    winner.endpoint,
                    secs(now.saturating_duration_since(*started))
                );
                let at = monotonic(now, wall, handshake);
                self.phase = Phase::Established {
                    peer: winner.peer,
                    since: at,
                    handshake: Some(handshake),
                    handshake_at: at,
                };
                self.failures = 0;
                self.lost = None;
                return Ok((now + params.watch_interval).min(at + params.established_timeout));
            }
            // a candidate that vanished (someone removed it) has failed
            let present = |c: &Candidate| {
                let key = self.peers[c.peer].spec.public_key;
                handshakes.iter().any(|(k, _)| *k == key)
            };
            active.retain(|c| {
                let keep = present(c);
                if !keep {
                    debug!("Candidate {} was removed.", self.peers[c.peer].spec.name);
                    silent.push(c.peer);
                }
                keep
            });
        }

        // 2. candidates that had their time
        let mut i = 0;
        while i < active.len() {
            if now >= active[i].since + params.probe_timeout {
                let c = active.remove(i);
                let spec = &self.peers[c.peer].spec;
                link.remove(spec, false)?;
                debug!(
                    "No handshake with {} at {} within {}.",
                    spec.name,
                    c.endpoint,
                    secs(params.probe_timeout)
                );
                silent.push(c.peer);
            } else {
                i += 1;
            }
        }

        // 3. the next candidates, if it is time
        while now >= *next_launch && active.len() < params.parallel.max(1) {
            let Some(p) = queue.pop_front() else { break };
            match self.peers[p].next_remote(rng) {
                Remote::Ready(endpoint) => {
                    let spec = &self.peers[p].spec;
                    link.probe(spec, endpoint, params.probe_keepalive)?;
                    debug!("Probing {} at {}.", spec.name, endpoint);
                    active.push(Candidate {
                        peer: p,
                        endpoint,
                        since: now,
                    });
                    *next_launch = now + params.probe_interval;
                }
                Remote::Resolve(host, port) => {
                    // resolving does not hold up the others
                    if !self.peers[p].resolving {
                        self.peers[p].resolving = true;
                        link.resolve(p, &host, port);
                    }
                    waiting.push((p, now));
                }
            }
        }

        // names that take too long to resolve are left out of this round
        // (the resolver goes on; its answer is kept for the next one)
        waiting.retain(|&(p, since)| {
            let keep = now < since + params.probe_timeout;
            if !keep {
                warn!(
                    "DNS resolution of {} takes too long; skipping it this round.",
                    self.peers[p].spec.endpoint
                );
            }
            keep
        });

        // 4. nobody answered
        if queue.is_empty() && active.is_empty() && waiting.is_empty() {
            let names: Vec<String> = silent
                .iter()
                .map(|&p| self.peers[p].spec.name.clone())
                .collect();
            self.failures += 1;
            let delay = self.backoff(rng);
            if names.is_empty() {
                info!("No peer could be tried; trying again in {}.", secs(delay));
            } else {
                info!(
                    "No answer from {}; trying again in {}.",
                    names.join(", "),
                    secs(delay)
                );
            }
            self.phase = Phase::Backoff { until: now + delay };
            return Ok(now + delay);
        }

        // 5. when to look again
        let Phase::Probing {
            queue,
            active,
            waiting,
            next_launch,
            ..
        } = &self.phase
        else {
            unreachable!()
        };
        let mut next = now + params.watch_interval;
        if !active.is_empty() {
            next = next.min(now + params.poll_interval);
        }
        // an answer wakes the daemon; this is only the deadline
        for (_, since) in waiting {
            next = next.min(*since + params.probe_timeout);
        }
        if !queue.is_empty() && active.len() < params.parallel.max(1) {
            next = next.min(*next_launch);
        }
        for c in active {
            next = next.min(c.since + params.probe_timeout);
        }
        Ok(next.max(now))
    }

    /// `None` when the connection was lost (and its peer removed).
    fn watch_step(
        &mut self,
        now: Instant,
        wall: SystemTime,
        link: &mut dyn Link,
    ) -> io::Result<Option<Instant>> {
        let params = &self.params;
        let Phase::Established {
            peer,
            handshake,
            handshake_at,
            ..
        } = &mut self.phase
        else {
            unreachable!("watch_step outside established")
        };
        let peer = *peer;
        let spec = &self.peers[peer].spec;
        let handshakes = link.handshakes()?;
        let Some((_, latest)) = handshakes.iter().find(|(k, _)| *k == spec.public_key) else {
            info!(
                "Connection to {} lost: the peer was removed from the interface.",
                spec.name
            );
            // its routes may still be there
            link.remove(spec, true)?;
            self.lost = Some(peer);
            return Ok(None);
        };
        if *latest != *handshake {
            *handshake = *latest;
            if let Some(h) = latest {
                *handshake_at = monotonic(now, wall, *h);
            }
        }
        let stale_at = *handshake_at + params.established_timeout;
        if now >= stale_at {
            link.remove(spec, true)?;
            info!(
                "Connection to {} lost: no handshake for {}.",
                spec.name,
                secs(now - *handshake_at)
            );
            self.lost = Some(peer);
            return Ok(None);
        }
        Ok(Some((now + params.watch_interval).min(stale_at)))
    }

    fn backoff(&mut self, rng: &mut dyn Rng) -> Duration {
        let exp = self.failures.saturating_sub(1).min(16);
        let full = self
            .params
            .backoff_min
            .saturating_mul(1 << exp)
            .min(self.params.backoff_max);
        let ms = full.as_millis().min(u128::from(u32::MAX)) as u32;
        let half = ms / 2;
        Duration::from_millis(u64::from(half + rng.below(ms - half + 1)))
    }

    /// The original's status document (what `ubus call wgpeerselector.<if>
    /// status` returns): every peer by name, `{"established": SECONDS}` for
    /// the connected one, `[]` for the others — libubus-lua sends the
    /// original's empty Lua table as an empty array, and Gluon's status page
    /// and respondd consumers expect exactly that.
    pub fn status(&self, now: Instant) -> Status<'_> {
        let peers = self
            .peers
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let established = match &self.phase {
                    Phase::Established { peer, since, .. } if *peer == i => {
                        Some(now.saturating_duration_since(*since).as_secs())
                    }
                    _ => None,
                };
                (p.spec.name.as_str(), established)
            })
            .collect();
        Status { peers }
    }

    /// [`Selector::status`] as JSON, as the status socket serves it.
    pub fn status_json(&self, now: Instant) -> String {
        self.status(now).to_json()
    }
}

/// The status document: each peer's name, in the configuration's order, and
/// for the connected one the seconds since its connection was established.
/// Written as JSON for the status socket ([`Status::to_json`]) and as
/// blobmsg for ubus ([`crate::blob::status`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status<'a> {
    pub peers: Vec<(&'a str, Option<u64>)>,
}

impl Status<'_> {
    /// `{"peers":{"gw1":[],"gw2":{"established":42}}}`
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"peers\":{");
        for (i, (name, established)) in self.peers.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_string(&mut out, name);
            out.push(':');
            match established {
                Some(secs) => out.push_str(&format!("{{\"established\":{secs}}}")),
                None => out.push_str("[]"),
            }
        }
        out.push_str("}}");
        out
    }
}

/// Appends `s` as a JSON string.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix;
    use std::collections::HashMap;

    fn key(n: u8) -> Key {
        Key([n; 32])
    }

    fn spec(n: u8, endpoint: &str) -> PeerSpec {
        PeerSpec {
            name: format!("gw{n}"),
            public_key: key(n),
            endpoint: endpoint.parse().unwrap(),
            allowed_ips: vec!["fe80::1/128".parse().unwrap()],
            persistent_keepalive: 0,
        }
    }

    /// Gateways that answer a probe after a delay, or never.
    #[derive(Default)]
    struct FakeLink {
        now: Option<Instant>,
        wall0: Option<(Instant, SystemTime)>,
        answer_after: HashMap<Key, Duration>,
        installed: HashMap<Key, (Instant, Option<SystemTime>)>,
        promoted: Vec<Key>,
        log: Vec<String>,
        resolves: Vec<(usize, String)>,
    }

    impl FakeLink {
        fn wall(&self, t: Instant) -> SystemTime {
            let (i0, w0) = self.wall0.unwrap();
            w0 + (t - i0)
        }
    }

    impl Link for FakeLink {
        fn handshakes(&mut self) -> io::Result<Vec<(Key, Option<SystemTime>)>> {
            let now = self.now.unwrap();
            let mut out = Vec::new();
            let keys: Vec<Key> = self.installed.keys().copied().collect();
            for k in keys {
                let (since, mut h) = self.installed[&k];
                if h.is_none() {
                    if let Some(d) = self.answer_after.get(&k) {
                        if now >= since + *d {
                            h = Some(self.wall(since + *d));
                            self.installed.insert(k, (since, h));
                        }
                    }
                }
                out.push((k, h));
            }
            Ok(out)
        }
        fn probe(&mut self, p: &PeerSpec, ep: SocketAddr, ka: u16) -> io::Result<()> {
            assert_eq!(ka, 1);
            self.installed
                .insert(p.public_key, (self.now.unwrap(), None));
            self.log.push(format!("probe {} {ep}", p.name));
            Ok(())
        }
        fn promote(&mut self, p: &PeerSpec) -> io::Result<()> {
            self.promoted.push(p.public_key);
            self.log.push(format!("promote {}", p.name));
            Ok(())
        }
        fn remove(&mut self, p: &PeerSpec, promoted: bool) -> io::Result<()> {
            self.installed.remove(&p.public_key);
            self.log.push(format!("remove {} {promoted}", p.name));
            Ok(())
        }
        fn resolve(&mut self, index: usize, host: &str, port: u16) {
            self.resolves.push((index, format!("{host}:{port}")));
        }
    }

    /// Runs the selector until `until` (or until `stop`), returning the time.
    fn run(
        sel: &mut Selector,
        link: &mut FakeLink,
        rng: &mut dyn Rng,
        from: Instant,
        until: Instant,
        stop: impl Fn(&Selector) -> bool,
    ) -> Instant {
        let mut t = from;
        while t < until {
            link.now = Some(t);
            let wall = link.wall(t);
            let next = sel.step(t, wall, link, rng).unwrap();
            if stop(sel) {
                return t;
            }
            assert!(next >= t);
            t = next.max(t + Duration::from_millis(1));
        }
        t
    }

    /// [`run`] until a gateway is established, for at most `within`.
    fn until_established(
        sel: &mut Selector,
        link: &mut FakeLink,
        rng: &mut dyn Rng,
        from: Instant,
        within: Duration,
    ) -> Instant {
        run(sel, link, rng, from, from + within, |s| {
            s.established().is_some()
        })
    }

    fn setup(n: u8) -> (Selector, FakeLink, Instant) {
        let peers = (1..=n)
            .map(|i| spec(i, &format!("198.18.0.{i}:5100{i}")))
            .collect();
        let t0 = Instant::now();
        let link = FakeLink {
            wall0: Some((t0, SystemTime::now())),
            ..FakeLink::default()
        };
        (Selector::new(peers, Params::default()), link, t0)
    }

    #[test]
    fn the_live_gateway_wins_and_the_others_go() {
        let (mut sel, mut link, t0) = setup(4);
        link.answer_after.insert(key(3), Duration::from_millis(30));
        let mut rng = SplitMix(1);
        sel.start(t0, &mut rng);
        let t = until_established(&mut sel, &mut link, &mut rng, t0, Duration::from_secs(30));
        assert_eq!(sel.established().unwrap().name, "gw3");
        // at most 3 dead ones before it, 200 ms apart, plus its 30 ms and a poll
        assert!(
            t - t0 <= Duration::from_millis(3 * 200 + 30 + 50),
            "{:?}",
            t - t0
        );
        assert_eq!(link.promoted, vec![key(3)]);
        assert_eq!(link.installed.len(), 1, "{:?}", link.log);
        assert!(link.installed.contains_key(&key(3)));
        let json = sel.status_json(t + Duration::from_secs(7));
        assert!(json.contains("\"gw3\":{\"established\":7}"), "{json}");
        assert!(json.contains("\"gw1\":[]"), "{json}");
    }

    #[test]
    fn the_earliest_started_of_several_answers_wins() {
        let (mut sel, mut link, t0) = setup(4);
        // everyone answers, slowly: several handshakes are seen at once
        for i in 1..=4 {
            link.answer_after.insert(key(i), Duration::from_millis(900));
        }
        let mut rng = SplitMix(5);
        sel.start(t0, &mut rng);
        let first = match &sel.phase {
            Phase::Probing { queue, .. } => queue[0],
            _ => unreachable!(),
        };
        until_established(&mut sel, &mut link, &mut rng, t0, Duration::from_secs(30));
        assert_eq!(sel.established().unwrap().name, sel.peers[first].spec.name);
        assert_eq!(link.installed.len(), 1);
    }

    #[test]
    fn nobody_answers_then_back_off_then_retry() {
        let (mut sel, mut link, t0) = setup(3);
        let mut rng = SplitMix(9);
        sel.start(t0, &mut rng);
        let t = run(
            &mut sel,
            &mut link,
            &mut rng,
            t0,
            t0 + Duration::from_secs(60),
            |s| matches!(s.phase, Phase::Backoff { .. }),
        );
        // all three tried, each removed after 5.5 s
        assert_eq!(
            link.log.iter().filter(|l| l.starts_with("probe")).count(),
            3
        );
        assert!(link.installed.is_empty());
        assert_eq!(t - t0, Duration::from_millis(2 * 200 + 5500));
        let Phase::Backoff { until } = sel.phase else {
            unreachable!()
        };
        assert!(until - t >= Duration::from_secs(1) && until - t <= Duration::from_secs(2));
        // a gateway comes back; the next round finds it
        link.answer_after.insert(key(2), Duration::from_millis(10));
        until_established(&mut sel, &mut link, &mut rng, t, Duration::from_secs(60));
        assert_eq!(sel.established().unwrap().name, "gw2");
        assert_eq!(sel.failures, 0);
    }

    #[test]
    fn back_off_grows_to_its_bound() {
        let (mut sel, _, _) = setup(1);
        let mut rng = SplitMix(3);
        let mut last = Duration::ZERO;
        for failures in 1..=12 {
            sel.failures = failures;
            let d = sel.backoff(&mut rng);
            let full = Duration::from_secs(2 * (1u64 << (failures - 1)).min(30));
            assert!(d >= full / 2 && d <= full, "{failures}: {d:?}");
            if failures > 6 {
                assert!(d >= Duration::from_secs(30));
            }
            last = d;
        }
        assert!(last <= Duration::from_secs(60));
    }

    #[test]
    fn a_stale_connection_is_dropped_and_the_lost_gateway_tried_last() {
        let (mut sel, mut link, t0) = setup(2);
        link.answer_after.insert(key(1), Duration::from_millis(10));
        link.answer_after.insert(key(2), Duration::from_millis(10));
        let mut rng = SplitMix(11);
        sel.start(t0, &mut rng);
        let t = until_established(&mut sel, &mut link, &mut rng, t0, Duration::from_secs(5));
        let first = sel.established().unwrap().public_key;
        // no new handshake: lost 150 s after the first
        let t = run(
            &mut sel,
            &mut link,
            &mut rng,
            t,
            t + Duration::from_secs(200),
            |s| s.established().is_none(),
        );
        let hs = link.wall(t0) + Duration::from_millis(10);
        let age = link.wall(t).duration_since(hs).unwrap();
        assert!(
            age >= Duration::from_secs(150) && age < Duration::from_secs(151),
            "{age:?}"
        );
        assert!(link.log.contains(&format!(
            "remove {} true",
            sel.peers
                .iter()
                .find(|p| p.spec.public_key == first)
                .unwrap()
                .spec
                .name
        )));
        // the other one first now
        match &sel.phase {
            Phase::Probing { queue, active, .. } => {
                assert_eq!(
                    sel.peers[active[0].peer].spec.public_key,
                    if first == key(1) { key(2) } else { key(1) }
                );
                assert!(queue.iter().all(|&p| sel.peers[p].spec.public_key == first));
            }
            _ => panic!("not probing"),
        }
    }

    #[test]
    fn renewed_handshakes_keep_it_and_clock_steps_do_not_matter() {
        let (mut sel, mut link, t0) = setup(1);
        link.answer_after.insert(key(1), Duration::from_millis(10));
        let mut rng = SplitMix(2);
        sel.start(t0, &mut rng);
        let mut t = until_established(&mut sel, &mut link, &mut rng, t0, Duration::from_secs(5));
        // renew the handshake every 120 s for 10 minutes; step the wall
        // clock by a year at 300 s
        let mut renewed = t;
        while t < t0 + Duration::from_secs(600) {
            if t - renewed >= Duration::from_secs(120) {
                renewed = t;
                let wall = link.wall(t);
                link.installed.insert(key(1), (t0, Some(wall)));
            }
            if t >= t0 + Duration::from_secs(300) && link.wall0.unwrap().0 == t0 {
                link.wall0 = Some((
                    t0 + Duration::from_secs(1),
                    link.wall(t0) + Duration::from_secs(365 * 86400),
                ));
            }
            link.now = Some(t);
            let next = sel.step(t, link.wall(t), &mut link, &mut rng).unwrap();
            assert!(sel.established().is_some(), "lost at {:?}", t - t0);
            t = next;
        }
        let json = sel.status_json(t);
        let secs: u64 = json
            .split("\"established\":")
            .nth(1)
            .and_then(|rest| rest.split('}').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{json}"));
        assert!((599..=601).contains(&secs), "{json}");
    }

    #[test]
    fn names_are_resolved_without_holding_up_the_others() {
        let peers = vec![
            spec(1, "gw1.test:51001"),
            spec(2, "198.18.0.2:51002"),
            spec(3, "gw3.test:51003"),
        ];
        let t0 = Instant::now();
        let mut link = FakeLink {
            wall0: Some((t0, SystemTime::now())),
            ..FakeLink::default()
        };
        link.answer_after.insert(key(1), Duration::from_millis(20));
        let mut sel = Selector::new(peers, Params::default());
        let mut rng = SplitMix(4);
        // an order with both names first
        loop {
            sel.start(t0, &mut rng);
            if let Phase::Probing { queue, .. } = &sel.phase {
                if queue[2] == 1 {
                    break;
                }
            }
        }
        link.now = Some(t0);
        sel.step(t0, link.wall(t0), &mut link, &mut rng).unwrap();
        // both names asked for, the address probed at once
        assert_eq!(link.resolves.len(), 2);
        assert_eq!(link.log, vec!["probe gw2 198.18.0.2:51002"]);
        // gw3's name fails, gw1's resolves to two addresses
        let t1 = t0 + Duration::from_millis(100);
        sel.resolved(2, Err(io::Error::other("no such name")));
        sel.resolved(
            0,
            Ok(vec![
                "198.18.1.1:51001".parse().unwrap(),
                "[fd00::1]:51001".parse().unwrap(),
            ]),
        );
        let t = until_established(&mut sel, &mut link, &mut rng, t1, Duration::from_secs(10));
        assert_eq!(sel.established().unwrap().name, "gw1");
        assert!(
            t - t1 <= Duration::from_millis(200 + 20 + 50),
            "{:?}",
            t - t1
        );
        // the other address is next for gw1; after it, a new resolution
        assert_eq!(sel.peers[0].remotes.len(), 1);
        let mut rng2 = SplitMix(1);
        assert!(matches!(
            sel.peers[0].next_remote(&mut rng2),
            Remote::Ready(_)
        ));
        assert!(matches!(
            sel.peers[0].next_remote(&mut rng2),
            Remote::Resolve(..)
        ));
    }

    #[test]
    fn a_name_that_never_resolves_does_not_hold_up_the_round() {
        let t0 = Instant::now();
        let mut link = FakeLink {
            wall0: Some((t0, SystemTime::now())),
            ..FakeLink::default()
        };
        let mut sel = Selector::new(vec![spec(1, "gw1.test:51001")], Params::default());
        let mut rng = SplitMix(6);
        sel.start(t0, &mut rng);
        let t = run(
            &mut sel,
            &mut link,
            &mut rng,
            t0,
            t0 + Duration::from_secs(30),
            |s| matches!(s.phase, Phase::Backoff { .. }),
        );
        assert_eq!(link.resolves.len(), 1);
        assert_eq!(t - t0, Duration::from_millis(5500));
        // the late answer is kept for the next round
        sel.resolved(0, Ok(vec!["198.18.0.1:51001".parse().unwrap()]));
        assert_eq!(sel.peers[0].remotes.len(), 1);
    }

    #[test]
    fn one_at_a_time_with_parallel_1() {
        let (mut sel, mut link, t0) = setup(3);
        sel.params.parallel = 1;
        let mut rng = SplitMix(8);
        sel.start(t0, &mut rng);
        let order = match &sel.phase {
            Phase::Probing { queue, .. } => queue.clone(),
            _ => unreachable!(),
        };
        let last = sel.peers[order[2]].spec.public_key;
        link.answer_after.insert(last, Duration::from_millis(10));
        let t = until_established(&mut sel, &mut link, &mut rng, t0, Duration::from_secs(60));
        // two dead ones of 5.5 s each before it
        assert!(t - t0 >= Duration::from_secs(11) && t - t0 <= Duration::from_millis(11_100));
    }

    #[test]
    fn status_escapes_names() {
        let mut p = spec(1, "198.18.0.1:1");
        p.name = "a\"b\\c".into();
        let sel = Selector::new(vec![p], Params::default());
        assert_eq!(
            sel.status_json(Instant::now()),
            r#"{"peers":{"a\"b\\c":[]}}"#
        );
    }
}
