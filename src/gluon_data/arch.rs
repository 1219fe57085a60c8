//! What a Gluon target's CPU means for packages: OpenWrt's package
//! architecture, the Rust target triple that openwrt/packages' Rust support
//! builds for it, and that triple's support tier in Rust.
//!
//! The facts come from the OpenWrt tree of a Gluon checkout after
//! `make update` (see [`extract`]):
//!
//! - `openwrt/tmp/.targetinfo`, which OpenWrt's `make prepare-tmpinfo` (run by
//!   Gluon's `make config`) writes from every `target/linux/<board>/Makefile`
//!   and `<board>/<subtarget>/target.mk`. The board Makefile sets `ARCH`,
//!   `CPU_TYPE`, `CPU_SUBTYPE` and `FEATURES`, the subtarget's target.mk may
//!   override them, and OpenWrt's include/target.mk derives the package
//!   architecture (`ARCH_PACKAGES`, else `ARCH_CPU_TYPE[_CPU_SUBTYPE]`, with
//!   per-ARCH CPU_TYPE defaults) and adds `arm_v6`/`arm_v7` from the kernel
//!   config. Reading the derived `Target-Arch`, `Target-Arch-Packages`,
//!   `Target-Features` and `CPU-Type` fields instead of the makefiles keeps
//!   all of that OpenWrt's business.
//! - `packages/packages/lang/rust/rust-values.mk` of the pinned packages feed,
//!   evaluated by GNU make: it turns OpenWrt's `REAL_GNU_TARGET_NAME` into
//!   `RUSTC_TARGET_ARCH` and lists the architectures Rust packages may be
//!   selected for (`RUST_ARCH_DEPENDS`).
//!
//! The tier is looked up in [`rust_tier`], a table typed from Rust's
//! platform support page.

use anyhow::{bail, ensure, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Per-target CPU facts, as stored in `targets/gluon-<release>.json`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TargetArch {
    /// OpenWrt's `ARCH` (`Target-Arch`), e.g. `mips`, `arm`, `x86_64`.
    pub openwrt_arch: String,
    /// `CPU-Type`: `CPU_TYPE[+CPU_SUBTYPE]`, e.g. `24kc`,
    /// `cortex-a7+neon-vfpv4`; empty when the target sets none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cpu_type: String,
    /// The package architecture (`Target-Arch-Packages`), e.g. `mips_24kc`:
    /// what opkg calls the architecture of the target's packages.
    pub package_arch: String,
    /// Whether openwrt/packages' Rust packages can be selected for this
    /// `ARCH` at all (`RUST_ARCH_DEPENDS` in rust-values.mk).
    pub rust_packages: bool,
    /// The triple rust-values.mk builds for (`RUSTC_TARGET_ARCH`), e.g.
    /// `mips-unknown-linux-musl`.
    pub rust_target: String,
    /// The triple's tier on Rust's platform support page (1, 2 or 3);
    /// absent for a triple the table does not know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust_tier: Option<u8>,
}

/// One `Target:` block of `.targetinfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetInfo {
    pub arch: String,
    pub arch_packages: String,
    pub cpu_type: String,
    pub features: Vec<String>,
}

/// The blocks of `openwrt/tmp/.targetinfo`, by `board/subtarget` (or
/// `board` for the board's own block).
pub fn parse_targetinfo(text: &str) -> BTreeMap<String, TargetInfo> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, TargetInfo)> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("Target: ") {
            if let Some((n, info)) = current.take() {
                out.insert(n, info);
            }
            current = Some((name.trim().to_string(), TargetInfo::default()));
            continue;
        }
        let Some((_, info)) = current.as_mut() else {
            continue;
        };
        let field = |prefix: &str| line.strip_prefix(prefix).map(|v| v.trim().to_string());
        if let Some(v) = field("Target-Arch-Packages:") {
            info.arch_packages = v;
        } else if let Some(v) = field("Target-Arch:") {
            info.arch = v;
        } else if let Some(v) = field("Target-Features:") {
            info.features = v.split_whitespace().map(str::to_string).collect();
        } else if let Some(v) = field("CPU-Type:") {
            info.cpu_type = v;
        }
    }
    if let Some((n, info)) = current {
        out.insert(n, info);
    }
    out
}

