//! Which targets a site.mk can tell apart.
//!
//! Up to v2023.1 Gluon evaluates site.mk once per target, and gluonvpn does
//! the same: one make round per target, each re-running site.mk's
//! `$(shell …)` calls (a `date` or `git describe` per round is common). Most
//! site.mk files look at the target only to compare it with a few names
//! (`ifeq ($(GLUON_TARGET),x86-64)`); every target that none of them names
//! then gives the same round. [`TargetTests::read`] recognises such a file,
//! and make evaluates one round per group of targets the file cannot tell
//! apart.
//!
//! The recognition is conservative: any mention of `GLUON_TARGET`, `BOARD`
//! or `SUBTARGET` other than a comparison with plain names (directly or
//! through `$(filter …)` with plain words), an assignment to `GLUON_TARGET`
//! (which the override of each round ignores) or an `export GLUON_TARGET`
//! that no command sees,
//! and anything that could reach a variable by a computed name or read text
//! gluonvpn has not seen (`include`, `load`, `$(eval …)`, `.VARIABLES`,
//! `$(value …)`, `$(origin …)`, `$(flavor …)`, `$($(…))`), makes it give up,
//! and every target gets its round.

use super::site_mk::TargetEnv;
use std::collections::BTreeSet;

/// The names a site.mk compares the target with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetTests {
    names: BTreeSet<String>,
    boards: BTreeSet<String>,
    subtargets: BTreeSet<String>,
}

/// What a target is to a site.mk: its name, board and subtarget where the
/// file compares them with that value, `None` where it cannot tell.
pub type TargetKey<'t> = (Option<&'t str>, Option<&'t str>, Option<&'t str>);

/// The variables that carry the target in each round.
const TARGET_VARIABLES: [&str; 3] = ["GLUON_TARGET", "BOARD", "SUBTARGET"];

impl TargetTests {
    /// The comparisons of `text` (site.mk), or `None` when the file may see
    /// the target in any other way.
    ///
    /// `exports_reach_shell` says whether make passes exported variables to
    /// `$(shell …)` (GNU make 4.4 and later); it is asked only for a site.mk
    /// that exports `GLUON_TARGET` and runs commands.
    pub fn read(text: &str, exports_reach_shell: impl Fn() -> bool) -> Option<TargetTests> {
        if reaches_unseen_variables(text) {
            return None;
        }
        let runs_commands = text.contains("shell") || text.contains("!=");
        let mut tests = TargetTests::default();
        let mut define_depth = 0usize;
        for line in logical_lines(text) {
            let trimmed = line.trim_start();
            let first_words: Vec<&str> = trimmed.split_whitespace().take(3).collect();
            let opens_define = first_words
                .iter()
                .take_while(|w| matches!(**w, "override" | "export" | "private" | "define"))
                .any(|w| *w == "define");
            if define_depth > 0 {
                // A body is text, comments included: a mention is a use.
                if first_words.first() == Some(&"endef") {
                    define_depth -= 1;
                } else if opens_define {
                    define_depth += 1;
                }
                if mentions(&line) {
                    return None;
                }
                continue;
            }
            if opens_define {
                define_depth += 1;
                if mentions(&line) {
                    return None;
                }
                continue;
            }
            if trimmed.starts_with('#') {
                continue;
            }
            if matches!(
                first_words.first(),
                Some(&("include" | "-include" | "sinclude" | "load" | "-load"))
            ) {
                return None;
            }
            if !mentions(&line) {
                continue;
            }
            if let Some((variable, names)) = comparison(trimmed) {
                let set = match variable {
                    "GLUON_TARGET" => &mut tests.names,
                    "BOARD" => &mut tests.boards,
                    _ => &mut tests.subtargets,
                };
                set.extend(names.into_iter().map(str::to_string));
            } else if !ignored_in_rounds(trimmed, runs_commands, &exports_reach_shell) {
                return None;
            }
        }
        Some(tests)
    }

    /// The target as the file sees it: targets with equal keys give equal
    /// rounds.
    pub fn key<'t>(&self, target: &'t TargetEnv) -> TargetKey<'t> {
        let seen = |set: &BTreeSet<String>, value: &'t str| set.contains(value).then_some(value);
        (
            seen(&self.names, &target.name),
            seen(&self.boards, &target.board),
            seen(&self.subtargets, &target.subtarget),
        )
    }
}

