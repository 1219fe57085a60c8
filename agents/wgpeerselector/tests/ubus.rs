//! The `ubus` feature against real ubus: ubusd, the `ubus` command and
//! libubus/libubox built from OpenWrt's sources by `.ci/ubus` (Debian does
//! not package them). Opt-in: only with `--features ubus` and
//! GLUONVPN_UBUS_PREFIX naming the installation; the book's wgpeerselector
//! page has the commands:
//!
//! ```text
//! .ci/ubus target/ubus/24.10
//! GLUONVPN_UBUS_PREFIX=$PWD/target/ubus/24.10 \
//!     cargo test -p gluonvpn-wgpeerselector --features ubus --test ubus
//! ```
//!
//! (The selector built with the feature needs libubus to start at all, also
//! for `wgpeerselector status`: the test runs it with LD_LIBRARY_PATH.)
//!
//! - The declared structures have the sizes and offsets a C compiler gives
//!   them from the installed libubus.h, and the status as blobmsg is what
//!   libubox makes of the JSON document (`blobmsg_add_json_from_string`).
//! - In the network of tests/netns.rs (wireguard-go, a live gateway): the
//!   selector started before ubusd registers `wgpeerselector.<if>` once
//!   ubusd is there; `ubus call … status` gives the document of
//!   `wgpeerselector status`; after a restart of ubusd the object is back;
//!   SIGTERM removes it.
#![cfg(feature = "ubus")]

mod common;

use common::{libc_sigterm, Lab, SELECTOR};
use gluonvpn_testnet::{try_run, wait_for};
use gluonvpn_wgpeerselector::{blob, selector::Status, ubus};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The installation of ubus to test against, or `None` (the test skips).
fn prefix(test: &str) -> Option<PathBuf> {
    let Some(prefix) = std::env::var_os("GLUONVPN_UBUS_PREFIX") else {
        eprintln!("SKIPPED {test}: GLUONVPN_UBUS_PREFIX is not set (see .ci/ubus)");
        return None;
    };
    let prefix = PathBuf::from(prefix);
    for file in [
        "sbin/ubusd",
        "bin/ubus",
        "include/libubus.h",
        "lib/libubus.so",
    ] {
        assert!(
            prefix.join(file).exists(),
            "GLUONVPN_UBUS_PREFIX={}: no {file}",
            prefix.display()
        );
    }
    Some(prefix)
}

/// Prints the sizes and offsets of the structures src/ubus.rs declares, or
/// with arguments each JSON document as blobmsg (the whole buffer, hex).
const HELPER: &str = r#"
#include <stddef.h>
#include <stdio.h>
#include <libubus.h>
#include <libubox/blobmsg_json.h>

#define SIZE(s) printf("sizeof %s %zu\n", #s, sizeof(struct s))
#define OFFSET(s, f) printf("%s.%s %zu\n", #s, #f, offsetof(struct s, f))

