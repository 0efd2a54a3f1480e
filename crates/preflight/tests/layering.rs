//! The library's modules depend on each other one way only.
//!
//! Every `.rs` file under `src/` is a node (its module). An edge is a path in
//! non-test code that names another module: `crate::a::b`, `super::x`,
//! `self::x`, or a `use` of a child module by name, resolved to the deepest
//! module it names, and through `pub use` re-exports to the module that
//! defines the item. A module's edges to its own descendants are left out: a
//! parent declares, re-exports and dispatches to its children, which use the
//! parent's shared types through `super::`. The test fails on any cycle, and on
//! any edge from the pure modules (facts, spec, check, plan and the like) to
//! the ones that touch pixels, FFmpeg or the file system's media.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules that decide from facts alone.
const PURE: &[&str] = &[
    "facts", "spec", "check", "plan", "rule", "limits", "error", "sniff", "content",
];
/// Modules that read media or carry out plans.
const EFFECTFUL: &[&str] = &["av", "imaging", "probe", "fix", "pose"];

/// A module path from the crate root: `[]` is the root, `["plan", "video"]`.
type ModPath = Vec<String>;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    PathSep,
    Punct(char),
}

/// The source without comments, string and character literals.
fn strip(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && raw_string_end(&b, i).is_some()
        {
            i = raw_string_end(&b, i).unwrap_or(b.len());
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                i += if b[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A character literal ('a', '\n', '\u{..}'), else a lifetime.
            if next == Some('\\') {
                i += 2;
                while i < b.len() && b[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if b.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
            out.push(' ');
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Where the raw string starting at `i` (`r"…"`, `r#"…"#`) ends, if it is one.
fn raw_string_end(b: &[char], i: usize) -> Option<usize> {
    if i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_') {
        return None;
    }
    let mut j = i + 1;
    let mut hashes = 0;
    while b.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    if b.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < b.len() {
        if b[j] == '"' && (1..=hashes).all(|k| b.get(j + k) == Some(&'#')) {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(b.len())
}

fn tokenize(src: &str) -> Vec<Token> {
    let b: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            let word: String = b[start..i].iter().collect();
            tokens.push(Token::Ident(word.trim_start_matches("r#").to_string()));
        } else if c == ':' && b.get(i + 1) == Some(&':') {
            tokens.push(Token::PathSep);
            i += 2;
        } else if c.is_whitespace() || c.is_numeric() {
            i += 1;
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    tokens
}

/// The tokens with every item under `#[cfg(test)]` removed.
fn without_test_items(tokens: Vec<Token>) -> Vec<Token> {
    let is = |t: Option<&Token>, c: char| t == Some(&Token::Punct(c));
    let word = |t: Option<&Token>, w: &str| matches!(t, Some(Token::Ident(x)) if x == w);
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let cfg_test = is(tokens.get(i), '#')
            && is(tokens.get(i + 1), '[')
            && word(tokens.get(i + 2), "cfg")
            && is(tokens.get(i + 3), '(')
            && word(tokens.get(i + 4), "test")
            && is(tokens.get(i + 5), ')')
            && is(tokens.get(i + 6), ']');
        if !cfg_test {
            out.push(tokens[i].clone());
            i += 1;
            continue;
        }
        // Skip the item: up to its `;`, or through its balanced `{ … }`.
        i += 7;
        let mut depth = 0usize;
        while i < tokens.len() {
            match &tokens[i] {
                Token::Punct('{') => depth += 1,
                Token::Punct('}') => {
                    depth -= 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                Token::Punct(';') if depth == 0 => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
    }
    out
}

/// One `use` tree, expanded into its paths (`a::{b, c::d}` → `a::b`, `a::c::d`).
fn use_paths(tokens: &[Token], i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    while *i < tokens.len() {
        match &tokens[*i] {
            Token::Ident(w) if w == "as" => {
                *i += 2;
            }
            Token::Ident(w) => {
                path.push(w.clone());
                *i += 1;
            }
            Token::PathSep => *i += 1,
            Token::Punct('{') => {
                *i += 1;
                loop {
                    use_paths(tokens, i, &path, out);
                    match tokens.get(*i) {
                        Some(Token::Punct(',')) => *i += 1,
                        Some(Token::Punct('}')) => {
                            *i += 1;
                            break;
                        }
                        _ => break,
                    }
                    if tokens.get(*i) == Some(&Token::Punct('}')) {
                        *i += 1;
                        break;
                    }
                }
                return;
            }
            Token::Punct('*') => {
                *i += 1;
            }
            _ => break,
        }
    }
    if path.len() > prefix.len() {
        out.push(path);
    }
}

/// What one file says: the paths it uses, and the names it re-exports.
#[derive(Default)]
struct FileRefs {
    /// Paths in `use` items.
    uses: Vec<Vec<String>>,
    /// Paths elsewhere that start with `crate`, `super` or `self`.
    paths: Vec<Vec<String>>,
    /// `pub use` items: the name visible here → the full path it stands for.
    reexports: BTreeMap<String, Vec<String>>,
}

fn refs_of(src: &str) -> FileRefs {
    let tokens = without_test_items(tokenize(&strip(src)));
    let mut refs = FileRefs::default();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == Token::Ident("use".into()) {
            let public = i > 0
                && (matches!(&tokens[i - 1], Token::Ident(w) if w == "pub")
                    || tokens[i - 1] == Token::Punct(')'));
            i += 1;
            let mut paths = Vec::new();
            use_paths(&tokens, &mut i, &[], &mut paths);
            for p in paths {
                let name = p.last().cloned().unwrap_or_default();
                if public && name != "self" {
                    refs.reexports.insert(name, p.clone());
                }
                refs.uses.push(p);
            }
            continue;
        }
        if let Token::Ident(w) = &tokens[i] {
            let starts = matches!(w.as_str(), "crate" | "super" | "self");
            let after_sep = i > 0 && tokens[i - 1] == Token::PathSep;
            if starts && !after_sep && tokens.get(i + 1) == Some(&Token::PathSep) {
                let mut path = vec![w.clone()];
                let mut j = i + 1;
                while tokens.get(j) == Some(&Token::PathSep) {
                    match tokens.get(j + 1) {
                        Some(Token::Ident(n)) => path.push(n.clone()),
                        _ => break,
                    }
                    j += 2;
                }
                refs.paths.push(path);
                i = j;
                continue;
            }
        }
        i += 1;
    }
    refs
}

struct Crate {
    /// Every module and what its file says.
    modules: BTreeMap<ModPath, FileRefs>,
}

impl Crate {
    fn read(src: &Path) -> Crate {
        let mut modules = BTreeMap::new();
        for file in rs_files(src) {
            let rel = file.strip_prefix(src).unwrap();
            let mut parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            let last = parts.pop().unwrap();
            match last.as_str() {
                "lib.rs" | "main.rs" | "mod.rs" => {}
                other => parts.push(other.trim_end_matches(".rs").to_string()),
            }
            let text = std::fs::read_to_string(&file).unwrap();
            modules.insert(parts, refs_of(&text));
        }
        Crate { modules }
    }

    /// The module that `path`, written in module `from`, names: the deepest
    /// module along it, or where that module's re-export of the next name leads.
    fn resolve(&self, from: &ModPath, path: &[String], depth: usize) -> Option<ModPath> {
        let mut segments = path.iter().peekable();
        let mut at: ModPath = match segments.peek().map(|s| s.as_str()) {
            Some("crate") => {
                segments.next();
                Vec::new()
            }
            Some("super") | Some("self") => {
                let mut m = from.clone();
                while let Some(s) = segments.peek() {
                    match s.as_str() {
                        "super" => {
                            m.pop()?;
                        }
                        "self" => {}
                        _ => break,
                    }
                    segments.next();
                }
                m
            }
            Some(first) => {
                // A relative path: a child module of `from`, else not ours.
                let mut child = from.clone();
                child.push(first.to_string());
                if !self.modules.contains_key(&child) {
                    return None;
                }
                segments.next();
                child
            }
            None => return None,
        };
        for seg in segments {
            let mut child = at.clone();
            child.push(seg.clone());
            if self.modules.contains_key(&child) {
                at = child;
                continue;
            }
            if depth < 8 {
                if let Some(target) = self.modules[&at].reexports.get(seg) {
                    if let Some(m) = self.resolve(&at, target, depth + 1) {
                        return Some(m);
                    }
                }
            }
            break;
        }
        Some(at)
    }

    /// Module → the modules it reaches directly (descendants left out).
    fn edges(&self) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
        let mut graph = BTreeMap::new();
        for (module, refs) in &self.modules {
            let targets: &mut BTreeSet<ModPath> = graph.entry(module.clone()).or_default();
            for path in refs.uses.iter().chain(&refs.paths) {
                if let Some(target) = self.resolve(module, path, 0) {
                    if !target.starts_with(module) {
                        targets.insert(target);
                    }
                }
            }
        }
        graph
    }
}

fn rs_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rs_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn name(m: &ModPath) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

/// One cycle in `graph`, as the modules along it, if there is any.
fn find_cycle(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Option<Vec<ModPath>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &ModPath,
        graph: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        marks: &mut BTreeMap<ModPath, Mark>,
        stack: &mut Vec<ModPath>,
    ) -> Option<Vec<ModPath>> {
        marks.insert(node.clone(), Mark::Open);
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let start = stack.iter().position(|m| m == next).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(next, graph, marks, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New {
            if let Some(c) = visit(node, graph, &mut marks, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn library_graph() -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    Crate::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src")).edges()
}

#[test]
fn no_module_reaches_back_to_a_module_that_reaches_it() {
    let graph = library_graph();
    if let Some(cycle) = find_cycle(&graph) {
        let names: Vec<String> = cycle.iter().map(name).collect();
        panic!("module cycle: {}", names.join(" -> "));
    }
}

#[test]
fn the_pure_modules_touch_no_pixels_or_ffmpeg() {
    let graph = library_graph();
    let top = |m: &ModPath| m.first().cloned().unwrap_or_default();
    let mut wrong = Vec::new();
    for (from, targets) in &graph {
        if !PURE.contains(&top(from).as_str()) {
            continue;
        }
        for to in targets {
            if EFFECTFUL.contains(&top(to).as_str()) {
                wrong.push(format!("{} -> {}", name(from), name(to)));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "pure modules reach effectful ones: {wrong:?}"
    );
}

#[test]
fn the_graph_reader_sees_paths_uses_reexports_and_skips_tests() {
    let src = r#"
        use super::{decode::{self, image_format as f}, Raster};
        pub use crate::limits::DecodeLimits;
        // crate::commented::out
        fn x() { let s = "crate::in_a_string"; crate::probe::probe(p); }
        #[cfg(test)]
        mod tests { use crate::av::thing; }
    "#;
    let refs = refs_of(src);
    let joined: Vec<String> = refs
        .uses
        .iter()
        .chain(&refs.paths)
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(
        joined,
        [
            "super::decode::self",
            "super::decode::image_format",
            "super::Raster",
            "crate::limits::DecodeLimits",
            "crate::probe::probe",
        ]
    );
    assert_eq!(
        refs.reexports["DecodeLimits"].join("::"),
        "crate::limits::DecodeLimits"
    );

    let mut graph = BTreeMap::new();
    let m = |s: &str| -> ModPath { s.split("::").map(String::from).collect() };
    graph.insert(m("a"), BTreeSet::from([m("b")]));
    graph.insert(m("b"), BTreeSet::from([m("c")]));
    graph.insert(m("c"), BTreeSet::from([m("a")]));
    let cycle: Vec<String> = find_cycle(&graph).unwrap().iter().map(name).collect();
    assert_eq!(cycle, ["a", "b", "c", "a"]);
}