/// Lines joined across backslash continuations.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let backslashes = line.len() - line.trim_end_matches('\\').len();
        if backslashes % 2 == 1 {
            current.push_str(&line[..line.len() - 1]);
            current.push(' ');
        } else {
            current.push_str(line);
            lines.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// Whether a line names one of the target variables (as a whole word).
fn mentions(line: &str) -> bool {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| TARGET_VARIABLES.contains(&word))
}

/// Constructs through which make can reach a variable by a name the text
/// does not spell out, or read text gluonvpn has not seen.
fn reaches_unseen_variables(text: &str) -> bool {
    if text.contains(".VARIABLES") {
        return true;
    }
    let bytes = text.as_bytes();
    for (i, window) in bytes.windows(2).enumerate() {
        if window[0] != b'$' || !matches!(window[1], b'(' | b'{') {
            continue;
        }
        let rest = &text[i + 2..];
        // A reference whose name is itself computed: `$($(x))`, `$(a_$(x))`.
        let name_end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | ':' | '#' | '=' | ')' | '}'))
            .unwrap_or(rest.len());
        if rest[..name_end].contains('$') {
            return true;
        }
        let function = &rest[..name_end];
        let arguments = &rest[name_end..];
        if !arguments.starts_with(char::is_whitespace) {
            continue;
        }
        if matches!(function, "eval" | "value" | "origin" | "flavor" | "let") {
            return true;
        }
        // `$(call $(f)x,…)`: a variable called by a computed name.
        let called = arguments.split([',', ')', '}']).next().unwrap_or("");
        if function == "call" && called.contains('$') {
            return true;
        }
    }
    false
}

/// One side of an `ifeq`/`ifneq`.
enum Side<'t> {
    /// A plain name (or nothing).
    Name(&'t str),
    /// `$(VAR)`: the target's value.
    Variable(&'static str),
    /// `$(filter $(VAR),names)` (either order): the target's value when it
    /// is one of the names, else nothing.
    Filter(&'static str, Vec<&'t str>),
}

/// `ifeq`/`ifneq` (or `else ifeq`/`else ifneq`) comparing one target
/// variable with plain names, directly or through `$(filter …)`: the
/// variable and the names. For a target none of the names matches, every
/// such comparison comes out the same.
fn comparison(line: &str) -> Option<(&'static str, Vec<&str>)> {
    let line = line.split('#').next().unwrap_or("").trim();
    let line = line
        .strip_prefix("else")
        .map(str::trim_start)
        .unwrap_or(line);
    let rest = line
        .strip_prefix("ifeq")
        .or_else(|| line.strip_prefix("ifneq"))?;
    if !rest.starts_with(|c: char| c.is_whitespace() || matches!(c, '(' | '"' | '\'')) {
        return None;
    }
    let rest = rest.trim();
    let (a, b) = if let Some(inner) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        let (a, b) = split_arguments(inner)?;
        (a.trim(), b.trim())
    } else {
        let (a, after) = quoted(rest)?;
        let (b, after) = quoted(after.trim_start())?;
        if !after.trim().is_empty() {
            return None;
        }
        (a, b)
    };
    let mut variable = None;
    let mut names = Vec::new();
    for side in [side(a)?, side(b)?] {
        let seen = match side {
            Side::Name(name) => {
                names.push(name);
                continue;
            }
            Side::Variable(v) => v,
            Side::Filter(v, words) => {
                names.extend(words);
                v
            }
        };
        // Two target variables compared with each other: give up.
        if variable.is_some_and(|other| other != seen) {
            return None;
        }
        variable = Some(seen);
    }
    Some((variable?, names))
}

/// One side of a comparison, if it is one of the [`Side`]s.
fn side(text: &str) -> Option<Side<'_>> {
    let text = text.trim();
    if let Some(variable) = reference(text) {
        return Some(Side::Variable(variable));
    }
    if plain_name(text) {
        return Some(Side::Name(text));
    }
    let arguments = text
        .strip_prefix("$(filter ")
        .and_then(|t| t.strip_suffix(')'))?;
    let (a, b) = split_arguments(arguments)?;
    let (variable, words) = match (reference(a.trim()), reference(b.trim())) {
        (Some(variable), None) => (variable, b),
        (None, Some(variable)) => (variable, a),
        _ => return None,
    };
    // `%` would match targets the words do not name.
    let words: Vec<&str> = words.split_whitespace().collect();
    words
        .iter()
        .all(|w| plain_name(w))
        .then_some(Side::Filter(variable, words))
}

