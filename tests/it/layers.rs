//! The architecture, checked from the source: the folders are layers and imports point down, no two
//! files import each other round a circle, production code never imports the evaluation's
//! generators, and no source file outgrows a reader (test modules aside).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom first. A file may name its own layer and the ones below.
const LAYERS: [&str; 6] = ["domain", "analysis", "storage", "engine", "frontends", "eval"];

/// Most lines of a source file before its test module.
const MAX_LINES: usize = 700;

/// One source file of the library: its module path and its text without the test module.
struct Source {
    module: Vec<String>,
    path: PathBuf,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let entry = entry.unwrap();
        let path = entry.path();
        let test_file = path.file_name().is_some_and(|name| name == "tests.rs");
        if path.extension().is_none_or(|extension| extension != "rs")
            || path.starts_with(root.join("bin"))
            || test_file
        {
            continue;
        }
        let relative = path.strip_prefix(&root).unwrap().with_extension("");
        let mut module: Vec<String> =
            relative.iter().map(|part| part.to_string_lossy().into_owned()).collect();
        if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
            module.pop();
        }
        let text = std::fs::read_to_string(path).unwrap();
        // Test modules may use anything (the generators included): only production code counts.
        let production = text.find("#[cfg(test)]\nmod tests").map_or(text.as_str(), |at| &text[..at]);
        // Comments (doc links among them) are not imports.
        let code: Vec<&str> =
            production.lines().filter(|line| !line.trim_start().starts_with("//")).collect();
        found.push(Source { module, path: path.to_owned(), text: code.join("\n") });
    }
    found
}

/// The library modules a file names, from `crate::` and `super::` paths in its production code,
/// each resolved to the longest module path that is a file.
fn dependencies(source: &Source, modules: &BTreeSet<Vec<String>>) -> BTreeSet<Vec<String>> {
    let mut named = BTreeSet::new();
    for (start, _) in source.text.match_indices("crate::").chain(source.text.match_indices("super::")) {
        let before = source.text[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let mut rest = &source.text[start..];
        let mut path = Vec::new();
        if let Some(after) = rest.strip_prefix("crate::") {
            rest = after;
        } else {
            // `super` is the parent of the module a file is (a `mod.rs` is its folder's module).
            path = source.module.clone();
            while let Some(after) = rest.strip_prefix("super::") {
                rest = after;
                path.pop();
            }
        }
        for segment in rest.split("::") {
            let name: String = segment.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if name.is_empty() || name.starts_with(|c: char| c.is_uppercase()) {
                break;
            }
            path.push(name);
            if !modules.contains(&path) && !modules.iter().any(|module| module.starts_with(&path)) {
                path.pop();
                break;
            }
        }
        while !path.is_empty() && !modules.contains(&path) {
            path.pop();
        }
        if !path.is_empty() && path != source.module {
            named.insert(path);
        }
    }
    named
}

fn layer(module: &[String]) -> Option<usize> {
    LAYERS.iter().position(|layer| module.first().is_some_and(|first| first == layer))
}

#[test]
fn imports_point_down_the_layers_without_circles() {
    let sources = sources();
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|source| source.module.clone()).collect();
    let graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> =
        sources.iter().map(|source| (source.module.clone(), dependencies(source, &modules))).collect();
    assert!(graph.values().map(BTreeSet::len).sum::<usize>() > 50, "the import reader finds the imports");

    let mut upward = Vec::new();
    for (module, dependencies) in &graph {
        let Some(own) = layer(module) else { continue };
        for dependency in dependencies {
            if layer(dependency).is_some_and(|theirs| theirs > own) {
                upward.push(format!("{} -> {}", module.join("::"), dependency.join("::")));
            }
        }
    }
    assert!(upward.is_empty(), "imports that point up the layers: {upward:#?}");

    // A circle: a module that reaches itself. A module naming its own ancestors' items (`use
    // super::Thing`) is how Rust nests modules, so only imports of non-ancestors count.
    let edges = |module: &Vec<String>| -> Vec<&Vec<String>> {
        graph[module].iter().filter(|dependency| !module.starts_with(dependency)).collect()
    };
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut pending = edges(start);
        while let Some(next) = pending.pop() {
            assert_ne!(next, start, "{} is on an import circle", start.join("::"));
            if seen.insert(next) {
                pending.extend(edges(next));
            }
        }
    }
}

#[test]
fn production_code_never_names_the_evaluation_and_no_file_outgrows_a_reader() {
    let mut too_long = Vec::new();
    for source in sources() {
        let in_eval = source.module.first().is_some_and(|first| first == "eval");
        if !in_eval {
            assert!(!source.text.contains("crate::eval"), "{} imports the evaluation", source.path.display());
        }
        let lines = source.text.lines().count();
        if lines > MAX_LINES {
            too_long.push(format!("{}: {lines} lines", source.path.display()));
        }
    }
    assert!(too_long.is_empty(), "files over {MAX_LINES} lines outside tests: {too_long:#?}");
}
