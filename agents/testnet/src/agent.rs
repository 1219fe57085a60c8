//! How a test runs an agent binary: as cargo built it, or, for the emulated
//! runs of `.ci/cross` (book: Performance, "On the routers' CPUs"), a
//! cross-built binary under qemu-user.
//!
//! - `GLUONVPN_AGENT_RUNNER`: a command put in front of the binary, split at
//!   whitespace, e.g. `qemu-mips-static -L /path/to/sysroot`. With a test
//!   binary that itself runs under qemu-user, the agent's binary is of the
//!   same architecture and the kernel cannot exec it without the runner.
//! - `GLUONVPN_AGENT_DIR`: a directory holding cross-built agents; the binary
//!   of the same file name there replaces cargo's. The test binary stays
//!   native (its namespaces, wireguard-go and netlink all on the host), and
//!   only the agent runs emulated.

use std::path::Path;

/// The command line that runs the agent binary `built` (`CARGO_BIN_EXE_*`).
pub fn agent_command(built: &str) -> Vec<String> {
    let mut command: Vec<String> = std::env::var("GLUONVPN_AGENT_RUNNER")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let binary = match (
        std::env::var_os("GLUONVPN_AGENT_DIR"),
        Path::new(built).file_name(),
    ) {
        (Some(dir), Some(name)) => Path::new(&dir).join(name).display().to_string(),
        _ => built.to_string(),
    };
    command.push(binary);
    command
}