int main(int argc, char **argv)
{
	if (argc > 1) {
		static struct blob_buf b;
		for (int i = 1; i < argc; i++) {
			blobmsg_buf_init(&b);
			if (!blobmsg_add_json_from_string(&b, argv[i]))
				return 1;
			const unsigned char *p = (const unsigned char *)b.head;
			for (unsigned int j = 0; j < blob_raw_len(b.head); j++)
				printf("%02x", p[j]);
			printf("\n");
		}
		return 0;
	}
	SIZE(avl_node);
	SIZE(avl_tree);
	SIZE(uloop_fd);
	OFFSET(uloop_fd, fd);
	OFFSET(uloop_fd, eof);
	OFFSET(ubus_context, sock);
	SIZE(ubus_method);
	OFFSET(ubus_method, handler);
	OFFSET(ubus_method, mask);
	OFFSET(ubus_method, tags);
	OFFSET(ubus_method, policy);
	OFFSET(ubus_method, n_policy);
	SIZE(ubus_object_type);
	OFFSET(ubus_object_type, id);
	OFFSET(ubus_object_type, methods);
	OFFSET(ubus_object_type, n_methods);
	SIZE(ubus_object);
	OFFSET(ubus_object, name);
	OFFSET(ubus_object, id);
	OFFSET(ubus_object, path);
	OFFSET(ubus_object, type);
	OFFSET(ubus_object, subscribe_cb);
	OFFSET(ubus_object, has_subscribers);
	OFFSET(ubus_object, methods);
	OFFSET(ubus_object, n_methods);
	return 0;
}
"#;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_declarations_and_the_blobmsg_match_libubus() {
    let Some(prefix) = prefix("the_declarations_and_the_blobmsg_match_libubus") else {
        return;
    };
    let dir = tempfile_dir("layout");
    let source = dir.join("helper.c");
    std::fs::write(&source, HELPER).unwrap();
    let helper = dir.join("helper");
    let include = format!("-I{}", prefix.join("include").display());
    let lib = format!("-L{}", prefix.join("lib").display());
    let rpath = format!("-Wl,-rpath,{}", prefix.join("lib").display());
    try_run(&[
        "cc",
        "-std=gnu99",
        &include,
        source.to_str().unwrap(),
        "-o",
        helper.to_str().unwrap(),
        &lib,
        &rpath,
        "-lubus",
        "-lblobmsg_json",
        "-lubox",
        "-ljson-c",
    ])
    .unwrap_or_else(|e| panic!("cc: {e}"));

    let c = try_run(&[helper.to_str().unwrap()]).unwrap();
    let c: Vec<(String, usize)> = c
        .lines()
        .map(|l| {
            let (name, n) = l.rsplit_once(' ').unwrap();
            (name.to_string(), n.parse().unwrap())
        })
        .collect();
    let rust: Vec<(String, usize)> = ubus::layout()
        .into_iter()
        .map(|(n, v)| (n.to_string(), v))
        .collect();
    assert_eq!(rust, c, "src/ubus.rs against libubus.h");
    eprintln!("{} sizes and offsets as in libubus.h", c.len());

    // the status documents through libubox's JSON conversion
    let docs = [
        Status { peers: vec![] },
        Status {
            peers: vec![("gw1", None), ("gw02", Some(0)), ("gateway_3", None)],
        },
        Status {
            peers: vec![("a", Some(1490)), ("bb", None), ("ccc", None)],
        },
        Status {
            peers: vec![("x", Some(3_000_000_000))],
        },
    ];
    let mut args = vec![helper.to_str().unwrap().to_string()];
    args.extend(docs.iter().map(Status::to_json));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let c = try_run(&args).unwrap();
    let c: Vec<&str> = c.lines().collect();
    assert_eq!(c.len(), docs.len());
    for (doc, c) in docs.iter().zip(c) {
        assert_eq!(hex(&blob::status(doc).unwrap()), c, "{}", doc.to_json());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gvt-ubus-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ubus(prefix: &Path, socket: &Path, args: &[&str]) -> Result<String, String> {
    let bin = prefix.join("bin/ubus");
    let mut full = vec![bin.to_str().unwrap(), "-s", socket.to_str().unwrap()];
    full.extend_from_slice(args);
    try_run(&full)
}

/// Starts ubusd on `socket` in the node's namespace; waits for the socket.
fn start_ubusd(lab: &mut Lab, prefix: &Path, socket: &Path) -> usize {
    let ns = lab.node.clone();
    let ubusd = prefix.join("sbin/ubusd");
    let i = lab.net.spawn(
        &ns,
        "ubusd",
        &[ubusd.to_str().unwrap(), "-s", socket.to_str().unwrap()],
        true,
    );
    assert!(
        wait_for(Duration::from_secs(5), || socket.exists().then_some(())).is_some(),
        "ubusd did not start"
    );
    i
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// `ubus call` between two `wgpeerselector status`: the same document as
/// one of them (the seconds may tick in between).
fn same_status_on_ubus(lab: &Lab, prefix: &Path, socket: &Path, object: &str) -> String {
    let before = json(&lab.status());
    let text = ubus(prefix, socket, &["call", object, "status"]).expect("ubus call");
    let after = json(&lab.status());
    eprintln!("ubus call {object} status:\n{text}");
    let got = json(&text);
    assert!(
        got == before || got == after,
        "ubus: {got}\nsocket: {before} / {after}"
    );
    // in the configuration's order, as the socket has them
    let at: Vec<usize> = ["\"gw1\"", "\"gw2\"", "\"gw3\"", "\"gw4\""]
        .iter()
        .map(|n| text.find(n).unwrap_or_else(|| panic!("{n} in {text}")))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    text
}

#[test]
fn status_on_ubus_across_a_restart_of_ubusd() {
    let Some(prefix) = prefix("status_on_ubus_across_a_restart_of_ubusd") else {
        return;
    };
    let Some(mut lab) = Lab::new("status_on_ubus") else {
        return;
    };
    // the selector finds libubus in the prefix (also for `status`)
    let wrapper = lab.net.dir().join("selector.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nLD_LIBRARY_PATH='{}' exec '{SELECTOR}' \"$@\"\n",
            prefix.join("lib").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    lab.selector_bin = vec![wrapper.display().to_string()];
    lab.start_gateway(2);
    let socket = lab.net.dir().join("ubus.sock");
    let object = format!("wgpeerselector.{}", lab.node_if);

    // the selector first: it connects when ubusd comes
    let ns = lab.node.clone();
    let (config, system, status) = (
        lab.config.display().to_string(),
        lab.system.display().to_string(),
        lab.socket.display().to_string(),
    );
    let node_if = lab.node_if.clone();
    let sock = socket.display().to_string();
    let bin = lab.selector_bin[0].clone();
    let sel = lab.net.spawn(
        &ns,
        "selector",
        &[
            &bin,
            "-i",
            &node_if,
            "-v",
            "--config",
            &config,
            "--system-config",
            &system,
            "--status-socket",
            &status,
            "--ubus-socket",
            &sock,
        ],
        true,
    );
    lab.wait_log(
        sel,
        &format!("ubus: cannot connect to {sock}"),
        1,
        Duration::from_secs(5),
    );
    let ubusd = start_ubusd(&mut lab, &prefix, &socket);
    let registered = format!("Registered ubus object {object} at {sock}.");
    lab.wait_log(sel, &registered, 1, Duration::from_secs(5));
    lab.wait_log(
        sel,
        "Connection established with gw2",
        1,
        Duration::from_secs(10),
    );

    // the original's object: one method, no arguments
    let list = ubus(&prefix, &socket, &["-v", "list", &object]).unwrap();
    assert!(list.contains(&format!("'{object}' @")), "{list}");
    assert_eq!(
        list.lines().skip(1).map(str::trim).collect::<Vec<_>>(),
        ["\"status\":{}"],
        "{list}"
    );
    let text = same_status_on_ubus(&lab, &prefix, &socket, &object);
    eprintln!("--- ubus call {object} status:\n{text}---");
    let doc = json(&text);
    assert!(doc["peers"]["gw2"]["established"].is_u64(), "{text}");
    assert_eq!(doc["peers"]["gw1"], serde_json::json!([]), "{text}");

    // ubusd restarts: the selector notices, goes on, and registers again
    let p = lab.net.proc(ubusd);
    p.signal(libc_sigterm());
    assert!(p.wait(Duration::from_secs(5)).is_some(), "ubusd stops");
    lab.wait_log(
        sel,
        "ubus: lost the connection to ubusd; reconnecting",
        1,
        Duration::from_secs(5),
    );
    assert!(json(&lab.status())["peers"]["gw2"]["established"].is_u64());
    start_ubusd(&mut lab, &prefix, &socket);
    lab.wait_log(sel, &registered, 2, Duration::from_secs(5));
    let again = same_status_on_ubus(&lab, &prefix, &socket, &object);
    assert!(
        json(&again)["peers"]["gw2"]["established"].is_u64(),
        "{again}"
    );

    // SIGTERM: the selector cleans up, and the object is gone
    lab.stop_selector_and_check_cleanup(sel);
    let list = ubus(&prefix, &socket, &["list"]).unwrap();
    assert!(!list.contains(&object), "{list}");
    let call = ubus(&prefix, &socket, &["call", &object, "status"]);
    assert!(call.is_err(), "{call:?}");
}
