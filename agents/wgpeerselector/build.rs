//! With the `ubus` feature the agent links libubus and libubox (the extern
//! blocks of src/ubus.rs name them). Where they are not in the linker's
//! default paths, GLUONVPN_UBUS_PREFIX names their installation prefix and
//! PREFIX/lib is searched: the agents feed sets it to OpenWrt's staging
//! directory (`$(STAGING_DIR)/usr`), the opt-in test to a build of `.ci/ubus`.
//! Without the feature this does nothing.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=GLUONVPN_UBUS_PREFIX");
    if std::env::var_os("CARGO_FEATURE_UBUS").is_none() {
        return;
    }
    if let Some(prefix) = std::env::var_os("GLUONVPN_UBUS_PREFIX") {
        let lib = std::path::Path::new(&prefix).join("lib");
        println!("cargo:rustc-link-search=native={}", lib.display());
    }
}
