//! The modules of every crate of the workspace (this library, `submit`, the
//! `preflight` binary) depend on each other one way only, and no function
//! anywhere in the workspace is longer than 200 lines.
//!
//! Every `.rs` file under a crate's `src/` is a node (its module). An edge is a path in
//! non-test code that names another module: `crate::a::b`, `super::x`,
//! `self::x`, or a `use` of a child module by name, resolved to the deepest
//! module it names, and through `pub use` re-exports to the module that
//! defines the item. A module's edges to its own descendants are left out: a
//! parent declares, re-exports and dispatches to its children, which use the
//! parent's shared types through `super::`. The tests fail on any cycle, in
//! the graph of modules and in the graph of top-level modules (each with its
//! descendants: `cli` and `cmd::submit` reaching each other is a cycle of
//! `cli` and `cmd`), and on any edge from the library's pure modules (facts,
//! spec, check, plan and the like) to the ones that touch pixels, FFmpeg or
//! the file system's media.

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

/// The newlines in `b[from..to]`, so that stripped text keeps its line numbers.
fn newlines(b: &[char], from: usize, to: usize) -> String {
    b[from.min(b.len())..to.min(b.len())]
        .iter()
        .filter(|c| **c == '\n')
        .collect()
}

/// The source without comments, string and character literals (their
/// newlines kept, so lines still count).
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
            let start = i;
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
            out.push_str(&newlines(&b, start, i));
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && raw_string_end(&b, i).is_some()
        {
            let start = i;
            i = raw_string_end(&b, i).unwrap_or(b.len());
            out.push_str("\"\"");
            out.push_str(&newlines(&b, start, i));
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != '"' {
                i += if b[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
            out.push_str(&newlines(&b, start, i));
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

/// The workspace's root folder (two levels above this crate).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The workspace's crates, from its Cargo.toml: each member, and the root
/// package when there is one; each as (name for messages, its `src/`).
fn workspace_crates(root: &Path) -> Vec<(String, PathBuf)> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let members = manifest
        .split_once("members")
        .and_then(|(_, rest)| rest.split_once('[')?.1.split_once(']'))
        .map(|(list, _)| list)
        .unwrap_or("");
    let mut crates: Vec<(String, PathBuf)> = members
        .split(',')
        .map(|m| m.trim().trim_matches('"'))
        .filter(|m| !m.is_empty())
        .map(|m| (m.to_string(), root.join(m).join("src")))
        .collect();
    if manifest.lines().any(|l| l.trim() == "[package]") {
        crates.push(("the root package".to_string(), root.join("src")));
    }
    crates
}

/// Each module's edges as edges between the top-level modules they sit in.
fn top_level(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let top = |m: &ModPath| -> ModPath { m.iter().take(1).cloned().collect() };
    let mut out: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (from, targets) in graph {
        let entry = out.entry(top(from)).or_default();
        for to in targets {
            // The root declares every module; its edges are not dependencies.
            if !from.is_empty() && top(to) != top(from) {
                entry.insert(top(to));
            }
        }
    }
    out
}

/// The cycles of every crate under `root`, at both granularities.
fn workspace_cycles(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for (name_of_crate, src) in workspace_crates(root) {
        let graph = Crate::read(&src).edges();
        for (what, g) in [
            ("module", graph.clone()),
            ("top-level module", top_level(&graph)),
        ] {
            if let Some(cycle) = find_cycle(&g) {
                let names: Vec<String> = cycle.iter().map(name).collect();
                found.push(format!(
                    "{name_of_crate}: {what} cycle {}",
                    names.join(" -> ")
                ));
            }
        }
    }
    found
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
fn no_crate_of_the_workspace_has_a_module_cycle() {
    let root = workspace_root();
    let crates = workspace_crates(&root);
    assert!(crates.len() >= 3, "the workspace's crates: {crates:?}");
    let cycles = workspace_cycles(&root);
    assert!(cycles.is_empty(), "{}", cycles.join("\n"));
}

/// Every function in `src` (stripped) with its first line and length in lines.
fn functions(src: &str) -> Vec<(String, usize, usize)> {
    let b: Vec<char> = src.chars().collect();
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let line_at = |i: usize| b[..i].iter().filter(|c| **c == '\n').count() + 1;
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < b.len() {
        let starts_word = i == 0 || !is_ident(b[i - 1]);
        if !(starts_word && b[i] == 'f' && b[i + 1] == 'n' && b[i + 2].is_whitespace()) {
            i += 1;
            continue;
        }
        let mut j = i + 2;
        while j < b.len() && b[j].is_whitespace() {
            j += 1;
        }
        let name: String = b[j..].iter().take_while(|c| is_ident(**c)).collect();
        if name.is_empty() {
            i += 2;
            continue;
        }
        // The body: the first `{` outside parentheses and brackets, unless a
        // `;` ends a declaration first.
        let mut depth = 0i32;
        let mut body = None;
        while j < b.len() {
            match b[j] {
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                ';' if depth == 0 => break,
                '{' if depth == 0 => {
                    body = Some(j);
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        let Some(open) = body else {
            i = j;
            continue;
        };
        let mut braces = 0i32;
        let mut close = open;
        for (k, c) in b.iter().enumerate().skip(open) {
            match c {
                '{' => braces += 1,
                '}' => braces -= 1,
                _ => {}
            }
            if braces == 0 {
                close = k;
                break;
            }
        }
        out.push((name, line_at(i), line_at(close) - line_at(i) + 1));
        i += 2;
    }
    out
}

fn rust_files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if path.is_dir() && !hidden && entry.file_name() != "target" {
            rust_files_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_function_in_the_workspace_is_longer_than_200_lines() {
    let root = workspace_root();
    let mut files = Vec::new();
    rust_files_under(&root, &mut files);
    assert!(files.len() > 50, "found only {} files", files.len());
    let mut long = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (f, line, lines) in functions(&strip(&text)) {
            if lines > 200 {
                let at = file
                    .strip_prefix(&root)
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                long.push(format!("{at}:{line} fn {f}: {lines} lines"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over 200 lines:\n{}",
        long.join("\n")
    );
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

    // `cli` reaching into `cmd`'s child while `cmd` reaches `cli`: no module
    // cycle, but a cycle of the top-level modules.
    let mut graph = BTreeMap::new();
    graph.insert(m("cli"), BTreeSet::from([m("cmd::submit")]));
    graph.insert(m("cmd"), BTreeSet::from([m("cli")]));
    graph.insert(m("cmd::submit"), BTreeSet::new());
    assert!(find_cycle(&graph).is_none());
    let top: Vec<String> = find_cycle(&top_level(&graph))
        .unwrap()
        .iter()
        .map(name)
        .collect();
    assert_eq!(top, ["cli", "cmd", "cli"]);

    let f = functions(&strip(
        "fn a(x: [u8; 2]) {\n\"\n\n\";\n}\ntrait T { fn b(&self); }\nfn c() {}",
    ));
    assert_eq!(f, [("a".to_string(), 1, 5), ("c".to_string(), 7, 1)]);
}
