//! Holds `addon-runtime/src` to the layer table in `ARCHITECTURE.md`: every `crate::`, `super::`
//! and child-module path a file names must point to its own layer or one below it, the
//! modules must not import each other in a loop, and the layers that must not know HTTP routing
//! must not name axum, tower or hyper.
//!
//! The table is read from `ARCHITECTURE.md` itself (between `<!-- layers -->` and
//! `<!-- /layers -->`), so the picture and the check cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Crates that belong to the HTTP side: a layer whose table row says `no` must not name them.
const HTTP_CRATES: &[&str] = &["axum", "tower", "hyper", "hyper_util"];

#[derive(Debug, Clone)]
struct Layer {
    name: String,
    /// Higher ranks may import lower ones.
    rank: usize,
    /// Folders (`heroku/`) and root files (`app.rs`) that make up the layer.
    members: Vec<String>,
    http: bool,
}

/// A place in the crate: a layer and, within it, a module (the second path segment), such as
/// `services::store`. A folder's own `mod.rs` is the module named after the folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Unit {
    layer: String,
    module: String,
}

#[derive(Debug, PartialEq, Eq)]
struct Violation {
    file: String,
    import: String,
    why: String,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn read_layers(architecture: &str) -> Vec<Layer> {
    let start = architecture.find("<!-- layers -->").expect("ARCHITECTURE.md has a `<!-- layers -->` table");
    let end = architecture.find("<!-- /layers -->").expect("the layer table ends with `<!-- /layers -->`");
    let rows: Vec<Vec<String>> = architecture[start..end]
        .lines()
        .filter(|line| line.starts_with('|') && !line.contains("---"))
        .skip(1)
        .map(|line| line.trim_matches('|').split('|').map(|cell| cell.trim().to_owned()).collect())
        .collect();
    let count = rows.len();
    rows.into_iter()
        .enumerate()
        .map(|(i, cells)| Layer {
            name: cells[0].trim_matches('`').to_owned(),
            rank: count - i,
            members: cells[1].split_whitespace().map(|m| m.trim_matches(['`', ',']).to_owned()).collect(),
            http: cells[3].eq_ignore_ascii_case("yes"),
        })
        .collect()
}

/// The module path of a file: `services/store/jobs.rs` is `services::store::jobs`.
fn module_path(file: &Path) -> Vec<String> {
    let mut parts: Vec<String> = file.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap_or_default();
    match last.as_str() {
        "mod.rs" | "lib.rs" => {}
        other => parts.push(other.trim_end_matches(".rs").to_owned()),
    }
    parts
}

fn layer_of<'a>(layers: &'a [Layer], module: &[String]) -> Option<&'a Layer> {
    let first = module.first().map_or("lib", String::as_str);
    layers.iter().find(|layer| {
        layer.members.iter().any(|m| m.trim_end_matches('/') == first || m.trim_end_matches(".rs") == first)
    })
}

