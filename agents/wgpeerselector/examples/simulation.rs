//! Prints who gets the first connections when 1000 nodes start within one
//! second against 4 gateways: the original's seeding against the selector
//! (see tests/simulation.rs and the book's performance page).
//!
//! ```sh
//! cargo run --release -p gluonvpn-wgpeerselector --example simulation
//! ```

use gluonvpn_wgpeerselector::rng::OsRng;
use gluonvpn_wgpeerselector::sim::{self, Gateway, Outcome};
use std::time::Duration;

fn gateways(rtts: [u64; 4], down: usize) -> Vec<Gateway> {
    rtts.iter()
        .enumerate()
        .map(|(i, &ms)| Gateway {
            rtt: Duration::from_millis(ms),
            up: i >= down,
        })
        .collect()
}

fn main() {
    let nodes = 1000;
    let t0 = 1_764_000_000.0;
    let jitter = Duration::from_millis(30);
    let aligned = sim::simulate_original(nodes, 4, t0, 0.999);
    let straddling = sim::simulate_original(nodes, 4, t0 + 0.5, 0.999);
    let ours = sim::simulate_ours(nodes, &gateways([20, 35, 50, 80], 0), jitter, &mut OsRng);
    let slow = sim::simulate_ours(nodes, &gateways([20, 35, 50, 400], 0), jitter, &mut OsRng);
    let rows: [(&str, &Outcome); 4] = [
        ("original, all nodes in one whole second", &aligned),
        ("original, the window straddles two seconds", &straddling),
        ("wgpeerselector (Rust), RTT 20/35/50/80 ms", &ours),
        ("wgpeerselector (Rust), gw4 at 400 ms RTT", &slow),
    ];
    println!("{nodes} nodes starting within one second, 4 gateways, share of first connections:\n");
    println!("{}", sim::table(&rows));
    let down = sim::simulate_ours(nodes, &gateways([20, 35, 50, 80], 3), jitter, &mut OsRng);
    println!(
        "3 of 4 gateways down: start to connection, mean {} ms, max {} ms (simulated; the original: 5 s per dead gateway tried)",
        down.mean_time().as_millis(),
        down.max_time().as_millis()
    );
}
