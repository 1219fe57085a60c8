//! The templates of every generated file (`templates/` in the repository,
//! compiled into the binary), rendered with minijinja: the configurations
//! `gluonvpn render` writes, and the build and CI files of `gluonvpn build`
//! and `gluonvpn ci`.
//!
//! Templates only lay out text: every decision (which options, in which
//! order, with which values) is made in Rust and handed over as a context.
//! Undefined variables are errors, so a template cannot silently drop a
//! value.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use std::sync::OnceLock;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../templates/", $name)))),*]
    };
}

/// Every template, by its path under `templates/`.
pub static TEMPLATES: &[(&str, &str)] = templates![
    "node/fastd.conf.j2",
    "node/peers.conf.j2",
    "node/vxlan.conf.j2",
    "gateway/fastd.conf.j2",
    "gateway/fastd-peers.network.j2",
    "gateway/batman.netdev.j2",
    "gateway/batman.network.j2",
    "gateway/wg.conf.j2",
    "gateway/wg-up.sh.j2",
    "gateway/wg-down.sh.j2",
    "gateway/wg.netdev.j2",
    "gateway/wg.network.j2",
    "gateway/vxlan.netdev.j2",
    "gateway/vxlan.network.j2",
    "gateway/broker.cfg.j2",
    "gateway/td-session.sh.j2",
    "build/agent-package.Makefile.j2",
    "build/features.j2",
    "build/agents.lua.j2",
    "build/image-customization.lua.j2",
    "build/modules.j2",
    "build/site-mk.j2",
    "ci/github.yml.j2",
    "ci/gitlab.yml.j2",
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        // `fastd_string`: a value as a fastd string literal.
        env.add_filter("fastd_string", |value: String| fastd_string(&value));
        // `yaml`: a value as a double-quoted YAML scalar (JSON's string
        // syntax is valid YAML).
        env.add_filter("yaml", |value: String| {
            serde_json::to_string(&value).unwrap_or_default()
        });
        // `gh`: a GitHub Actions expression, `${{ … }}`.
        env.add_function("gh", |expr: String| format!("${{{{ {expr} }}}}"));
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e:#}"));
        }
        env
    })
}

/// A fastd string literal: `"` and `\` escaped as fastd's lexer reads them.
pub fn fastd_string(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Renders a template with a context; an error here is a defect of
/// gluonvpn (a template and its context disagree).
pub fn render<S: Serialize>(name: &str, context: S) -> anyhow::Result<String> {
    let template = environment()
        .get_template(name)
        .map_err(|e| anyhow::anyhow!("internal error: template {name}: {e}"))?;
    template
        .render(context)
        .map_err(|e| anyhow::anyhow!("internal error: template {name}: {e:#}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_compiles() {
        let _ = super::environment();
        assert_eq!(super::fastd_string("a\"b\\"), "\"a\\\"b\\\\\"");
    }

    /// Every file under templates/ is registered (and so compiled above).
    #[test]
    fn every_template_file_is_registered() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut files: Vec<String> = walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e.path().strip_prefix(&root).unwrap();
                rel.to_string_lossy().replace('\\', "/")
            })
            .collect();
        files.sort();
        let mut registered: Vec<String> = super::TEMPLATES
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        registered.sort();
        assert_eq!(files, registered);
    }
}
