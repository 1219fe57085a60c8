//! The templates of generated build and CI files (`templates/build/`,
//! `templates/ci/`), rendered with minijinja like the render templates:
//! templates only lay out text, undefined variables are errors.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use std::sync::OnceLock;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

pub static TEMPLATES: &[(&str, &str)] = templates![
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

/// Renders a template; an error here is a defect of gluonvpn.
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
    }
}
