//! Running lints on small sites written by a test.

use crate::check::{check, CheckOptions};
use crate::diagnostics::Diagnostic;
use crate::gluon_version::GluonVersion;

/// A site written into a temporary directory: site.conf, a site.mk with a
/// release, and image-customization.lua with the given features.
pub struct TestSite {
    pub dir: tempfile::TempDir,
}

impl TestSite {
    pub fn new(site_conf: &str, features: &[&str]) -> TestSite {
        let dir = tempfile::tempdir().expect("tempdir");
        let site = TestSite { dir };
        site.write("site.conf", site_conf);
        site.write("site.mk", "GLUON_RELEASE := 1.0\n");
        let list: Vec<String> = features.iter().map(|f| format!("'{f}'")).collect();
        site.write(
            "image-customization.lua",
            &format!("features {{ {} }}\n", list.join(", ")),
        );
        site
    }

    pub fn write(&self, name: &str, text: &str) {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }

    /// Every diagnostic of a full check at `version`.
    pub fn check(&self, version: GluonVersion) -> Vec<Diagnostic> {
        check(self.dir.path(), &CheckOptions::new(version))
            .expect("check runs")
            .report
            .diagnostics
    }

    /// The diagnostics with one code.
    pub fn findings(&self, version: GluonVersion, code: &str) -> Vec<Diagnostic> {
        self.check(version)
            .into_iter()
            .filter(|d| d.code() == code)
            .collect()
    }
}

/// A site.conf that passes Gluon's checks for the usual features, with
/// `mesh_vpn` (and anything else) spliced in.
pub fn site_conf(extra: &str) -> String {
    format!(
        "{{
  site_code = 'fft', site_name = 'Test', timezone = 'UTC',
  domain_seed = '{seed}',
  prefix4 = '10.0.0.0/16', prefix6 = 'fd00::/64',
  mesh = {{ vxlan = true, batman_adv = {{ routing_algo = 'BATMAN_IV' }} }},
{extra}
}}",
        seed = "ab".repeat(32)
    )
}

/// A fastd `mesh_vpn` section with the given methods (Lua list body).
pub fn fastd(methods: &str, more: &str) -> String {
    format!(
        "  mesh_vpn = {{ fastd = {{ mtu = 1312, methods = {{ {methods} }}, groups = {{ backbone = {{ limit = 1, peers = {{ gw1 = {{ key = '{key}', remotes = {{ '\"gw1.example.org\" port 10000' }} }} }} }} }}{more} }} }},",
        key = "0a".repeat(32)
    )
}

impl TestSite {
    /// A site for Gluon v2022.1 and v2023.1, which read the features from
    /// site.mk's GLUON_FEATURES (image-customization.lua is written too, for
    /// v2023.2 and later, which report GLUON_FEATURES as obsolete but still
    /// select the image-customization.lua features).
    pub fn legacy(site_conf: &str, features: &[&str]) -> TestSite {
        let site = TestSite::new(site_conf, features);
        site.write(
            "site.mk",
            &format!(
                "GLUON_RELEASE := 1.0\nGLUON_FEATURES := {}\n",
                features.join(" ")
            ),
        );
        site
    }

    /// A multidomain site: site.conf, and one `domains/<code>.conf` per
    /// entry (the file text as given).
    pub fn multidomain(site_conf: &str, features: &[&str], domains: &[(&str, &str)]) -> TestSite {
        let site = TestSite::new(site_conf, features);
        site.write("site.mk", "GLUON_RELEASE := 1.0\nGLUON_MULTIDOMAIN := 1\n");
        for (code, text) in domains {
            site.write(&format!("domains/{code}.conf"), text);
        }
        site
    }
}

/// A site.conf for a multidomain site (no domain-only keys), with `extra`
/// spliced in; the domain files come from [`domain_conf`].
pub fn multidomain_site_conf(default_domain: &str, extra: &str) -> String {
    format!(
        "{{
  site_code = 'fft', site_name = 'Test', timezone = 'UTC',
  default_domain = '{default_domain}',
  mesh = {{ batman_adv = {{ routing_algo = 'BATMAN_IV' }} }},
{extra}
}}"
    )
}

/// A domain file with its own seed and prefixes (`n` makes them differ
/// between domains), with `extra` spliced in.
pub fn domain_conf(code: &str, n: u8, extra: &str) -> String {
    format!(
        "{{
  domain_names = {{ {code} = '{code}' }},
  domain_seed = '{seed}',
  prefix4 = '10.{n}.0.0/16', prefix6 = 'fd00:{n}::/64',
{extra}
}}",
        seed = format!("{n:02x}").repeat(32)
    )
}

/// A WireGuard public key as Gluon's check wants it (43 base64 characters
/// and `=`); `n` makes keys differ.
pub fn wg_key(n: u8) -> String {
    let first = (b'A' + n % 26) as char;
    format!("{first}{}E=", "A".repeat(41))
}

/// A WireGuard peer entry (Lua): `name = { public_key = …, endpoint = … }`.
pub fn wg_peer(name: &str, key: &str, endpoint: &str) -> String {
    format!("{name} = {{ public_key = '{key}', endpoint = '{endpoint}' }}")
}

/// A WireGuard `mesh_vpn` section with the given peers (Lua table body) and
/// more keys of the wireguard table (`, mtu = 1312` replaces the default).
pub fn wireguard(peers: &str, more: &str) -> String {
    let mtu = if more.contains("mtu") {
        ""
    } else {
        "mtu = 1312, "
    };
    format!("  mesh_vpn = {{ wireguard = {{ {mtu}peers = {{ {peers} }}{more} }} }},")
}
