//! The gateway's key files against the site's public keys: read when they
//! are readable here, never copied into a rendered file.

use crate::fastd_conf::{self, Includes};
use crate::input;
use crate::keys::{FastdPublicKey, Secret, WgPublicKey};
use crate::render::Tree;
use zeroize::Zeroizing;

/// The key checks' findings.
#[derive(Default)]
pub struct KeyCheck {
    pub errors: Vec<String>,
}

fn read_secret_file(path: &str) -> Result<Zeroizing<String>, String> {
    input::read_secret(std::path::Path::new(path), input::caps::SECRET).map_err(|e| e.to_string())
}

impl KeyCheck {
    pub fn fastd(&mut self, tree: &mut Tree, label: &str, file: &str, site_key: Option<&str>) {
        let Some(site_key) = site_key else { return };
        let text = match read_secret_file(file) {
            Ok(text) => text,
            Err(e) => {
                tree.note(format!(
                    "{label}fastd secret {file} not checked against the site's key: it {e}"
                ));
                return;
            }
        };
        let secret = fastd_conf::single_string_statement(&text, "secret", Includes::Skip)
            .map_err(|e| e.to_string())
            .and_then(|found| {
                let value = Zeroizing::new(found.value);
                Secret::from_fastd_hex(&value).map_err(|e| e.to_string())
            });
        let secret = match secret {
            Ok(s) => s,
            Err(e) => {
                self.errors
                    .push(format!("{label}{file}: no usable fastd secret: {e}"));
                return;
            }
        };
        match FastdPublicKey::from_hex(site_key) {
            Ok(key) if key.to_wireguard() == secret.wireguard_public_key() => {}
            Ok(_) => self.errors.push(format!(
                "{label}the fastd secret in {file} does not belong to the site's key {site_key} for this gateway"
            )),
            Err(e) => tree.note(format!(
                "{label}the site's fastd key {site_key} is unusable ({e}); {file} not checked"
            )),
        }
    }

    pub fn wireguard(&mut self, tree: &mut Tree, label: &str, file: &str, site_key: Option<&str>) {
        let Some(site_key) = site_key else { return };
        let text = match read_secret_file(file) {
            Ok(text) => text,
            Err(e) => {
                tree.note(format!(
                    "{label}WireGuard private key {file} not checked against the site's key: it {e}"
                ));
                return;
            }
        };
        let secret = match Secret::from_wireguard_base64(text.trim()) {
            Ok(s) => s,
            Err(e) => {
                self.errors.push(format!(
                    "{label}{file}: no usable WireGuard private key: {e}"
                ));
                return;
            }
        };
        match WgPublicKey::from_base64(site_key) {
            Ok(key) if key == secret.wireguard_public_key() => {}
            Ok(_) => self.errors.push(format!(
                "{label}the WireGuard private key in {file} does not belong to the site's public key {site_key} for this gateway"
            )),
            Err(e) => tree.note(format!(
                "{label}the site's WireGuard key {site_key} is unusable ({e}); {file} not checked"
            )),
        }
    }
}
