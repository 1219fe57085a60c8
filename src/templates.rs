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
    "gateway/batman.sh.j2",
    "gateway/oneshot.service.j2",
    "gateway/fastd-dropin.conf.j2",
    "gateway/glue.service.j2",
    "gateway/gluonvpn.nft.j2",
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
        // Every value a template writes goes through the filter of the
        // place it goes to (see `escape`); one that cannot be written there
        // fails the rendering.
        env.add_filter("fastd_string", |value: String| {
            escape::fastd_string(&value).map_err(filter_error)
        });
        env.add_filter("fastd_word", |value: String| {
            escape::fastd_word(&value).map_err(filter_error)
        });
        env.add_filter("sh", |value: String| {
            escape::shell_word(&value).map_err(filter_error)
        });
        env.add_filter("unit", |value: String| {
            escape::unit_value(&value).map_err(filter_error)
        });
        env.add_filter("ini", |value: String| {
            escape::configparser_value(&value).map_err(filter_error)
        });
        env.add_filter("wg", |value: String| {
            escape::wg_value(&value).map_err(filter_error)
        });
        env.add_filter("comment", |value: String| escape::comment(&value));
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

/// A fastd string literal: `"` and `\` escaped as fastd's lexer reads them
/// (for values gluonvpn knows hold no NUL; templates use
/// [`escape::fastd_string`], which refuses one).
pub fn fastd_string(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

fn filter_error(message: String) -> minijinja::Error {
    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, message)
}

/// How a value is written into each kind of file, so that whatever it
/// holds it stays one value: the filters of the templates (`fastd_string`,
/// `fastd_word`, `sh`, `unit`, `ini`, `wg`, `comment`). A value that a
/// syntax cannot hold is an error naming it, never written half-escaped.
/// This is defence in depth: the inventory's values are validated when it
/// is loaded (`render::inventory`), so these only ever see a value that
/// slipped past (or a site's).
pub mod escape {
    /// A value as shown in an error: quoted, control characters escaped,
    /// cut at 200 characters.
    pub fn shown(value: &str) -> String {
        let cut: String = value.chars().take(200).collect();
        let more = if cut.len() < value.len() { "…" } else { "" };
        format!("{cut:?}{more}")
    }

    /// A fastd string literal (fastd's `lex.c`): `"…"`, in which `\` makes
    /// the next character literal (a `\` before a line end continues the
    /// line). `\` and `"` are escaped; everything else, line ends included,
    /// stands for itself inside the quotes. A NUL is refused: fastd keeps
    /// strings as C strings, so it would cut the value short.
    pub fn fastd_string(value: &str) -> Result<String, String> {
        if value.contains('\0') {
            return Err(format!(
                "{} cannot be a fastd string: it holds a NUL byte",
                shown(value)
            ));
        }
        Ok(super::fastd_string(value))
    }

