//! gluon-config-mode-contact-info: ships a check_site.lua, but an empty one
//! in every release, so it checks nothing.

use crate::rules::vocabulary::Checker;

pub const SUMMARY: &str = "nothing: the package's check_site.lua is empty";

pub fn check(c: &mut Checker<'_>) {
    let _ = c;
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion;
    use crate::rules::testing::{check, Setup};

    #[test]
    fn nothing_is_checked() {
        let site = "{ config_mode = { owner = { obligatory = 'yes' } } }";
        for version in GluonVersion::ALL {
            assert!(check(
                "gluon-config-mode-contact-info",
                version,
                site,
                &Setup::default()
            )
            .is_empty());
        }
    }
}
