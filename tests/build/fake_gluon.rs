//! A Gluon-like repository for the build tests, made with git.
//!
//! Its Makefile honours the interface of Gluon's real one: `list-targets`
//! (with `BROKEN=1`), `update` (the modules of `modules` and of the site's
//! `modules`, fetched into `packages/<feed>` at `PACKAGES_<FEED>_COMMIT` as
//! scripts/update.sh does), `make GLUON_TARGET=…` with `GLUON_SITEDIR`,
//! `GLUON_RELEASE` (site.mk's by default) and `GLUON_AUTOUPDATER_BRANCH`,
//! writing `output/images/{factory,sysupgrade}` and `output/packages`, and
//! `manifest`. Instead of compiling, a target's "images" record what the
//! build would have used: `GLUON_SITE_FEEDS`, the feeds' package Makefiles
//! and `features` files, the site's image-customization.lua and the files
//! it includes.
//!
//! Environment knobs for the tests: `FAKE_FAIL` (a target that fails),
//! `FAKE_NO_RUST` (the packages feed without `lang/rust`),
//! `FAKE_SLEEP_<target with _>` (seconds a target takes), `FAKE_TIMELINE`
//! (a file that gets a start and an end line per target), `FAKE_PIDS` (a
//! directory that gets each build's process id).

use std::path::Path;
use std::process::Command;

pub const TARGETS: &str = "x86-64 x86-generic ath79-generic ramips-mt7621 mpc85xx-p1010";
pub const BROKEN_TARGETS: &str = "bcm27xx-bcm2710";

const MAKEFILE: &str = r#"# A stand-in for Gluon's Makefile (gluonvpn's tests).
all:

GLUON_SITEDIR ?= site
override GLUON_SITEDIR := $(abspath $(GLUON_SITEDIR))

ifeq ($(realpath $(GLUON_SITEDIR)/site.mk),)
$(error No site configuration was found. Please check out a site configuration to $(GLUON_SITEDIR))
endif

include $(GLUON_SITEDIR)/site.mk

GLUON_RELEASE ?= $(error GLUON_RELEASE not set. GLUON_RELEASE can be set in site.mk or on the command line)
GLUON_OUTPUTDIR ?= output
GLUON_IMAGEDIR ?= $(GLUON_OUTPUTDIR)/images
GLUON_PACKAGEDIR ?= $(GLUON_OUTPUTDIR)/packages

GLUON_TARGETS := @TARGETS@
ifneq ($(BROKEN),)
GLUON_TARGETS += @BROKEN_TARGETS@
endif

export GLUON_SITEDIR GLUON_TARGET GLUON_IMAGEDIR GLUON_PACKAGEDIR GLUON_AUTOUPDATER_BRANCH GLUON_TARGETS

list-targets:
	@for target in $(GLUON_TARGETS); do echo "$$target"; done

update:
	@sh scripts/update.sh

all:
	@GLUON_RELEASE='$(GLUON_RELEASE)' sh scripts/build.sh

manifest:
	@GLUON_RELEASE='$(GLUON_RELEASE)' GLUON_PRIORITY='$(GLUON_PRIORITY)' sh scripts/manifest.sh

.PHONY: all update manifest list-targets
"#;

const MODULES_SH: &str = r#"# As Gluon's scripts/modules.sh: Gluon's modules, then the site's.
. ./modules
[ ! -f "$GLUON_SITEDIR"/modules ] || . "$GLUON_SITEDIR"/modules
FEEDS="$(echo $GLUON_SITE_FEEDS $GLUON_FEEDS | tr ' ' '\n')"
"#;

const UPDATE_SH: &str = r#"set -e
. scripts/modules.sh
GLUONDIR="$(pwd)"
echo "--- Updating module 'openwrt' ---"
mkdir -p openwrt
for feed in $FEEDS; do
	echo "--- Updating module 'packages/$feed' ---"
	var=$(echo "PACKAGES_$feed" | tr 'a-z' 'A-Z')
	eval "repo=\${${var}_REPO}"
	eval "branch=\${${var}_BRANCH}"
	eval "commit=\${${var}_COMMIT}"
	mkdir -p "packages/$feed"
	cd "packages/$feed"
	git init -q .
	if ! git branch -f base "$commit" 2>/dev/null; then
		git fetch -q "$repo" "$branch"
		git branch -f base "$commit" || {
			echo "unable to find commit \"$commit\" on branch \"$branch\" in repo \"$repo\"." >&2
			exit 1
		}
	fi
	git checkout -q -B patched base
	cd "$GLUONDIR"