/// The two arguments of `a,b`, split at the one comma outside parentheses.
fn split_arguments(text: &str) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    let mut comma = None;
    for (i, c) in text.char_indices() {
        match c {
            '(' | '{' => depth += 1,
            ')' | '}' => depth = depth.checked_sub(1)?,
            ',' if depth == 0 => {
                if comma.is_some() {
                    return None;
                }
                comma = Some(i);
            }
            _ => {}
        }
    }
    let comma = comma?;
    Some((&text[..comma], &text[comma + 1..]))
}

/// A quoted argument of `ifeq "a" "b"` and what follows it.
fn quoted(text: &str) -> Option<(&str, &str)> {
    let quote = text.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let body = &text[1..];
    let end = body.find(quote)?;
    Some((&body[..end], &body[end + 1..]))
}

/// `$(NAME)` or `${NAME}` for a target variable.
fn reference(text: &str) -> Option<&'static str> {
    let inner = text
        .strip_prefix("$(")
        .and_then(|t| t.strip_suffix(')'))
        .or_else(|| text.strip_prefix("${").and_then(|t| t.strip_suffix('}')))?;
    TARGET_VARIABLES.iter().copied().find(|v| *v == inner)
}

/// A value no target, board or subtarget name could differ from only by
/// make's expansion: letters, digits and `_.+-`.
fn plain_name(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '+' | '-'))
}

