//! `wgpeerselector` for Gluon nodes, in Rust: keeps a WireGuard interface
//! connected to one of several gateways — a drop-in replacement for the
//! Lua original in freifunk-gluon/packages (net/wgpeerselector), with the
//! same command line, UCI configuration, notion of "established" (a
//! handshake younger than 150 s), time synchronisation before connecting,
//! cleanup and status document, and a faster, fairer choice of gateway:
//! candidates are probed several at a time (see [`selector`]) in an order
//! from the kernel's randomness (see [`rng`]).
//!
//! The binary is thin ([`cli`] → [`daemon`]); the decisions are in
//! [`selector`], free of I/O, so that [`sim`] can run a thousand nodes
//! against modelled gateways in milliseconds.
//!
//! No async runtime: one thread polls, short-lived threads resolve names
//! and ask NTP servers. Nothing uses 64-bit atomics (32-bit MIPS routers
//! have none).
//!
//! With the cargo feature `ubus` (for OpenWrt) the status is also on ubus,
//! as the original has it: module `ubus`, with [`blob`] for the message.

pub mod log;

pub mod blob;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod ntp;
pub mod rng;
pub mod route;
pub mod selector;
pub mod sim;
#[cfg(feature = "ubus")]
pub mod ubus;
pub mod uci;