    /// A bare fastd word (a keyword such as a log level): lower-case
    /// letters, digits and `-` only, so it cannot end the statement.
    pub fn fastd_word(value: &str) -> Result<String, String> {
        if value.is_empty()
            || !value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(format!("{} is not a fastd keyword", shown(value)));
        }
        Ok(value.to_string())
    }

    /// One word of a POSIX shell command: as it is when it holds only
    /// characters no shell treats specially (letters, digits, `@%+=:,./_-`),
    /// otherwise in single quotes, inside which nothing is special (a `'`
    /// becomes `'\''`). A NUL is refused: no argument can hold one.
    pub fn shell_word(value: &str) -> Result<String, String> {
        if value.contains('\0') {
            return Err(format!(
                "{} cannot be a shell word: it holds a NUL byte",
                shown(value)
            ));
        }
        if !value.is_empty()
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b))
        {
            return Ok(value.to_string());
        }
        Ok(format!("'{}'", value.replace('\'', "'\\''")))
    }

    fn line_value(value: &str, what: &str) -> Result<(), String> {
        let problem = if value.is_empty() {
            Some("it is empty")
        } else if value
            .chars()
            .any(|c| c.is_control() || is_line_separator(c))
        {
            Some("it holds a line end or another control character")
        } else if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
            Some("it starts or ends with white space, which the reader strips")
        } else {
            None
        };
        match problem {
            Some(p) => Err(format!("{} cannot be a value in {what}: {p}", shown(value))),
            None => Ok(()),
        }
    }

    /// The value of a systemd unit setting (`Name=…`, systemd.syntax(7)):
    /// one line, as systemd reads it. Refused: line ends and other control
    /// characters (a new line would be a new setting or section), white
    /// space at either end (stripped), a `\` at the end (it continues the
    /// line) and `%` (systemd expands specifiers in some settings and not
    /// in others, so neither `%` nor `%%` is sure to read back as itself).
    pub fn unit_value(value: &str) -> Result<String, String> {
        line_value(value, "a systemd unit")?;
        if value.ends_with('\\') {
            return Err(format!(
                "{} cannot be a value in a systemd unit: a `\\` at the end continues the line",
                shown(value)
            ));
        }
        if value.contains('%') {
            return Err(format!(
                "{} cannot be a value in a systemd unit: `%` starts a specifier",
                shown(value)
            ));
        }
        Ok(value.to_string())
    }

    /// The value of an INI file read by Python's configparser (the
    /// tunneldigger broker's `broker.cfg`): one line (a line end, including
    /// Python's `\r`, would start a new key), no white space at either end,
    /// and `%` doubled (configparser's interpolation reads `%%` as `%`).
    pub fn configparser_value(value: &str) -> Result<String, String> {
        line_value(value, "broker.cfg")?;
        Ok(value.replace('%', "%%"))
    }

    /// The value of a `wg setconf` line (wireguard-tools' `config.c`): `wg`
    /// drops all white space from a line and everything after `#`, so a
    /// value holds neither (nor a control character).
    pub fn wg_value(value: &str) -> Result<String, String> {
        if value.is_empty()
            || value
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '#')
        {
            return Err(format!(
                "{} cannot be a value in a WireGuard configuration: it is empty or holds white space, `#` or a control character",
                shown(value)
            ));
        }
        Ok(value.to_string())
    }

    /// Text inside a comment line (`# …`, `; …`): control characters and
    /// line separators are written as escapes (`\u{a}`), so that the
    /// comment cannot end and what follows cannot become a line of its own.
    pub fn comment(value: &str) -> String {
        if !value
            .chars()
            .any(|c| c.is_control() || is_line_separator(c))
        {
            return value.to_string();
        }
        value
            .chars()
            .map(|c| {
                if c.is_control() || is_line_separator(c) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    }

    /// Characters some readers (Python's `str.splitlines`) take for line
    /// ends beside the control characters.
    fn is_line_separator(c: char) -> bool {
        matches!(c, '\u{2028}' | '\u{2029}')
    }
}

/// Renders a template with a context. A value that cannot be written where
/// the template puts it ([`escape`]) is an error naming it; any other error
/// is a defect of gluonvpn (a template and its context disagree).
pub fn render<S: Serialize>(name: &str, context: S) -> anyhow::Result<String> {
    let template = environment()
        .get_template(name)
        .map_err(|e| anyhow::anyhow!("internal error: template {name}: {e}"))?;
    template.render(context).map_err(|e| {
        if e.kind() == minijinja::ErrorKind::InvalidOperation {
            if let Some(detail) = e.detail() {
                return anyhow::anyhow!("{name}: {detail}");
            }
        }
        anyhow::anyhow!("internal error: template {name}: {e:#}")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_compiles() {
        let _ = super::environment();
        assert_eq!(super::fastd_string("a\"b\\"), "\"a\\\"b\\\\\"");
    }

    #[test]
    fn escapes_keep_a_value_one_value() {
        use super::escape::*;
        assert_eq!(fastd_string("a\"b\\").unwrap(), "\"a\\\"b\\\\\"");
        assert_eq!(
            fastd_string("/p\"; on up \"id").unwrap(),
            "\"/p\\\"; on up \\\"id\""
        );
        assert!(fastd_string("a\0b").is_err());
        assert_eq!(fastd_word("debug2").unwrap(), "debug2");
        assert!(fastd_word("info; on up \"id\"").is_err());
        assert!(fastd_word("").is_err());
        assert_eq!(shell_word("wg-mesh").unwrap(), "wg-mesh");
        assert_eq!(
            shell_word("/etc/gluonvpn/wireguard/wg-mesh.conf").unwrap(),
            "/etc/gluonvpn/wireguard/wg-mesh.conf"
        );
        assert_eq!(shell_word("/k; touch x").unwrap(), "'/k; touch x'");
        assert_eq!(shell_word("$(id)").unwrap(), "'$(id)'");
        assert_eq!(shell_word("it's").unwrap(), "'it'\\''s'");
        assert_eq!(shell_word("").unwrap(), "''");
        assert!(shell_word("a\0").is_err());
        assert_eq!(unit_value("br-client").unwrap(), "br-client");
        for bad in [
            "br\n[Network]",
            "br\r",
            "",
            " br",
            "br ",
            "br\\",
            "peer-%k",
            "a\u{2028}b",
        ] {
            assert!(unit_value(bad).is_err(), "{bad:?}");
        }
        assert_eq!(configparser_value("/a%b").unwrap(), "/a%%b");
        assert!(configparser_value("eth0\nport=1").is_err());
        assert!(configparser_value("eth0\r").is_err());
        assert_eq!(wg_value("abc=").unwrap(), "abc=");
        for bad in ["a b", "a#b", "a\nb", ""] {
            assert!(wg_value(bad).is_err(), "{bad:?}");
        }
        assert_eq!(comment("plain"), "plain");
        assert_eq!(comment("a\nb\u{1b}c"), "a\\u{a}b\\u{1b}c");
        assert_eq!(shown("a\nb"), "\"a\\nb\"");
        assert_eq!(shown(&"x".repeat(300)), format!("\"{}\"…", "x".repeat(200)));
    }

    /// A value a filter refuses fails the rendering with a message naming
    /// it, not as an internal error.
    #[test]
    fn refused_values_are_named() {
        let e = super::render(
            "gateway/batman.netdev.j2",
            minijinja::context! { header => "h", domains => ["d"], bat => minijinja::context! { name => "bat0\n[NetDev]", algo => "batman-iv", gw_mode => "server", bandwidth_down => (), hop_penalty => (), ogm_interval => () } },
        )
        .unwrap_err()
        .to_string();
        assert!(!e.contains("internal error"), "{e}");
        assert!(
            e.contains("\"bat0\\n[NetDev]\" cannot be a value in a systemd unit"),
            "{e}"
        );
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
