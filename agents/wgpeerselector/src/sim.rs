//! A simulation, without network, of many nodes choosing their first
//! gateway: the original's seeding (Lua's `math.random` seeded with the
//! clock in whole seconds) against the selector's decisions ([`Selector`],
//! the code the daemon runs) with the kernel's randomness.
//!
//! The original's first choice is its first `math.random(#peers)` after
//! `math.randomseed(os.time())`. OpenWrt's Lua 5.1 takes that from the C
//! library: musl's `rand()`, a 64-bit linear congruential generator
//! (`seed = 6364136223846793005 * seed + 1`, result `seed >> 33`, `srand(s)`
//! sets `seed = s - 1`), and Lua 5.1 turns it into `floor(r * n) + 1` with
//! `r = (rand() % RAND_MAX) / RAND_MAX`. Every node started in the same
//! second makes the same choice.

use crate::config::{Endpoint, PeerSpec};
use crate::log;
use crate::rng::Rng;
use crate::selector::{Link, Params, Selector};
use gluonvpn_wg::Key;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

/// musl's `rand()`.
#[derive(Clone, Debug)]
pub struct MuslRand(u64);

impl MuslRand {
    /// `srand(seed)`.
    pub fn seeded(seed: u32) -> Self {
        MuslRand(u64::from(seed.wrapping_sub(1)))
    }

    /// `rand()`: 0 to `RAND_MAX` (2³¹ − 1).
    pub fn rand(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (self.0 >> 33) as u32
    }

    /// Lua 5.1's `math.random(n)`: 1 to `n`.
    pub fn lua_random(&mut self, n: u32) -> u32 {
        const RAND_MAX: u32 = 0x7fff_ffff;
        let r = f64::from(self.rand() % RAND_MAX) / f64::from(RAND_MAX);
        (r * f64::from(n)).floor() as u32 + 1
    }
}

/// The gateway (from 0, in configuration order) the original tries first
/// when started at `unix_time` seconds.
pub fn original_first_choice(unix_time: u32, gateways: u32) -> u32 {
    MuslRand::seeded(unix_time).lua_random(gateways) - 1
}

/// First connections per gateway.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub counts: Vec<u32>,
    /// From start to the connection, per node (the selector only).
    pub times: Vec<Duration>,
}

impl Outcome {
    pub fn nodes(&self) -> u32 {
        self.counts.iter().sum()
    }

    /// Each gateway's share of the nodes, 0 to 1.
    pub fn shares(&self) -> Vec<f64> {
        let n = f64::from(self.nodes().max(1));
        self.counts.iter().map(|&c| f64::from(c) / n).collect()
    }

    /// The busiest gateway's share.
    pub fn busiest(&self) -> f64 {
        self.shares().into_iter().fold(0.0, f64::max)
    }

    pub fn mean_time(&self) -> Duration {
        if self.times.is_empty() {
            return Duration::ZERO;
        }
        self.times.iter().sum::<Duration>() / self.times.len() as u32
    }

    pub fn max_time(&self) -> Duration {
        self.times.iter().copied().max().unwrap_or_default()
    }
}

/// `nodes` nodes running the original, started evenly over `spread`
/// seconds from `first_start` (Unix time, with fraction): the gateways they
/// connect to when all are up.
pub fn simulate_original(nodes: u32, gateways: u32, first_start: f64, spread: f64) -> Outcome {
    let mut counts = vec![0; gateways as usize];
    for i in 0..nodes {
        let start = first_start + spread * f64::from(i) / f64::from(nodes);
        counts[original_first_choice(start.floor() as u32, gateways) as usize] += 1;
    }
    Outcome {
        counts,
        times: Vec::new(),
    }
}

/// A modelled gateway.
#[derive(Clone, Copy, Debug)]
pub struct Gateway {
    /// Round trip of a handshake (initiation out, response back).
    pub rtt: Duration,
    pub up: bool,
}

fn key(gateway: usize) -> Key {
    Key([gateway as u8 + 1; 32])
}

/// The interface of one simulated node: a probe's handshake completes one
/// round trip after it was installed, if the gateway is up.
struct SimLink<'a> {
    gateways: &'a [Gateway],
    /// This node's extra delay to each gateway.
    extra: Vec<Duration>,
    now: Instant,
    t0: Instant,
    wall0: SystemTime,
    installed: Vec<(usize, Instant)>,
}

impl SimLink<'_> {
    fn gateway_of(&self, peer: &PeerSpec) -> usize {
        usize::from(peer.public_key.0[0]) - 1
    }
}

impl Link for SimLink<'_> {
    fn handshakes(&mut self) -> io::Result<Vec<(Key, Option<SystemTime>)>> {
        Ok(self
            .installed
            .iter()
            .map(|&(g, since)| {
                let gw = self.gateways[g];
                let done = since + gw.rtt + self.extra[g];
                let hs = (gw.up && self.now >= done).then(|| self.wall0 + (done - self.t0));
                (key(g), hs)
            })
            .collect())
    }

    fn probe(&mut self, peer: &PeerSpec, _: SocketAddr, _: u16) -> io::Result<()> {
        let g = self.gateway_of(peer);
        self.installed.retain(|&(i, _)| i != g);
        self.installed.push((g, self.now));
        Ok(())
    }

    fn promote(&mut self, _: &PeerSpec) -> io::Result<()> {
        Ok(())
    }

    fn remove(&mut self, peer: &PeerSpec, _: bool) -> io::Result<()> {
        let g = self.gateway_of(peer);
        self.installed.retain(|&(i, _)| i != g);
        Ok(())
    }

    fn resolve(&mut self, _: usize, _: &str, _: u16) {
        unreachable!("the simulated gateways have addresses")
    }
}

