//! Gluon's validator vocabulary (`need_*`, `in_site`, `alternatives`, …) over
//! gluonvpn's site model.
//!
//! Semantics follow Gluon's validator.lua and check-site.lua: what a check
//! accepts, the order it looks at things and the wording of its messages.
//! One difference is deliberate: Gluon raises at the first failure and stops
//! the package's check, while a [`Checker`] records the failure and goes on,
//! so that one run reports every problem. A failed `need_*` returns `None`,
//! which skips the code that depends on the value, as Gluon's stop would.

use super::lua_pattern::LuaPatterns;
use crate::diagnostics::{CodeInfo, Diagnostic};
use crate::gluon_version::GluonVersion;

use crate::site::locate;
use crate::site::value::{
    format_value, lua_number_to_string, lua_quote, path_to_string, Key, Node, Value,
};
use crate::source::{FileId, Span};
use std::collections::{BTreeSet, HashMap};

pub type Path = Vec<Key>;

/// The packages whose presence in an image checks may test.
pub const IMAGE_PROBES: &[&str] = &["gluon-tls"];

/// A check run for each item or key of a table (Gluon's subcheck argument).
pub type Subcheck<'c, 'a> = Option<&'c mut dyn FnMut(&mut Checker<'a>, Path)>;

/// What a check is run against: one domain (or the single-domain site) in one
/// kind of image.
pub struct CheckInput<'a> {
    pub version: GluonVersion,
    /// site.conf as evaluated.
    pub site: &'a Node,
    pub site_file: FileId,
    /// The domain being checked: the name Gluon knows it by (its code, or an
    /// alias from `domain_names`), its file and its evaluated configuration.
    pub domain: Option<DomainInput<'a>>,
    /// site.conf merged with the domain, or site.conf alone.
    pub conf: &'a Node,
    /// Every name a domain is installed under (codes and aliases).
    pub domain_names: &'a BTreeSet<String>,
    /// The packages in the image whose postinst runs the check.
    pub image_packages: &'a BTreeSet<String>,
    /// Build variables a check reads (e.g. GLUON_AUTOUPDATER_BRANCH), with
    /// where site.mk sets them.
    pub build_vars: &'a [(String, Node)],
    pub patterns: &'a LuaPatterns,
}

#[derive(Clone, Copy)]
pub struct DomainInput<'a> {
    pub name: &'a str,
    pub file: FileId,
    pub config: &'a Node,
}

/// One requirement a check placed on a path (recording mode).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Requirement {
    pub path: Path,
    /// Gluon's wording: `be a string`, `match pattern '^%x+$'`, …
    pub text: String,
    pub required: bool,
}

/// What a recording checker wrote down.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    pub requirements: Vec<Requirement>,
    pub site_only: BTreeSet<Path>,
    pub domain_only: BTreeSet<Path>,
}

/// The subject of a requirement: a configuration path, or a named value that
/// does not live in the configuration (Gluon's `value(label, v)`).
#[derive(Clone, Debug)]
pub enum Subject<'a> {
    Path(Path),
    Value {
        label: String,
        node: Option<&'a Node>,
    },
}

impl From<Path> for Subject<'_> {
    fn from(path: Path) -> Self {
        Subject::Path(path)
    }
}

impl From<&Path> for Subject<'_> {
    fn from(path: &Path) -> Self {
        Subject::Path(path.clone())
    }
}

/// A literal in a requirement (`need_one_of({..}, {20, 40})`).
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
}

impl Lit {
    fn matches(&self, node: &Node) -> bool {
        match (self, &node.value) {
            (Lit::Str(a), Value::String(b)) => a == b,
            (Lit::Num(a), Value::Number(b)) => a == b,
            (Lit::Bool(a), Value::Bool(b)) => a == b,
            _ => false,
        }
    }

    /// As Gluon's validator `format()` prints it.
    fn format(&self) -> String {
        match self {
            Lit::Str(s) => lua_quote(s),
            Lit::Num(n) => lua_number_to_string(*n),
            Lit::Bool(b) => b.to_string(),
        }
    }
}

impl From<&str> for Lit {
    fn from(s: &str) -> Lit {
        Lit::Str(s.to_string())
    }
}

impl From<String> for Lit {
    fn from(s: String) -> Lit {
        Lit::Str(s)
    }
}