/// The unit a module path falls in, given which module paths exist in the crate.
fn unit_of(layers: &[Layer], path: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Unit> {
    let layer = layer_of(layers, path)?;
    let first = path.first().cloned().unwrap_or_else(|| "lib".to_owned());
    let second = path.get(1).filter(|s| modules.contains(&vec![first.clone(), (*s).clone()]));
    Some(Unit {
        layer: layer.name.clone(),
        module: second.map_or(first.clone(), |s| format!("{first}::{s}")),
    })
}

/// Source without comments, string contents and unit tests, so docs, messages and a test
/// module's `use super::*` do not count as imports. (Unit tests sit at the end of a file.)
fn code_only(source: &str) -> String {
    let source = source.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut previous = ' ';
                for c in chars.by_ref() {
                    if previous == '*' && c == '/' {
                        break;
                    }
                    previous = c;
                }
            }
            '"' => {
                out.push('"');
                let mut escaped = false;
                for c in chars.by_ref() {
                    if !escaped && c == '"' {
                        break;
                    }
                    escaped = !escaped && c == '\\';
                }
                out.push('"');
            }
            '\'' => {
                // A char literal ('x', '\n') is skipped; a lifetime ('a) is kept as it is.
                let rest: String = chars.clone().take(3).collect();
                let literal = rest.starts_with('\\') || rest.chars().nth(1) == Some('\'');
                if literal {
                    for c in chars.by_ref() {
                        if c == '\'' {
                            break;
                        }
                    }
                    out.push_str("' '");
                } else {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Every path a `use` tree names: `use a::{b, c::{d, e}};` gives `a::b`, `a::c::d`, `a::c::e`.
fn expand_use(tree: &str) -> Vec<String> {
    // `a as b` keeps `a`: the rename is marked before white space goes.
    let tree: String = tree.split_whitespace().collect::<Vec<_>>().join(" ").replace(" as ", "@");
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        let path = tree.split('@').next().unwrap_or_default();
        return vec![path.trim_end_matches("::*").to_owned()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(expand_use)
        .map(|p| if p == "self" { prefix.trim_end_matches("::").to_owned() } else { format!("{prefix}{p}") })
        .collect()
}

/// The paths a file names: its `use` trees, and `crate::`/`super::`/HTTP-crate paths in code.
fn named_paths(code: &str) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let boundary = at == 0 || !rest[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        let after = &rest[at + 4..];
        let end = after.find(';').unwrap_or(after.len());
        if boundary {
            paths.extend(expand_use(&after[..end]));
        }
        rest = &after[end.min(after.len())..];
    }
    let bytes = code.as_bytes();
    for root in ["crate::", "super::"].into_iter().chain(HTTP_CRATES.iter().map(|c| &c[..])) {
        let needle = if root.ends_with("::") { root.to_owned() } else { format!("{root}::") };
        let mut from = 0;
        while let Some(found) = code[from..].find(&needle) {
            let at = from + found;
            let boundary = at == 0
                || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_' || bytes[at - 1] == b':');
            let end = code[at..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |e| at + e);
            let path = code[at..end].trim_end_matches(':');
            // `crate::{..}` is a use tree, read above.
            if boundary && path.contains("::") {
                paths.insert(path.to_owned());
            }
            from = end.max(at + 1);
        }
    }
    paths
}

/// Resolves a named path to a module path of the crate, or `None` for an outside crate.
fn resolve(
    path: &str,
    here: &[String],
    is_folder: bool,
    modules: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let segments: Vec<&str> = path.split("::").collect();
    let (mut base, rest): (Vec<String>, &[&str]) = match segments[0] {
        "crate" => (Vec::new(), &segments[1..]),
        "self" => (here.to_vec(), &segments[1..]),
        "super" => {
            let mut base = here.to_vec();
            let mut rest = &segments[..];
            while rest.first() == Some(&"super") {
                // In `x/mod.rs` and `x.rs` alike, `super` is the parent of module `x`.
                base.pop();
                rest = &rest[1..];
            }
            (base, rest)
        }
        first => {
            let mut child = here.to_vec();
            child.push(first.to_owned());
            if is_folder && modules.contains(&child) {
                (here.to_vec(), &segments[..])
            } else {
                return None;
            }
        }
    };
    // The longest prefix that is a module of the crate.
    for segment in rest {
        let mut next = base.clone();
        next.push((*segment).to_owned());
        if modules.contains(&next) {
            base = next;
        } else {
            break;
        }
    }
    Some(base)
}

/// Checks every file (path relative to `src/`, its source) against the layers.
fn check(layers: &[Layer], files: &BTreeMap<PathBuf, String>) -> Vec<Violation> {
    let modules: BTreeSet<Vec<String>> = files.keys().map(|f| module_path(f)).collect();
    let mut violations = Vec::new();
    let mut edges: BTreeMap<Unit, BTreeMap<Unit, (String, String)>> = BTreeMap::new();
    for (file, source) in files {
        let name = file.to_string_lossy().into_owned();
        let here = module_path(file);
        let is_folder = matches!(file.file_name().and_then(|n| n.to_str()), Some("mod.rs" | "lib.rs"));
        let Some(layer) = layer_of(layers, &here) else {
            violations.push(Violation {
                file: name,
                import: String::new(),
                why: "is in no layer of the table".into(),
            });
            continue;
        };
        let from = unit_of(layers, &here, &modules).expect("a file in a layer has a unit");
        for path in named_paths(&code_only(source)) {
            let first = path.split("::").next().unwrap_or_default();
            if HTTP_CRATES.contains(&first) {
                if !layer.http {
                    let why =
                        format!("names `{first}`, and the {} layer must not know HTTP routing", layer.name);
                    violations.push(Violation { file: name.clone(), import: path.clone(), why });
                }
                continue;
            }
            let Some(target) = resolve(&path, &here, is_folder, &modules) else { continue };
            let Some(to_layer) = layer_of(layers, &target) else { continue };
            if to_layer.rank > layer.rank {
                let why = format!("the {} layer imports the {} layer above it", layer.name, to_layer.name);
                violations.push(Violation { file: name.clone(), import: path.clone(), why });
                continue;
            }
            let to = unit_of(layers, &target, &modules).expect("a module in a layer has a unit");
            if to != from {
                edges.entry(from.clone()).or_default().entry(to).or_insert((name.clone(), path.clone()));
            }
        }
    }
    violations.extend(cycles(&edges));
    violations
}

/// One violation per pair of modules that reach each other.
fn cycles(edges: &BTreeMap<Unit, BTreeMap<Unit, (String, String)>>) -> Vec<Violation> {
    let reaches = |from: &Unit, to: &Unit| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(unit) = stack.pop() {
            if &unit == to {
                return true;
            }
            if seen.insert(unit.clone()) {
                stack.extend(edges.get(&unit).into_iter().flat_map(|next| next.keys().cloned()));
            }
        }
        false
    };
    let mut found = Vec::new();
    for (from, targets) in edges {
        for (to, (file, import)) in targets {
            if from < to && reaches(to, from) {
                let why = format!("`{}` and `{}` import each other (through a loop)", from.module, to.module);
                found.push(Violation { file: file.clone(), import: import.clone(), why });
            }
        }
    }
    found
}

fn crate_files() -> BTreeMap<PathBuf, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<PathBuf, String>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file is readable");
                out.insert(path.strip_prefix(root).expect("under src/").to_path_buf(), text);
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(&src(), &src(), &mut files);
    files
}

fn architecture() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md");
    std::fs::read_to_string(&path).expect("ARCHITECTURE.md is next to the crates")
}

