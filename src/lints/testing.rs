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
            .filter(|d| d.code == code)
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