impl From<f64> for Lit {
    fn from(n: f64) -> Lit {
        Lit::Num(n)
    }
}

impl From<i64> for Lit {
    fn from(n: i64) -> Lit {
        Lit::Num(n as f64)
    }
}

impl From<i32> for Lit {
    fn from(n: i32) -> Lit {
        Lit::Num(f64::from(n))
    }
}

impl From<bool> for Lit {
    fn from(b: bool) -> Lit {
        Lit::Bool(b)
    }
}

/// Gluon's `array_to_string`: `["a", "b"]`, `[20, 40]`.
pub fn array_to_string(items: &[Lit]) -> String {
    let parts: Vec<String> = items.iter().map(Lit::format).collect();
    format!("[{}]", parts.join(", "))
}

/// The outcome of loading a subject's value: `Err` when an intermediate step
/// is not a table (already reported, as Gluon's loadpath raises there).
type Loaded<'a> = Result<Option<&'a Node>, ()>;

/// Runs one package's checks against one [`CheckInput`] and collects what
/// fails.
pub struct Checker<'a> {
    input: &'a CheckInput<'a>,
    package: &'static str,
    diagnostics: Vec<Diagnostic>,
    /// When set, every requirement is written down (for the book's reference
    /// of what each package checks; see [`super::explore`]).
    recording: Option<Recording>,
    /// Whether the check asked for the domain's name: only then can its
    /// result differ between a domain and its aliases.
    asked_for_domain: std::cell::Cell<bool>,
    /// Lookup indexes of the large tables of the configuration, by the
    /// table's address. Gluon's checks walk every path from the root, once
    /// per peer of a peer group: a linear search per step would make a site
    /// with thousands of peers quadratic (a table lookup in Gluon's Lua).
    indexes: HashMap<usize, HashMap<&'a str, &'a Node>>,
}

/// Tables with more fields than this get a lookup index.
const INDEXED_FIELDS: usize = 32;

impl<'a> Checker<'a> {
    pub fn new(input: &'a CheckInput<'a>, package: &'static str) -> Checker<'a> {
        Checker {
            input,
            package,
            diagnostics: Vec::new(),
            recording: None,
            asked_for_domain: std::cell::Cell::new(false),
            indexes: HashMap::new(),
        }
    }

    /// A checker that also writes down every requirement it checks.
    pub fn recording(input: &'a CheckInput<'a>, package: &'static str) -> Checker<'a> {
        let mut checker = Checker::new(input, package);
        checker.recording = Some(Recording::default());
        checker
    }

    pub fn into_recording(self) -> Option<Recording> {
        self.recording
    }

    fn note(&mut self, path: &[Key], text: impl FnOnce() -> String, required: bool) {
        if let Some(recording) = &mut self.recording {
            recording.requirements.push(Requirement {
                path: path.to_vec(),
                text: text(),
                required,
            });
        }
    }

    /// Whether the check asked for [`Checker::this_domain`].
    pub fn asked_for_domain(&self) -> bool {
        self.asked_for_domain.get()
    }

    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }

    pub fn version(&self) -> GluonVersion {
        self.input.version
    }

    /// Gluon's `this_domain()`: the domain's name, `None` in single-domain sites.
    pub fn this_domain(&self) -> Option<&'a str> {
        self.asked_for_domain.set(true);
        self.input.domain.map(|d| d.name)
    }

    /// Whether the image being checked contains a package (e.g. `gluon-tls`,
    /// whose presence some checks test through /lib/gluon/features). Only
    /// the packages in [`IMAGE_PROBES`] may be asked about: images are told
    /// apart by those alone.
    pub fn image_has_package(&self, package: &str) -> bool {
        debug_assert!(
            IMAGE_PROBES.contains(&package),
            "{package} is not in IMAGE_PROBES"
        );
        self.input.image_packages.contains(package)
    }