impl TargetInfo {
    fn has(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }

    /// OpenWrt's `REAL_GNU_TARGET_NAME` for a musl build (rules.mk):
    /// `$(OPTIMIZE_FOR_CPU)-openwrt-linux-$(TARGET_SUFFIX)`, where
    /// OPTIMIZE_FOR_CPU is ARCH with i386 spelled i486, TARGET_SUFFIX is
    /// `muslgnueabi` on arm/armeb and `musl` elsewhere (toolchain/Config.in),
    /// with `spe` appended for targets with the `spe_fpu` feature.
    pub fn real_gnu_target_name(&self) -> String {
        let cpu = if self.arch == "i386" {
            "i486"
        } else {
            self.arch.as_str()
        };
        let mut suffix = if self.arch == "arm" || self.arch == "armeb" {
            "muslgnueabi".to_string()
        } else {
            "musl".to_string()
        };
        if self.has("spe_fpu") {
            suffix.push_str("spe");
        }
        format!("{cpu}-openwrt-linux-{suffix}")
    }
}

/// What rust-values.mk says for one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustValues {
    /// `RUSTC_TARGET_ARCH`.
    pub target: String,
    /// The architectures of `RUST_ARCH_DEPENDS` (`@(aarch64||arm||…)`).
    pub arch_depends: Vec<String>,
}

/// Evaluates rust-values.mk with GNU make for one target: the Kconfig
/// symbols it tests (`CONFIG_arm_v6`, `CONFIG_arm_v7`, `CONFIG_HAS_FPU`,
/// `CONFIG_USE_MUSL`) are set from the target's features as OpenWrt's
/// target-metadata.pl selects them.
pub fn rust_values(rust_values_mk: &Path, info: &TargetInfo) -> Result<RustValues> {
    let path = rust_values_mk
        .canonicalize()
        .with_context(|| format!("cannot read {}", rust_values_mk.display()))?;
    let path_text = path.to_str().context("non-UTF-8 path")?;
    ensure!(
        !path_text.contains(char::is_whitespace),
        "{path_text}: make cannot include a path with spaces"
    );
    let yes = |f: &str| if info.has(f) { "y" } else { "" };
    let makefile = format!(
        "ARCH := {arch}\n\
         REAL_GNU_TARGET_NAME := {gnu}\n\
         CONFIG_USE_MUSL := y\n\
         CONFIG_arm_v6 := {v6}\n\
         CONFIG_arm_v7 := {v7}\n\
         CONFIG_HAS_FPU := {fpu}\n\
         HOST_OS := Linux\n\
         HOST_ARCH := x86_64\n\
         GNU_HOST_NAME := x86_64-pc-linux-gnu\n\
         include {path_text}\n\
         .DEFAULT_GOAL := gluonvpn-print\n\
         gluonvpn-print:\n\
         \t@printf '%s\\n%s\\n' '$(RUSTC_TARGET_ARCH)' '$(RUST_ARCH_DEPENDS)'\n",
        arch = info.arch,
        gnu = info.real_gnu_target_name(),
        v6 = yes("arm_v6"),
        v7 = yes("arm_v7"),
        fpu = yes("fpu"),
    );
    let output = run_make_stdin(&makefile)?;
    let mut lines = output.lines();
    let target = lines.next().unwrap_or("").trim().to_string();
    let depends = lines.next().unwrap_or("").trim().to_string();
    ensure!(
        !target.is_empty(),
        "{}: RUSTC_TARGET_ARCH is empty for ARCH {}",
        rust_values_mk.display(),
        info.arch
    );
    Ok(RustValues {
        target,
        arch_depends: parse_arch_depends(&depends).with_context(|| {
            format!(
                "{}: RUST_ARCH_DEPENDS is {depends:?}",
                rust_values_mk.display()
            )
        })?,
    })
}