/// Lines that mention the target but change nothing in a round: an
/// assignment to `GLUON_TARGET` (each round sets it with `override`) whose
/// value does not mention a target variable, and `export`/`unexport
/// GLUON_TARGET` where no command of site.mk sees it (none runs, or make
/// keeps exported variables from `$(shell …)`, as before GNU make 4.4; the
/// wrapper builds no target whose recipe would run).
fn ignored_in_rounds(
    line: &str,
    runs_commands: bool,
    exports_reach_shell: &impl Fn() -> bool,
) -> bool {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("GLUON_TARGET") {
        let rest = rest.trim_start();
        let value = ["?=", "::=", ":=", "+=", "="]
            .iter()
            .find_map(|op| rest.strip_prefix(op));
        return value.is_some_and(|v| !mentions(v));
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    matches!(words.as_slice(), ["export" | "unexport", "GLUON_TARGET"])
        && (!runs_commands || !exports_reach_shell())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str, board: &str, subtarget: &str) -> TargetEnv {
        TargetEnv {
            name: name.into(),
            board: board.into(),
            subtarget: subtarget.into(),
        }
    }

    #[test]
    fn comparisons_with_names_are_read() {
        let tests = TargetTests::read(
            "# $(GLUON_TARGET) specific settings\n\
             ifeq ($(GLUON_TARGET),x86-64)\nA += b\nendif\n\
             ifneq ( ${GLUON_TARGET} , ath79-generic ) # comment\nendif\n\
             ifeq \"ramips\" \"$(BOARD)\"\nelse ifeq '$(SUBTARGET)' 'mt7621'\nendif\n\
             GLUON_TARGET ?= ar71xx-generic\n\
             GLUON_RELEASE := $(shell date)\n",
            || true,
        )
        .expect("recognised");
        let x86 = env("x86-64", "x86", "64");
        let generic = env("ath79-generic", "ath79", "generic");
        let mt7621 = env("ramips-mt7621", "ramips", "mt7621");
        let other = env("mvebu-cortexa9", "mvebu", "cortexa9");
        let other2 = env("ipq40xx-generic", "ipq40xx", "generic");
        assert_eq!(tests.key(&x86), (Some("x86-64"), None, None));
        assert_eq!(tests.key(&generic), (Some("ath79-generic"), None, None));
        assert_eq!(tests.key(&mt7621), (None, Some("ramips"), Some("mt7621")));
        assert_eq!(tests.key(&other), (None, None, None));
        assert_eq!(tests.key(&other), tests.key(&other2));
    }

    #[test]
    fn any_other_sight_of_the_target_gives_up() {
        for text in [
            "X := $(GLUON_TARGET)\n",
            "GLUON_SITE_PACKAGES += pkg-$(BOARD)\n",
            "ifdef GLUON_TARGET\nendif\n",
            "ifeq ($(GLUON_TARGET),$(X))\nendif\n",
            "ifeq ($(GLUON_TARGET),$(filter $(GLUON_TARGET),x86-%))\nendif\n",
            "ifneq ($(filter-out $(GLUON_TARGET),x86-64),)\nendif\n",
            "ifeq ($(BOARD),$(SUBTARGET))\nendif\n",
            "ifeq ($(filter $(BOARD),x86),$(SUBTARGET))\nendif\n",
            "ifeq ($(GLUON_TARGET),a,b)\nendif\n",
            "ifeq ($(GLUON_TARGET:x86-%=x86),x86)\nendif\n",
            "override GLUON_TARGET := x86-64\n",
            "GLUON_TARGET := $(BOARD)\n",
            "export GLUON_TARGET\nR := $(shell date)\n",
            "BOARD := x86\n",
            "define f\n# $(GLUON_TARGET)\nendef\n",
            "V := $($(NAME))\n",
            "V := $(A_$(NAME))\n",
            "$(eval X := 1)\n",
            "V := $(value $(N))\n",
            "V := $(call $(F)GET)\n",
            "$(foreach v,$(.VARIABLES),$(info $v))\n",
            "include $(GLUON_SITEDIR)/more.mk\n",
            "-include more.mk\n",
            "ifeq ($(GLUON_TARGET),x86-64) \\\n  ,y)\nendif\n",
        ] {
            assert_eq!(TargetTests::read(text, || true), None, "{text}");
        }
    }

    #[test]
    fn filters_with_names_are_comparisons_with_each_name() {
        let tests = TargetTests::read(
            "ifeq ($(GLUON_TARGET),$(filter $(GLUON_TARGET),x86-generic x86-64))\nendif\n\
             ifneq ($(filter ar71xx-tiny ramips-rt305x,$(GLUON_TARGET)),)\nendif\n\
             ifeq \"$(filter $(BOARD),mvebu)\" \"mvebu\"\nendif\n",
            || true,
        )
        .expect("recognised");
        assert_eq!(
            tests.key(&env("x86-64", "x86", "64")),
            (Some("x86-64"), None, None)
        );
        assert_eq!(
            tests.key(&env("ramips-rt305x", "ramips", "rt305x")),
            (Some("ramips-rt305x"), None, None)
        );
        assert_eq!(
            tests.key(&env("mvebu-cortexa9", "mvebu", "cortexa9")),
            (None, Some("mvebu"), None)
        );
        assert_eq!(
            tests.key(&env("ath79-generic", "ath79", "generic")),
            (None, None, None)
        );
    }

    #[test]
    fn an_exported_target_counts_only_where_commands_see_it() {
        let text = "GLUON_TARGET ?= ar71xx-generic\nexport GLUON_TARGET\n\
                    R := $(shell date)\nifeq ($(GLUON_TARGET),x86-64)\nendif\n";
        assert!(
            TargetTests::read(text, || false).is_some(),
            "make before 4.4"
        );
        assert_eq!(TargetTests::read(text, || true), None, "make 4.4 and later");
        let asked = std::cell::Cell::new(false);
        let without_commands = "export GLUON_TARGET\nifeq ($(GLUON_TARGET),x86-64)\nendif\n";
        let read = TargetTests::read(without_commands, || {
            asked.set(true);
            true
        });
        assert!(
            read.is_some() && !asked.get(),
            "no command runs: make is not asked"
        );
    }

    #[test]
    fn what_cannot_see_the_target_is_fine() {
        let tests = TargetTests::read(
            "GLUON_TARGET ?= ar71xx-generic\nexport GLUON_TARGET\n\
             KEYBOARD := x\nGLUON_BOARDS := y\n# BOARD \\\n  still a comment $(BOARD)\n\
             ifeq ($(GLUON_TARGET),)\nendif\n",
            || true,
        )
        .expect("recognised");
        assert_eq!(tests.key(&env("x86-64", "x86", "64")), (None, None, None));
    }
}