    /// A build variable such as GLUON_AUTOUPDATER_BRANCH, as a value subject.
    pub fn build_var(&self, name: &str) -> Subject<'a> {
        let node = self
            .input
            .build_vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v);
        Subject::Value {
            label: name.to_string(),
            node,
        }
    }

    /// Gluon's `extend(path, {...})`.
    pub fn extend(&self, path: &[Key], more: &[Key]) -> Path {
        path.iter().chain(more).cloned().collect()
    }

    /// Gluon's `table_keys`: the keys of a table, as path elements.
    pub fn table_keys(&self, node: Option<&Node>) -> Vec<Key> {
        node.map(|n| n.entries().into_iter().map(|(k, _)| k).collect())
            .unwrap_or_default()
    }

    // ---- where things are -------------------------------------------------

    fn domain_sets(&self, path: &[Key]) -> Option<&'a Node> {
        self.input.domain.and_then(|d| d.config.lookup(path))
    }

    fn site_sets(&self, path: &[Key]) -> Option<&'a Node> {
        self.input.site.lookup(path)
    }

    /// Gluon's `conf_src`: which file a message names.
    fn conf_src(&self, subject: &Subject<'_>) -> String {
        let path = match subject {
            Subject::Value { .. } => return "Configuration".to_string(),
            Subject::Path(path) => path,
        };
        match self.input.domain {
            None => "site.conf".to_string(),
            Some(domain) => {
                let domain_src = format!("domains/{}.conf", domain.name);
                if self.domain_sets(path).is_some() {
                    domain_src
                } else if self.site_sets(path).is_some() {
                    "site.conf".to_string()
                } else {
                    format!("site.conf / {domain_src}")
                }
            }
        }
    }

    /// Where to point for a subject (see [`locate::locate`]).
    fn locate(&self, subject: &Subject<'_>) -> Option<Span> {
        match subject {
            Subject::Value { node, .. } => node.and_then(|n| n.span),
            Subject::Path(path) => {
                locate::locate(self.input.site, self.input.domain.map(|d| d.config), path)
            }
        }
    }

    fn label(subject: &Subject<'_>) -> String {
        match subject {
            Subject::Path(path) => path_to_string(path),
            Subject::Value { label, .. } => label.clone(),
        }
    }

    fn report(
        &mut self,
        code: &'static CodeInfo,
        src: String,
        message: String,
        span: Option<Span>,
        path: Option<String>,
    ) {
        let mut diagnostic = Diagnostic::new(code, message.clone(), span)
            .with_package(self.package)
            .with_gluon_message(format!("{src} error: {message}"));
        diagnostic.config_path = path;
        if let Some(domain) = self.input.domain {
            diagnostic = diagnostic.with_domain(domain.name);
        }
        self.diagnostics.push(diagnostic);
    }

    /// Gluon's `var_error`: "expected <path> to <msg>, but it is <found>".
    fn var_error(
        &mut self,
        code: &'static CodeInfo,
        subject: &Subject<'_>,
        value: Option<&Node>,
        requirement: &str,
    ) {
        let found = match value {
            None => "unset".to_string(),
            Some(v) => format!("{} (a {} value)", format_value(v), v.lua_type()),
        };
        let label = Self::label(subject);
        let message = format!("expected {label} to {requirement}, but it is {found}");
        let src = self.conf_src(subject);
        let span = match (value, subject) {
            (Some(v), Subject::Path(_)) => v.span.or_else(|| self.locate(subject)),
            _ => self.locate(subject),
        };
        let path = matches!(subject, Subject::Path(_)).then_some(label);
        self.report(code, src, message, span, path);
    }

    /// Gluon's `loadvar`: follows the path through the merged configuration;
    /// a step that is not a table is an error ("expected a.b to be a table").
    fn loadvar(&mut self, subject: &Subject<'a>) -> Loaded<'a> {
        let path = match subject {
            Subject::Value { node, .. } => return Ok(*node),
            Subject::Path(path) => path,
        };
        let mut node = self.input.conf;
        for (i, key) in path.iter().enumerate() {
            if !node.is_table() {
                let prefix = Subject::Path(path[..i].to_vec());
                self.var_error(super::codes::WRONG_TYPE, &prefix, Some(node), "be a table");
                return Err(());
            }
            match self.child(node, key) {
                Some(next) => node = next,
                None => return Ok(None),
            }
        }
        Ok(Some(node))
    }

    /// `node.get(key)`, through an index for large tables.
    fn child(&mut self, node: &'a Node, key: &Key) -> Option<&'a Node> {
        match (&node.value, key) {
            (Value::Object(fields), Key::Name(name)) if fields.len() > INDEXED_FIELDS => {
                let address = std::ptr::from_ref(node) as usize;
                // Later fields win, as in Node::get.
                let index = self
                    .indexes
                    .entry(address)
                    .or_insert_with(|| fields.iter().map(|(k, v)| (k.as_str(), v)).collect());
                index.get(name.as_str()).copied()
            }
            _ => node.get(key),
        }
    }

    // ---- in_site / in_domain / obsolete -------------------------------------

    /// Gluon's `in_site`: the key may only be set in site.conf.
    pub fn in_site(&mut self, path: Path) -> Path {
        if let Some(recording) = &mut self.recording {
            recording.site_only.insert(path.clone());
        }
        if let Some(domain) = self.input.domain {
            if domain.config.lookup(&path).is_some() {
                let message = format!(
                    "{} is allowed in site configuration only",
                    path_to_string(&path)
                );
                let span = locate::key_span(domain.config, &path);
                self.report(
                    super::codes::SITE_ONLY,
                    format!("domains/{}.conf", domain.name),
                    message,
                    span,
                    Some(path_to_string(&path)),
                );
            }
        }
        path
    }

    /// Gluon's `in_domain`: the key may only be set in domain files.
    pub fn in_domain(&mut self, path: Path) -> Path {
        if let Some(recording) = &mut self.recording {
            recording.domain_only.insert(path.clone());
        }
        if self.input.domain.is_some() && self.input.site.lookup(&path).is_some() {
            let message = format!(
                "{} is allowed in domain configuration only",
                path_to_string(&path)
            );
            let span = locate::key_span(self.input.site, &path);
            self.report(
                super::codes::DOMAIN_ONLY,
                "site.conf".to_string(),
                message,
                span,
                Some(path_to_string(&path)),
            );
        }
        path
    }

    /// Gluon's `obsolete(path, msg)`: the key must not be set at all.
    pub fn obsolete(&mut self, path: Path, hint: Option<&str>) {
        self.note(
            &path,
            || {
                format!(
                    "not be set (obsolete: {})",
                    hint.unwrap_or("see the release notes")
                )
            },
            false,
        );
        let subject = Subject::Path(path);
        let Ok(Some(node)) = self.loadvar(&subject) else {
            return;
        };
        let hint = hint.unwrap_or("Check the release notes and documentation for details.");
        let label = Self::label(&subject);
        let message = format!("{label} is obsolete. {hint}");
        let src = self.conf_src(&subject);
        let Subject::Path(path) = &subject else {
            return;
        };
        let span = self
            .domain_sets(path)
            .or_else(|| self.site_sets(path))
            .and_then(|n| n.key_span)
            .or(node.span);
        self.report(super::codes::OBSOLETE, src, message, span, Some(label));
    }

    // ---- need_* -------------------------------------------------------------

    /// Gluon's `need(path, check, required, msg)`.
    pub fn need(
        &mut self,
        subject: impl Into<Subject<'a>>,
        check: impl FnOnce(Option<&Node>) -> bool,
        required: bool,
        requirement: &str,
    ) -> Option<&'a Node> {
        self.need_coded(
            super::codes::REQUIREMENT,
            subject.into(),
            check,
            required,
            || requirement.to_string(),
        )
    }

    fn need_coded(
        &mut self,
        code: &'static CodeInfo,
        subject: Subject<'a>,
        check: impl FnOnce(Option<&Node>) -> bool,
        required: bool,
        requirement: impl Fn() -> String,
    ) -> Option<&'a Node> {
        if let Subject::Path(path) = &subject {
            self.note(path, &requirement, required);
        }
        let value = self.loadvar(&subject).ok()?;
        if !required && value.is_none() {
            return None;
        }
        if !check(value) {
            // Formatted only on failure: lists of allowed values are long.
            self.var_error(code, &subject, value, &requirement());
            return None;
        }
        value
    }

    /// Gluon's `need_type`.
    pub fn need_type(
        &mut self,
        subject: impl Into<Subject<'a>>,
        lua_type: &str,
        required: bool,
        requirement: &str,
    ) -> Option<&'a Node> {
        self.need_coded(
            super::codes::WRONG_TYPE,
            subject.into(),
            |v| v.is_some_and(|n| n.lua_type() == lua_type),
            required,
            || requirement.to_string(),
        )
    }

    pub fn need_string(
        &mut self,
        subject: impl Into<Subject<'a>>,
        required: bool,
    ) -> Option<&'a Node> {
        self.need_type(subject, "string", required, "be a string")
    }

    pub fn need_number(
        &mut self,
        subject: impl Into<Subject<'a>>,
        required: bool,
    ) -> Option<&'a Node> {
        self.need_type(subject, "number", required, "be a number")
    }

    pub fn need_boolean(
        &mut self,
        subject: impl Into<Subject<'a>>,
        required: bool,
    ) -> Option<&'a Node> {
        self.need_type(subject, "boolean", required, "be a boolean")
    }

    /// Gluon's `need_string_match`: a string matching a Lua pattern.
    pub fn need_string_match(
        &mut self,
        subject: impl Into<Subject<'a>>,
        pattern: &str,
        required: bool,
    ) -> Option<&'a Node> {
        let subject = subject.into();
        if let Subject::Path(path) = &subject {
            self.note(path, || format!("match pattern '{pattern}'"), required);
        }
        let node = self.need_string(subject.clone(), required)?;
        let text = node.as_str().unwrap_or_default();
        let matched = self.input.patterns.matches(text, pattern).unwrap_or(false);
        if !matched {
            self.var_error(
                super::codes::PATTERN,
                &subject,
                Some(node),
                &format!("match pattern '{pattern}'"),
            );
            return None;
        }
        Some(node)
    }

    /// Gluon's `need_number_range`.
    pub fn need_number_range(
        &mut self,
        subject: impl Into<Subject<'a>>,
        min: f64,
        max: f64,
        required: bool,
    ) -> Option<&'a Node> {
        let subject = subject.into();
        if let Subject::Path(path) = &subject {
            let text = || {
                format!(
                    "be in range [{}, {}]",
                    lua_number_to_string(min),
                    lua_number_to_string(max)
                )
            };
            self.note(path, text, required);
        }
        let node = self.need_number(subject.clone(), required)?;
        let n = node.as_f64().unwrap_or(f64::NAN);
        if n < min || n > max {
            let requirement = format!(
                "be in range [{}, {}]",
                lua_number_to_string(min),
                lua_number_to_string(max)
            );
            self.var_error(super::codes::RANGE, &subject, Some(node), &requirement);
            return None;
        }
        Some(node)
    }

    /// Gluon's `need_array`: any table passes (an object has length 0); the
    /// subcheck runs for items 1..#t.
    pub fn need_array(
        &mut self,
        subject: impl Into<Subject<'a>>,
        subcheck: Subcheck<'_, 'a>,
        required: bool,
    ) -> Option<&'a Node> {
        let subject = subject.into();
        let node = self.need_type(subject.clone(), "table", required, "be an array")?;
        if let (Some(subcheck), Subject::Path(path)) = (subcheck, &subject) {
            for i in 1..=node.len() {
                subcheck(self, self.extend(path, &[Key::Index(i)]));
            }
        }
        Some(node)
    }

    /// Gluon's `need_table`: the subcheck runs for every key (`pairs`).
    pub fn need_table(
        &mut self,
        subject: impl Into<Subject<'a>>,
        subcheck: Subcheck<'_, 'a>,
        required: bool,
    ) -> Option<&'a Node> {
        let subject = subject.into();
        let node = self.need_type(subject.clone(), "table", required, "be a table")?;
        if let (Some(subcheck), Subject::Path(path)) = (subcheck, &subject) {
            for (key, _) in node.entries() {
                subcheck(self, self.extend(path, &[key]));
            }
        }
        Some(node)
    }

    /// Gluon's `need_value`: exactly this value.
    pub fn need_value(
        &mut self,
        subject: impl Into<Subject<'a>>,
        value: impl Into<Lit>,
        required: bool,
    ) -> Option<&'a Node> {
        let value = value.into();
        // Gluon prints the expected value with tostring, so strings unquoted.
        let shown = || match &value {
            Lit::Str(s) => format!("be {s}"),
            other => format!("be {}", other.format()),
        };
        self.need_coded(
            super::codes::NOT_ALLOWED,
            subject.into(),
            |v| v.is_some_and(|n| value.matches(n)),
            required,
            shown,
        )
    }

    /// Gluon's `need_one_of`.
    pub fn need_one_of(
        &mut self,
        subject: impl Into<Subject<'a>>,
        allowed: &[Lit],
        required: bool,
    ) -> Option<&'a Node> {
        self.need_coded(
            super::codes::NOT_ALLOWED,
            subject.into(),
            |v| v.is_some_and(|n| allowed.iter().any(|a| a.matches(n))),
            required,
            || format!("be one of the given array {}", array_to_string(allowed)),
        )
    }

    /// Gluon's `need_string_array`.
    pub fn need_string_array(
        &mut self,
        subject: impl Into<Subject<'a>>,
        required: bool,
    ) -> Option<&'a Node> {
        self.need_array(
            subject,
            Some(&mut |c: &mut Checker<'a>, item: Path| {
                c.need_string(item, true);
            }),
            required,
        )
    }

    /// Gluon's `need_string_array_match`.
    pub fn need_string_array_match(
        &mut self,
        subject: impl Into<Subject<'a>>,
        pattern: &str,
        required: bool,
    ) -> Option<&'a Node> {
        self.need_array(
            subject,
            Some(&mut |c: &mut Checker<'a>, item: Path| {
                c.need_string_match(item, pattern, true);
            }),
            required,
        )
    }

    /// Gluon's `need_array_of`: every item one of the allowed values.
    pub fn need_array_of(
        &mut self,
        subject: impl Into<Subject<'a>>,
        allowed: &[Lit],
        required: bool,
    ) -> Option<&'a Node> {
        self.need_array(
            subject,
            Some(&mut |c: &mut Checker<'a>, item: Path| {
                c.need_one_of(item, allowed, true);
            }),
            required,
        )
    }

    /// Gluon's `need_array_elements_exclusive`: not both `a` and `b`.
    pub fn need_array_elements_exclusive(
        &mut self,
        subject: impl Into<Subject<'a>>,
        a: impl Into<Lit>,
        b: impl Into<Lit>,
        required: bool,
    ) -> Option<&'a Node> {
        let subject = subject.into();
        let (a, b) = (a.into(), b.into());
        if let Subject::Path(path) = &subject {
            let text = || format!("not contain both {} and {}", a.format(), b.format());
            self.note(path, text, required);
        }
        let node = self.need_array(subject.clone(), None, required)?;
        let contains = |lit: &Lit| node.items().iter().any(|n| lit.matches(n));
        if contains(&a) && contains(&b) {
            let requirement = format!(
                "contain only one of the elements {} and {}, but not both.",
                a.format(),
                b.format()
            );
            self.var_error(
                super::codes::NOT_ALLOWED,
                &subject,
                Some(node),
                &requirement,
            );
            return None;
        }
        Some(node)
    }

    /// Gluon's `need_chanlist`: a space-separated list of channels and
    /// ascending channel ranges (`36-64 100`).
    pub fn need_chanlist(
        &mut self,
        subject: impl Into<Subject<'a>>,
        channels: &[i64],
        required: bool,
    ) -> Option<&'a Node> {
        let requirement = || {
            let allowed: Vec<Lit> = channels.iter().map(|&c| Lit::from(c)).collect();
            format!(
                "be a space-separated list of WiFi channels or channel-ranges (separated by a hyphen). Valid channels are: {}",
                array_to_string(&allowed)
            )
        };
        self.need_coded(
            super::codes::NOT_ALLOWED,
            subject.into(),
            |v| {
                v.and_then(Node::as_str)
                    .is_some_and(|s| valid_chanlist(s, channels))
            },
            required,
            requirement,
        )
    }

    /// Gluon's `need_alphanumeric_key`: the last path element must be a
    /// string of `[0-9a-zA-Z_]`.
    pub fn need_alphanumeric_key(&mut self, path: &[Key]) {
        self.note(
            path,
            || "have a key of letters, digits and underscores".to_string(),
            true,
        );
        let ok = matches!(path.last(), Some(Key::Name(name))
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        if ok {
            return;
        }
        let shown = path.last().map(|key| match key {
            Key::Name(name) => Node::new(Value::String(name.clone()), None),
            Key::Index(i) => Node::new(Value::Number(*i as f64), None),
        });
        let subject = Subject::Path(path.to_vec());
        let span = self
            .domain_sets(path)
            .or_else(|| self.site_sets(path))
            .and_then(|n| n.key_span);
        let found = match &shown {
            None => "unset".to_string(),
            Some(v) => format!("{} (a {} value)", format_value(v), v.lua_type()),
        };
        let label = Self::label(&subject);
        let message = format!(
            "expected {label} to have a string key using only alphanumeric characters and underscores, but it is {found}"
        );
        let src = self.conf_src(&subject);
        let span = span.or_else(|| self.locate(&subject));
        self.report(super::codes::INVALID_KEY, src, message, span, Some(label));
    }

    /// Gluon's `need_domain_name`: a string naming an installed domain (a
    /// domain code or an alias).
    pub fn need_domain_name(&mut self, path: Path) -> Option<&'a Node> {
        let subject = Subject::Path(path);
        self.need_string(subject.clone(), true)?;
        let names = self.input.domain_names;
        self.need_coded(
            super::codes::UNKNOWN_DOMAIN,
            subject,
            |v| v.and_then(Node::as_str).is_some_and(|s| names.contains(s)),
            true,
            || "be a valid domain name".to_string(),
        )
    }

    /// Gluon's `alternatives(f1, f2, …)`: passes when one alternative passes
    /// entirely; otherwise one error listing each alternative's first error.
    pub fn alternatives(&mut self, alternatives: &mut [&mut dyn FnMut(&mut Checker<'a>)]) {
        let mut failures = Vec::new();
        let mut first_span = None;
        let mut passed = false;
        for (i, alternative) in alternatives.iter_mut().enumerate() {
            let mut trial = Checker::new(self.input, self.package);
            trial.recording = self.recording.as_ref().map(|_| Recording::default());
            alternative(&mut trial);
            if let (Some(recording), Some(trial)) = (&mut self.recording, trial.recording.take()) {
                // Recording runs every alternative, to write all of them down.
                recording
                    .requirements
                    .extend(trial.requirements.into_iter().map(|mut r| {
                        r.text = format!("either (form {}) {}", i + 1, r.text);
                        r
                    }));
                recording.site_only.extend(trial.site_only);
                recording.domain_only.extend(trial.domain_only);
            }
            match trial.diagnostics.into_iter().next() {
                None if self.recording.is_some() => passed = true,
                None => return,
                Some(first) => {
                    if first_span.is_none() {
                        first_span = first.span;
                    }
                    failures.push(first.gluon_message.unwrap_or(first.message));
                }
            }
        }
        if passed {
            return;
        }
        let mut message = String::from("All of the following alternatives have failed:");
        for (i, failure) in failures.iter().enumerate() {
            message.push_str(&format!("\n        {}) {}", i + 1, failure));
        }
        // Gluon raises this text as it is, without a "<src> error:" prefix.
        let mut diagnostic =
            Diagnostic::new(super::codes::ALTERNATIVES, message.clone(), first_span)
                .with_package(self.package)
                .with_gluon_message(message);
        if let Some(domain) = self.input.domain {
            diagnostic = diagnostic.with_domain(domain.name);
        }
        self.diagnostics.push(diagnostic);
    }
}

/// Gluon's channel list syntax: groups of `N` or `N-M` (N < M), all valid.
fn valid_chanlist(list: &str, channels: &[i64]) -> bool {
    let valid = |s: &str| s.parse::<i64>().ok().is_some_and(|n| channels.contains(&n));
    list.split_whitespace().all(|group| {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if digits(group) {
            valid(group)
        } else if let Some((from, to)) = group.split_once('-') {
            digits(from)
                && digits(to)
                && from.parse::<u64>().ok() < to.parse::<u64>().ok()
                && valid(from)
                && valid(to)
        } else {
            false
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chanlists_follow_gluons_syntax() {
        let channels = [36, 40, 44, 48, 100];
        assert!(valid_chanlist("36 40", &channels));
        assert!(valid_chanlist("36-48 100", &channels));
        assert!(valid_chanlist("", &channels));
        assert!(!valid_chanlist("48-36", &channels));
        assert!(!valid_chanlist("36-37", &channels));
        assert!(!valid_chanlist("36,40", &channels));
        assert!(!valid_chanlist("38", &channels));
    }

    #[test]
    fn arrays_print_like_gluon() {
        let items = [Lit::from("experimental"), Lit::from(20), Lit::from(true)];
        assert_eq!(array_to_string(&items), "[\"experimental\", 20, true]");
    }
}