done
# The packages feed with its Rust support (unless the test says otherwise).
if [ -z "$FAKE_NO_RUST" ]; then
	mkdir -p packages/packages/lang/rust
	echo '# stand-in for openwrt/packages lang/rust/rust-package.mk' > packages/packages/lang/rust/rust-package.mk
else
	rm -rf packages/packages
fi
"#;

const BUILD_SH: &str = r#"set -e
ok=
for t in $GLUON_TARGETS; do [ "$t" = "$GLUON_TARGET" ] && ok=1; done
if [ -z "$ok" ]; then
	echo 'Please set GLUON_TARGET to a valid target. Gluon supports the following targets:'
	for t in $GLUON_TARGETS; do echo " * $t"; done
	exit 1
fi
[ -z "$FAKE_PIDS" ] || echo $$ > "$FAKE_PIDS/$GLUON_TARGET"
[ -z "$FAKE_TIMELINE" ] || echo "start $GLUON_TARGET $(date +%s.%N)" >> "$FAKE_TIMELINE"
echo "MAKEFLAGS=$MAKEFLAGS"
echo " make[1] -C target/linux/$GLUON_TARGET compile"
. scripts/modules.sh
var=FAKE_SLEEP_$(echo "$GLUON_TARGET" | tr '-' '_')
eval "pause=\${$var:-0}"
sleep "$pause"
if [ "$GLUON_TARGET" = "$FAKE_FAIL" ]; then
	for i in 1 2 3 4 5; do echo "compiling step $i"; done
	echo "ERROR: package/feeds/gluonvpn/gluonvpn-wgpeerselector failed to build."
	echo "make[2]: *** [package/Makefile:129: package/feeds/gluonvpn/gluonvpn-wgpeerselector/compile] Error 1"
	exit 2
fi
code=$(sed -n "s/.*site_code *= *'\([^']*\)'.*/\1/p" "$GLUON_SITEDIR/site.conf" | head -n 1)
board=${GLUON_TARGET%%-*}
sub=${GLUON_TARGET#*-}
case $GLUON_TARGET in
	x86-64) devices=x86-64 ;;
	*) devices="$GLUON_TARGET-one $GLUON_TARGET-two" ;;
esac
mkdir -p "$GLUON_IMAGEDIR/factory" "$GLUON_IMAGEDIR/sysupgrade"
for dev in $devices; do
	image="$GLUON_IMAGEDIR/factory/gluon-$code-$GLUON_RELEASE-$dev.bin"
	{
		echo "target=$GLUON_TARGET device=$dev release=$GLUON_RELEASE"
		echo "GLUON_SITE_FEEDS=$GLUON_SITE_FEEDS"
		echo "FEEDS=$(echo $FEEDS)"
		for f in $FEEDS; do
			find "packages/$f" -name Makefile -not -path '*/src/*' | sort
			[ ! -f "packages/$f/features" ] || { echo "--- packages/$f/features"; cat "packages/$f/features"; }
		done
		echo "--- image-customization.lua"
		cat "$GLUON_SITEDIR/image-customization.lua"
		for inc in $(sed -n "s/^include('\([^']*\)').*/\1/p" "$GLUON_SITEDIR/image-customization.lua"); do
			echo "--- $inc"
			cat "$GLUON_SITEDIR/$inc"
		done
	} > "$image"
	cp "$image" "$GLUON_IMAGEDIR/sysupgrade/gluon-$code-$GLUON_RELEASE-$dev-sysupgrade.bin"
done
if [ "$GLUON_TARGET" = x86-64 ]; then
	ln -s "gluon-$code-$GLUON_RELEASE-x86-64-sysupgrade.bin" "$GLUON_IMAGEDIR/sysupgrade/gluon-$code-$GLUON_RELEASE-x86-64-alias-sysupgrade.bin"