fn run_make_stdin(makefile: &str) -> Result<String> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new("make")
        .args(["-s", "-r", "-R", "--no-print-directory", "-f", "-"])
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run make (GNU make is needed to read rust-values.mk)")?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(makefile.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "make failed on rust-values.mk: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `@(aarch64||arm||i386)` → `[aarch64, arm, i386]`.
pub fn parse_arch_depends(value: &str) -> Result<Vec<String>> {
    let inner = value
        .trim()
        .strip_prefix("@(")
        .and_then(|v| v.strip_suffix(')'))
        .with_context(|| format!("not of the form @(a||b||…): {value:?}"))?;
    let archs: Vec<String> = inner
        .split("||")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    ensure!(!archs.is_empty(), "no architectures in {value:?}");
    Ok(archs)
}

/// The facts for one target from its `.targetinfo` block and rust-values.mk.
pub fn target_arch(info: &TargetInfo, rust: &RustValues) -> TargetArch {
    TargetArch {
        openwrt_arch: info.arch.clone(),
        cpu_type: info.cpu_type.clone(),
        package_arch: info.arch_packages.clone(),
        rust_packages: rust.arch_depends.iter().any(|a| a == &info.arch),
        rust_target: rust.target.clone(),
        rust_tier: rust_tier(&rust.target),
    }
}

/// The tier of a Linux/musl triple on Rust's platform support page
/// (<https://doc.rust-lang.org/rustc/platform-support.html>, as of Rust
/// 1.90, the version openwrt/packages builds for Gluon v2025.1): tier 1
/// targets are tested, tier 2 targets are built by the Rust project (the
/// standard library ships prebuilt), tier 3 targets are supported in the
/// code base but neither built nor tested. Only the triples rust-values.mk
/// can produce for OpenWrt targets are listed; OpenWrt builds its own
/// standard library for any of them.
pub fn rust_tier(triple: &str) -> Option<u8> {
    Some(match triple {
        // Tier 2 with host tools.
        "aarch64-unknown-linux-musl"
        | "x86_64-unknown-linux-musl"
        | "loongarch64-unknown-linux-musl"
        | "powerpc64-unknown-linux-musl"
        | "powerpc64le-unknown-linux-musl" => 2,
        // Tier 2 without host tools.
        "arm-unknown-linux-musleabi"
        | "arm-unknown-linux-musleabihf"
        | "armv5te-unknown-linux-musleabi"
        | "armv7-unknown-linux-musleabi"
        | "armv7-unknown-linux-musleabihf"
        | "i586-unknown-linux-musl"
        | "i686-unknown-linux-musl"
        | "riscv64gc-unknown-linux-musl" => 2,
        // Tier 3 (MIPS left tier 2 in Rust 1.72).
        "mips-unknown-linux-musl"
        | "mipsel-unknown-linux-musl"
        | "mips64-openwrt-linux-musl"
        | "mips64-unknown-linux-muslabi64"
        | "mips64el-unknown-linux-muslabi64"
        | "powerpc-unknown-linux-musl"
        | "powerpc-unknown-linux-muslspe"
        | "aarch64_be-unknown-linux-musl" => 3,
        _ => return None,
    })
}

/// Whether the packages feed a Gluon release pins has Rust support
/// (`lang/rust/rust-package.mk`), without which the agents feed cannot
/// build: openwrt/packages 55eed17 (Gluon v2022.1.4) and 444cedf (v2023.1.2)
/// have no `lang/rust`; b52dfce (v2023.2.6, Rust 1.85) and 23abaa6
/// (v2025.1.3, Rust 1.90) have it. A site's `modules` can pin another
/// packages feed, so the build checks the updated tree as well.
pub fn packages_feed_has_rust(version: crate::gluon_version::GluonVersion) -> bool {
    version >= crate::gluon_version::GluonVersion::V2023_2
}

/// Whether gluonvpn's Rust agents go into a target's images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RustAgents {
    /// The packages feed's Rust builds for the target.
    Supported,
    /// It does not: the target keeps Gluon's own (Lua) agents.
    Unsupported(String),
}

/// Boards whose CPU the triple rust-values.mk picks does not fit, even
/// though Rust packages can be selected for their `ARCH`. Kept by board so
/// that it also applies to releases extracted without an OpenWrt tree.
const UNSUITABLE_BOARDS: &[(&str, &str)] = &[(
    "mpc85xx",
    "its e500v2 cores (powerpc_8548) have no classic PowerPC FPU, but rust-values.mk builds \
     for powerpc-unknown-linux-musl, a tier 3 Rust target that assumes one and whose standard \
     library is not known to work",
)];