/// The simulated gateways as the selector's peers.
pub fn peers(gateways: usize) -> Vec<PeerSpec> {
    (0..gateways)
        .map(|g| PeerSpec {
            name: format!("gw{}", g + 1),
            public_key: key(g),
            endpoint: Endpoint::Addr(SocketAddr::from(([198, 18, 0, g as u8 + 1], 51820))),
            allowed_ips: vec!["fe80::1/128".parse().expect("an allowed IP")],
            persistent_keepalive: 0,
        })
        .collect()
}

/// `nodes` nodes running the selector (its real decisions, [`Params`]'
/// defaults) against `gateways`, each node with its own extra delay of up to
/// `jitter` to each gateway and its own randomness from `rng`: where they
/// connect first, and how long that takes.
pub fn simulate_ours(
    nodes: u32,
    gateways: &[Gateway],
    jitter: Duration,
    rng: &mut dyn Rng,
) -> Outcome {
    log::silenced(|| simulate(nodes, gateways, jitter, rng))
}

fn simulate(nodes: u32, gateways: &[Gateway], jitter: Duration, rng: &mut dyn Rng) -> Outcome {
    let mut outcome = Outcome {
        counts: vec![0; gateways.len()],
        times: Vec::new(),
    };
    let t0 = Instant::now();
    let wall0 = SystemTime::now();
    let jitter_ms = jitter.as_millis() as u32;
    for _ in 0..nodes {
        let extra = gateways
            .iter()
            .map(|_| Duration::from_millis(u64::from(rng.below(jitter_ms + 1))))
            .collect();
        let mut link = SimLink {
            gateways,
            extra,
            now: t0,
            t0,
            wall0,
            installed: Vec::new(),
        };
        let mut selector = Selector::new(peers(gateways.len()), Params::default());
        selector.start(t0, rng);
        let mut t = t0;
        while t < t0 + Duration::from_secs(600) {
            link.now = t;
            let next = selector
                .step(t, wall0 + (t - t0), &mut link, rng)
                .expect("the simulated link does not fail");
            if let Some(peer) = selector.established() {
                outcome.counts[link.gateway_of(peer)] += 1;
                outcome.times.push(t - t0);
                break;
            }
            t = next.max(t + Duration::from_millis(1));
        }
    }
    outcome
}

/// The table the example and the test print.
pub fn table(rows: &[(&str, &Outcome)]) -> String {
    let gateways = rows.first().map_or(0, |(_, o)| o.counts.len());
    let mut out = format!("{:<52}", "");
    for g in 1..=gateways {
        out.push_str(&format!(" {:>6}", format!("gw{g}")));
    }
    out.push_str("  busiest\n");
    for (label, o) in rows {
        out.push_str(&format!("{label:<52}"));
        for s in o.shares() {
            out.push_str(&format!(" {:>5.1}%", s * 100.0));
        }
        out.push_str(&format!("  {:>5.1}%\n", o.busiest() * 100.0));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix;

    #[test]
    fn musl_rand_from_its_definition() {
        // srand(1) leaves seed 0: the first value is (0 * a + 1) >> 33 = 0;
        // the second is (a + 1) >> 33
        let mut r = MuslRand::seeded(1);
        assert_eq!(r.rand(), 0);
        assert_eq!(r.rand(), ((6_364_136_223_846_793_005u64 + 1) >> 33) as u32);
        // from musl's own rand() (the musl that Rust's x86_64-unknown-linux-musl
        // target links), called after srand(seed)
        for (seed, expected) in [
            (1, [0, 740_882_966, 1_616_430_695]),
            (1_764_000_000, [1_866_496_716, 44_307_054, 1_181_658_929]),
            (1_764_000_001, [459_896_035, 919_854_783, 1_274_078_189]),
            (0, [2_049_033_599, 2_025_915_578, 1_407_788_582]),
            (4_000_000_000, [1_358_663_489, 612_037_443, 134_135_141]),
        ] {
            let mut r = MuslRand::seeded(seed);
            assert_eq!([r.rand(), r.rand(), r.rand()], expected, "srand({seed})");
        }
        for s in [0, 1, 1_764_000_000, u32::MAX] {
            let mut r = MuslRand::seeded(s);
            for _ in 0..100 {
                let n = r.lua_random(4);
                assert!((1..=4).contains(&n));
            }
        }
    }

    #[test]
    fn same_second_same_gateway() {
        let o = simulate_original(1000, 4, 1_764_000_000.0, 0.999);
        assert_eq!(o.busiest(), 1.0);
    }

    #[test]
    fn ours_spreads_and_connects_fast() {
        let gateways = [Gateway {
            rtt: Duration::from_millis(30),
            up: true,
        }; 4];
        let o = simulate_ours(400, &gateways, Duration::from_millis(20), &mut SplitMix(1));
        assert_eq!(o.nodes(), 400);
        assert!(o.busiest() < 0.35, "{:?}", o.counts);
        assert!(
            o.max_time() < Duration::from_millis(200),
            "{:?}",
            o.max_time()
        );
    }
}
