//! Randomness for the order in which gateways are tried, the choice among a
//! name's addresses and the jitter of back-off delays.
//!
//! The original seeds Lua's `math.random` with the clock in whole seconds,
//! so nodes that start in the same second (after a power cut, a firmware
//! rollout, a gateway restart) try the gateways in the same order and crowd
//! onto the same one. The selector asks the kernel instead (`getrandom(2)`,
//! through the `getrandom` crate), which differs on every node.

/// A source of random numbers.
pub trait Rng {
    fn next_u32(&mut self) -> u32;

    /// A uniform number in `0..n` (`n` > 0), without modulo bias.
    fn below(&mut self, n: u32) -> u32 {
        assert!(n > 0, "below(0)");
        // reject the top partial range so that every value is equally likely
        let zone = u32::MAX - (u32::MAX - n + 1) % n;
        loop {
            let x = self.next_u32();
            if x <= zone {
                return x % n;
            }
        }
    }
}

/// The operating system's randomness: `getrandom(2)`, or /dev/urandom on
/// kernels without it. At early boot `getrandom(2)` waits until the kernel's
/// generator is seeded (a second or less since Linux 5.4, which gathers
/// jitter entropy when someone waits) — WireGuard's handshakes need that
/// too.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRng;

impl Rng for OsRng {
    fn next_u32(&mut self) -> u32 {
        match getrandom::u32() {
            Ok(x) => x,
            // No randomness from the kernel at all: something is badly
            // wrong, but an order still has to be chosen. The process id and
            // the clock's nanoseconds differ between nodes far more than
            // whole seconds do.
            Err(_) => fallback(),
        }
    }
}

fn fallback() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut x = u64::from(nanos) ^ (u64::from(std::process::id()) << 32);
    // SplitMix64's finaliser
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (x ^ (x >> 31)) as u32
}

/// A deterministic generator for tests (SplitMix64).
#[derive(Clone, Debug)]
pub struct SplitMix(pub u64);

impl Rng for SplitMix {
    fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 32) as u32
    }
}

/// Shuffles in place (Fisher–Yates): every order equally likely.
pub fn shuffle<T>(items: &mut [T], rng: &mut dyn Rng) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u32 + 1) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_in_range_and_covers_it() {
        let mut rng = SplitMix(7);
        let mut seen = [0u32; 5];
        for _ in 0..5000 {
            seen[rng.below(5) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| (850..1150).contains(&n)), "{seen:?}");
        assert_eq!(rng.below(1), 0);
    }

    #[test]
    fn shuffles_are_permutations_and_vary() {
        let mut rng = OsRng;
        let mut firsts = [0u32; 4];
        for _ in 0..400 {
            let mut v = [0, 1, 2, 3];
            shuffle(&mut v, &mut rng);
            let mut sorted = v;
            sorted.sort();
            assert_eq!(sorted, [0, 1, 2, 3]);
            firsts[v[0]] += 1;
        }
        // each first with probability 1/4: 100 ± 8.7; 40 is 7 sigma away
        assert!(firsts.iter().all(|&n| n > 40), "{firsts:?}");
    }
}
