//! The templates of rendered files (`templates/` in the repository,
//! compiled into the binary), rendered with minijinja.
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
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
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

/// Renders a template with a context.
pub fn render<S: Serialize>(name: &str, context: S) -> Result<String, super::RenderError> {
    let template = environment()
        .get_template(name)
        .map_err(|e| super::invalid(format!("internal error: template {name}: {e}")))?;
    template
        .render(context)
        .map_err(|e| super::invalid(format!("internal error: template {name}: {e:#}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_compiles() {
        let _ = super::environment();
        assert_eq!(super::fastd_string("a\"b\\"), "\"a\\\"b\\\\\"");
    }
}