fi
pkgdir="$GLUON_PACKAGEDIR/gluon-$code-$GLUON_RELEASE/$board/$sub"
mkdir -p "$pkgdir"
echo "Package: gluon-core" > "$pkgdir/Packages"
[ -z "$FAKE_TIMELINE" ] || echo "end $GLUON_TARGET $(date +%s.%N)" >> "$FAKE_TIMELINE"
echo "done"
"#;

const MANIFEST_SH: &str = r#"set -e
[ -n "$GLUON_AUTOUPDATER_BRANCH" ] || { echo 'Please set GLUON_AUTOUPDATER_BRANCH to create a manifest.'; exit 1; }
mkdir -p tmp "$GLUON_IMAGEDIR/sysupgrade"
{
	echo "BRANCH=$GLUON_AUTOUPDATER_BRANCH"
	echo "DATE=2026-01-01T00:00:00Z"
	echo "PRIORITY=$GLUON_PRIORITY"
	echo
	for f in "$GLUON_IMAGEDIR"/sysupgrade/*-sysupgrade.bin; do
		[ -e "$f" ] || continue
		name=$(basename "$f")
		echo "$name $GLUON_RELEASE $(sha256sum < "$f" | cut -d' ' -f1) $(wc -c < "$f") $name"
	done
} > "tmp/$GLUON_AUTOUPDATER_BRANCH.manifest.tmp"
mv "tmp/$GLUON_AUTOUPDATER_BRANCH.manifest.tmp" "$GLUON_IMAGEDIR/sysupgrade/$GLUON_AUTOUPDATER_BRANCH.manifest"
"#;

pub fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@invalid",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "tag.gpgSign=false",
            "-c",
            "commit.gpgSign=false",
        ])
        .args(args)
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?} in {}", dir.display());
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Creates the repository at `dir`: the tags v2023.2.6 and v2025.1.3 on
/// two commits (annotated tags, as Gluon's are) and the branch `main`.
pub fn create(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    write(
        dir,
        "Makefile",
        &MAKEFILE
            .replace("@TARGETS@", TARGETS)
            .replace("@BROKEN_TARGETS@", BROKEN_TARGETS),
    );
    write(dir, "modules", "GLUON_FEEDS=''\n");
    write(dir, "scripts/modules.sh", MODULES_SH);
    write(dir, "scripts/update.sh", UPDATE_SH);
    write(dir, "scripts/build.sh", BUILD_SH);
    write(dir, "scripts/manifest.sh", MANIFEST_SH);
    write(
        dir,
        ".gitignore",
        "/openwrt\n/output\n/site\n/tmp\n/packages\n/.scmversion\n",
    );
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "fake gluon"]);
    git(dir, &["tag", "-a", "-m", "v2023.2.6", "v2023.2.6"]);
    write(dir, "modules", "# v2025.1\nGLUON_FEEDS=''\n");
    git(dir, &["commit", "-q", "-a", "-m", "v2025.1"]);
    git(dir, &["tag", "-a", "-m", "v2025.1.3", "v2025.1.3"]);
}

/// A gluonvpn-like workspace with both agents and a Cargo.lock (nothing is
/// compiled: the fake Gluon only lists the feed's Makefiles).
pub fn agents_workspace(dir: &Path) {
    write(
        dir,
        "Cargo.toml",
        "[workspace]\nmembers = [\"agents/wgpeerselector\", \"agents/wireguard-vxlan-glue\"]\nresolver = \"2\"\n\n\
         [workspace.package]\nedition = \"2021\"\nlicense = \"GPL-3.0-or-later\"\n\n\
         [profile.agent]\ninherits = \"release\"\nopt-level = \"z\"\npanic = \"abort\"\n",
    );
    write(
        dir,
        "Cargo.lock",
        "# This file is automatically @generated by Cargo.\nversion = 4\n",
    );
    for name in ["wgpeerselector", "wireguard-vxlan-glue"] {
        write(
            dir,
            &format!("agents/{name}/Cargo.toml"),
            &format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition.workspace = true\nlicense.workspace = true\n\n[features]\nubus = []\n"),
        );
        write(dir, &format!("agents/{name}/src/main.rs"), "fn main() {}\n");
    }
    write(
        dir,
        "agents/wgpeerselector/openwrt/files/lib/netifd/proto/wgpeerselector.sh",
        "#!/bin/sh\n",
    );
}