/// The verdict for a target: `arch` when extracted, else only the board
/// table applies.
pub fn rust_agents(board: &str, arch: Option<&TargetArch>) -> RustAgents {
    if let Some((_, why)) = UNSUITABLE_BOARDS.iter().find(|(b, _)| *b == board) {
        return RustAgents::Unsupported(format!("{board}: {why}"));
    }
    match arch {
        Some(a) if !a.rust_packages => RustAgents::Unsupported(format!(
            "{board}: the packages feed's Rust support does not include ARCH {} \
             (RUST_ARCH_DEPENDS in lang/rust/rust-values.mk)",
            a.openwrt_arch
        )),
        _ => RustAgents::Supported,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGETINFO: &str = "\
Source-Makefile: target/linux/ath79/Makefile
Target: ath79
Target-Board: ath79
Target-Arch: mips
Target-Arch-Packages: mips_24kc
Target-Features: dt gpio mips16 ramdisk squashfs usbgadget
CPU-Type: 24kc
@@

Target: ath79/generic
Target-Board: ath79
Target-Name: Generic
Target-Arch: mips
Target-Arch-Packages: mips_24kc
Target-Features: dt gpio mips16 pci ramdisk squashfs usb usbgadget
Target-Depends: 
Target-Optimization: -Os -pipe -mno-branch-likely -mips32r2 -mtune=24kc
CPU-Type: 24kc
Target-Description:
\tBuild firmware images for generic Atheros AR71xx/AR913x/AR934x based boards.
@@

Target: ipq40xx/generic
Target-Arch: arm
Target-Arch-Packages: arm_cortex-a7_neon-vfpv4
Target-Features: arm_v7 dt emmc fpu gpio nand
CPU-Type: cortex-a7+neon-vfpv4
@@

Target: x86/legacy
Target-Arch: i386
Target-Arch-Packages: i386_pentium-mmx
Target-Features: boot-part fpu
CPU-Type: pentium-mmx
@@

Target: x86/64
Target-Arch: x86_64
Target-Arch-Packages: x86_64
Target-Features: boot-part fpu
CPU-Type: 
@@
";

    #[test]
    fn reads_the_derived_fields_of_targetinfo() {
        let t = parse_targetinfo(TARGETINFO);
        assert_eq!(
            t.keys().collect::<Vec<_>>(),
            [
                "ath79",
                "ath79/generic",
                "ipq40xx/generic",
                "x86/64",
                "x86/legacy"
            ]
        );
        let ath = &t["ath79/generic"];
        assert_eq!(ath.arch, "mips");
        assert_eq!(ath.arch_packages, "mips_24kc");
        assert_eq!(ath.cpu_type, "24kc");
        assert!(ath.has("pci") && !ath.has("fpu"));
        assert_eq!(t["x86/64"].cpu_type, "");
    }

    #[test]
    fn gnu_target_names_follow_rules_mk() {
        let t = parse_targetinfo(TARGETINFO);
        assert_eq!(
            t["ath79/generic"].real_gnu_target_name(),
            "mips-openwrt-linux-musl"
        );
        assert_eq!(
            t["ipq40xx/generic"].real_gnu_target_name(),
            "arm-openwrt-linux-muslgnueabi"
        );
        assert_eq!(
            t["x86/legacy"].real_gnu_target_name(),
            "i486-openwrt-linux-musl"
        );
        let spe = TargetInfo {
            arch: "powerpc".into(),
            features: vec!["spe_fpu".into()],
            ..TargetInfo::default()
        };
        assert_eq!(spe.real_gnu_target_name(), "powerpc-openwrt-linux-muslspe");
    }

    /// A rust-values.mk with the real file's variable names and mapping
    /// logic (openwrt/packages lang/rust/rust-values.mk), in small.
    const RUST_VALUES: &str = r#"
ifeq ($(ARCH),mips64)
  RUSTC_TARGET_ARCH:=$(REAL_GNU_TARGET_NAME)
else
  RUSTC_TARGET_ARCH:=$(subst openwrt,unknown,$(REAL_GNU_TARGET_NAME))
endif
RUSTC_TARGET_ARCH:=$(subst muslgnueabi,musleabi,$(RUSTC_TARGET_ARCH))
ifeq ($(ARCH),i386)
  RUSTC_TARGET_ARCH:=$(subst i486,i586,$(RUSTC_TARGET_ARCH))
else ifeq ($(ARCH),riscv64)
  RUSTC_TARGET_ARCH:=$(subst riscv64,riscv64gc,$(RUSTC_TARGET_ARCH))
endif
ifeq ($(ARCH),arm)
  ifeq ($(CONFIG_arm_v6)$(CONFIG_arm_v7),)
    RUSTC_TARGET_ARCH:=$(subst arm,armv5te,$(RUSTC_TARGET_ARCH))
  else ifeq ($(CONFIG_arm_v7),y)
    RUSTC_TARGET_ARCH:=$(subst arm,armv7,$(RUSTC_TARGET_ARCH))
  endif
  ifeq ($(CONFIG_HAS_FPU),y)
    RUSTC_TARGET_ARCH:=$(subst musleabi,musleabihf,$(RUSTC_TARGET_ARCH))
  endif
endif
RUST_ARCH_DEPENDS:=@(aarch64||arm||i386||mips||mipsel||x86_64)
CARGO_HOME:=$(DL_DIR)/cargo
"#;

    #[test]
    fn rust_values_are_evaluated_by_make() {
        let dir = tempfile::tempdir().unwrap();
        let mk = dir.path().join("rust-values.mk");
        std::fs::write(&mk, RUST_VALUES).unwrap();
        let t = parse_targetinfo(TARGETINFO);
        let cases = [
            ("ath79/generic", "mips-unknown-linux-musl", true, Some(3)),
            (
                "ipq40xx/generic",
                "armv7-unknown-linux-musleabihf",
                true,
                Some(2),
            ),
            ("x86/legacy", "i586-unknown-linux-musl", true, Some(2)),
            ("x86/64", "x86_64-unknown-linux-musl", true, Some(2)),
        ];
        for (name, triple, selectable, tier) in cases {
            let v = rust_values(&mk, &t[name]).unwrap();
            assert_eq!(v.target, triple, "{name}");
            let arch = target_arch(&t[name], &v);
            assert_eq!(arch.rust_packages, selectable, "{name}");
            assert_eq!(arch.rust_tier, tier, "{name}");
            assert_eq!(arch.package_arch, t[name].arch_packages);
        }
        let ppc = TargetInfo {
            arch: "powerpc".into(),
            arch_packages: "powerpc_8548".into(),
            cpu_type: "8548".into(),
            features: vec![],
        };
        let v = rust_values(&mk, &ppc).unwrap();
        assert_eq!(v.target, "powerpc-unknown-linux-musl");
        assert!(!target_arch(&ppc, &v).rust_packages);
    }

    #[test]
    fn arch_depends_syntax() {
        assert_eq!(
            parse_arch_depends("@(aarch64||arm)").unwrap(),
            ["aarch64", "arm"]
        );
        assert!(parse_arch_depends("aarch64").is_err());
        assert!(parse_arch_depends("@()").is_err());
    }

    #[test]
    fn agents_verdicts() {
        let arch = |rust_packages| TargetArch {
            openwrt_arch: "mips".into(),
            cpu_type: "24kc".into(),
            package_arch: "mips_24kc".into(),
            rust_packages,
            rust_target: "mips-unknown-linux-musl".into(),
            rust_tier: Some(3),
        };
        assert_eq!(
            rust_agents("ath79", Some(&arch(true))),
            RustAgents::Supported
        );
        assert_eq!(rust_agents("ath79", None), RustAgents::Supported);
        assert!(matches!(
            rust_agents("ath79", Some(&arch(false))),
            RustAgents::Unsupported(why) if why.contains("RUST_ARCH_DEPENDS")
        ));
        assert!(matches!(
            rust_agents("mpc85xx", None),
            RustAgents::Unsupported(why) if why.contains("FPU")
        ));
    }
}
