//! The names a gateway's files give interfaces and instances: defaults
//! that cannot collide, and one register that refuses two meshes on one
//! name.
//!
//! A default name is the prefix and the domain code when that is a valid
//! interface name of at most 15 bytes (`bat-nord`, `vpn-nord`); otherwise
//! the prefix, the code's first characters (as far as they are letters,
//! digits, `_` and `-`), `-` and six hex digits of a hash of the whole
//! code: `hannover_dom10` and `hannover_dom11` become `bat-hann-0b7fe4`
//! and `bat-hann-0a7e53`. The hash is FNV-1a (32 bits, of the code's
//! bytes, lowest 24 bits), so a domain's names are the same on every
//! gateway and in every release of gluonvpn, whichever other domains a
//! gateway serves.
//!
//! Every name a render uses is claimed in a [`Register`] by its owner (the
//! mesh or instance it belongs to): the same name for two owners is an
//! error naming both and the inventory key that sets it.

use super::super::{invalid, RenderError};
use crate::render::inventory::rules;
use std::collections::BTreeMap;

/// How many hex digits of the hash a shortened name carries.
const HASH_DIGITS: usize = 6;

/// FNV-1a, 32 bits: small, stable and well known; collisions among a
/// site's domains are caught by the [`Register`] anyway.
fn fnv1a(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for &b in bytes {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// The short hash of a code: six lower-case hex digits.
pub fn code_hash(code: &str) -> String {
    format!("{:06x}", fnv1a(code.as_bytes()) & 0x00ff_ffff)
}

/// The default interface name for `code` with `prefix` (see the module
/// documentation). `prefix` is at most 6 bytes of interface-name
/// characters.
pub fn interface_name(prefix: &str, code: &str) -> String {
    let readable = format!("{prefix}{code}");
    if rules::interface_name(&readable).is_ok() {
        return readable;
    }
    let room = rules::IFNAME_MAX - prefix.len() - 1 - HASH_DIGITS;
    let head: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(room)
        .collect();
    let hash = code_hash(code);
    if head.is_empty() {
        format!("{prefix}{hash}")
    } else {
        format!("{prefix}{head}-{hash}")
    }
}

/// An instance name made from a code: the code when it is a valid instance
/// name, else its usable characters, `-` and the code's hash.
pub fn instance_name(code: &str) -> String {
    if rules::instance(code).is_ok() {
        return code.to_string();
    }
    let head: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .skip_while(|c| *c == '-')
        .take(40)
        .collect();
    let hash = code_hash(code);
    if head.is_empty() {
        format!("d{hash}")
    } else {
        format!("{head}-{hash}")
    }
}

/// Who uses a name, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The mesh or instance the name belongs to, e.g. `domain nord` or
    /// `domains ffmz, ffbin`.
    pub owner: String,
    /// What the name names, e.g. `batman-adv interface`.
    pub what: &'static str,
    /// The inventory key that sets it.
    pub key: &'static str,
    /// Whether the inventory gave it (else it is a default).
    pub given: bool,
}

/// The names of one render: each belongs to one owner.
#[derive(Default)]
pub struct Register {
    names: BTreeMap<String, Claim>,
}

impl Register {
    /// Claims `name`; claiming it again for the same owner and purpose is
    /// fine (domains of one mesh share their batman-adv interface).
    pub fn claim(&mut self, name: &str, claim: Claim) -> Result<(), RenderError> {
        match self.names.get(name) {
            None => {
                self.names.insert(name.to_string(), claim);
                Ok(())
            }
            Some(held) if held.owner == claim.owner && held.what == claim.what => Ok(()),
            Some(held) => Err(invalid(collision(name, held, &claim))),
        }
    }

    /// Every name claimed, with its claim.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Claim)> {
        self.names.iter().map(|(n, c)| (n.as_str(), c))
    }
}

fn collision(name: &str, held: &Claim, claim: &Claim) -> String {
    let origin = |c: &Claim| {
        if c.given {
            format!("set by `{}` in the inventory", c.key)
        } else {
            format!("the default; `{}` in the inventory sets another", c.key)
        }
    };
    format!(
        "interface name `{name}` would be used twice: for the {} of {} ({}) and for the {} of {} ({}); one name must not join two meshes: give them distinct names",
        held.what,
        held.owner,
        origin(held),
        claim.what,
        claim.owner,
        origin(claim)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_test_vectors() {
        // from the FNV reference (draft-eastlake-fnv)
        assert_eq!(fnv1a(b""), 0x811c_9dc5);
        assert_eq!(fnv1a(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn names_fit_and_differ() {
        assert_eq!(interface_name("bat-", "nord"), "bat-nord");
        assert_eq!(interface_name("bat-", "ffddorf_dom1"), {
            let n = interface_name("bat-", "ffddorf_dom1");
            assert_eq!(n.len(), 15);
            n
        });
        let a = interface_name("bat-", "hannover_dom10");
        let b = interface_name("bat-", "hannover_dom11");
        assert_ne!(a, b);
        for name in [&a, &b] {
            assert!(rules::interface_name(name).is_ok(), "{name}");
            assert!(name.starts_with("bat-hann-"), "{name}");
        }
        // characters an interface name cannot have
        let odd = interface_name("vpn-", "a b");
        assert!(rules::interface_name(&odd).is_ok(), "{odd}");
        assert_ne!(odd, interface_name("vpn-", "a_b"));
        assert!(rules::interface_name(&interface_name("wg-", "äöü")).is_ok());
        assert_eq!(instance_name("ffmz"), "ffmz");
        assert!(rules::instance(&instance_name(".x")).is_ok());
        assert!(rules::instance(&instance_name("ä")).is_ok());
    }

    #[test]
    fn a_name_has_one_owner() {
        let mut register = Register::default();
        let claim = |owner: &str, given| Claim {
            owner: owner.into(),
            what: "batman-adv interface",
            key: "batman",
            given,
        };
        register.claim("bat0", claim("domain a", false)).unwrap();
        register.claim("bat0", claim("domain a", false)).unwrap();
        let e = register.claim("bat0", claim("domain b", true)).unwrap_err();
        let e = e.to_string();
        assert!(e.contains("domain a") && e.contains("domain b"), "{e}");
        assert!(e.contains("`batman`"), "{e}");
    }
}