#[test]
fn every_import_points_down_and_no_modules_import_each_other() {
    let layers = read_layers(&architecture());
    assert!(layers.len() >= 5, "the layer table has its rows: {layers:?}");
    let violations = check(&layers, &crate_files());
    let report: Vec<String> =
        violations.iter().map(|v| format!("  {}: `{}`: {}", v.file, v.import, v.why)).collect();
    assert!(report.is_empty(), "imports that break ARCHITECTURE.md's layers:\n{}", report.join("\n"));
}

/// The checker itself: it must see an upward import, a loop, and HTTP in a lower layer.
#[test]
fn the_check_catches_what_it_is_for() {
    let layers = read_layers(
        "<!-- layers -->\n| layer | files | may import | axum |\n| --- | --- | --- | --- |\n\
         | app | `lib.rs` | all | yes |\n| top | `top/` | below | yes |\n| low | `low/` | base | no |\n\
         | base | `base/` | nothing | no |\n<!-- /layers -->",
    );
    let files = |extra: &[(&str, &str)]| {
        let mut files: BTreeMap<PathBuf, String> = [
            ("lib.rs", "mod top; mod low; mod base;"),
            ("top/mod.rs", "use crate::low::a::Thing;"),
            ("low/mod.rs", "pub(crate) mod a; pub(crate) mod b;"),
            ("low/a.rs", "use crate::base::clock::now; // crate::top::x is only a comment"),
            ("low/b.rs", "fn f() -> &'static str { \"crate::top::x is a string\" }"),
            ("base/mod.rs", "pub(crate) mod clock;"),
            ("base/clock.rs", "pub fn now() {}"),
        ]
        .into_iter()
        .map(|(f, s)| (PathBuf::from(f), s.to_owned()))
        .collect();
        files.extend(extra.iter().map(|(f, s)| (PathBuf::from(f), (*s).to_owned())));
        files
    };
    assert_eq!(check(&layers, &files(&[])), vec![]);

    let upward = check(&layers, &files(&[("base/clock.rs", "use crate::{low::{a, b}, top};")]));
    assert_eq!(upward.len(), 3, "{upward:?}");
    assert!(upward.iter().all(|v| v.file == "base/clock.rs" && v.why.contains("above it")), "{upward:?}");

    let inline = check(&layers, &files(&[("base/clock.rs", "fn f() { crate::top::go() }")]));
    assert_eq!(inline.len(), 1, "{inline:?}");

    let looped =
        check(&layers, &files(&[("low/b.rs", "use super::a::X;"), ("low/a.rs", "use super::b::Y;")]));
    assert_eq!(looped.len(), 1, "{looped:?}");
    assert!(looped[0].why.contains("import each other"), "{looped:?}");

    let http = check(&layers, &files(&[("low/b.rs", "use axum::Router;")]));
    assert_eq!(http.len(), 1, "{http:?}");
    assert!(http[0].why.contains("must not know HTTP"), "{http:?}");

    let root = check(&layers, &files(&[("low/b.rs", "use crate::Thing;")]));
    assert_eq!(root.len(), 1, "a lower layer may not use the facade's re-exports: {root:?}");
}
