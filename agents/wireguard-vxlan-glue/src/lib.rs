//! wireguard-vxlan-glue: on a Gluon gateway, keeps a VXLAN FDB entry and a
//! route for every WireGuard peer with a recent handshake — a drop-in for
//! freifunkh's Python daemon of the same name (same command line, same
//! config.json, same effects), polling every second instead of every ten,
//! reconciling against what the kernel has rather than what it remembers,
//! and talking rtnetlink itself.
//!
//! The binary (`main.rs`) is thin; the parts are here so that tests and the
//! benchmark use them directly:
//!
//! * [`cli`]: command line and config.json
//! * [`lladdr`]: a node's link-local address from its public key
//! * [`reconcile`]: desired against present, without a network
//! * [`rtnl`]: FDB and route dumps, batched changes
//! * [`glue`]: one round for one pair of interfaces, and the log
//! * [`signals`]: SIGTERM/SIGINT as the sleep between rounds

pub mod cli;
pub mod glue;
pub mod lladdr;
pub mod reconcile;
pub mod rtnl;
pub mod signals;
