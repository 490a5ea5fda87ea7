//! The module graph of docs/architecture.md, read from the sources: data flows one way, so the
//! top-level modules form no cycle, and the rules the page states hold.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the other top-level modules its non-test code names (`crate::x`).
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: BTreeMap<String, Vec<std::path::PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            let mut stack = vec![path.clone()];
            while let Some(dir) = stack.pop() {
                for e in std::fs::read_dir(dir).unwrap() {
                    let p = e.unwrap().path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "rs") {
                        files.entry(name.clone()).or_default().push(p);
                    }
                }
            }
        } else if path.extension().is_some_and(|x| x == "rs") && name != "lib" && name != "main" {
            files.entry(name).or_default().push(path);
        }
    }
    let names: BTreeSet<String> = files.keys().cloned().collect();
    files
        .iter()
        .map(|(module, paths)| {
            let mut uses = BTreeSet::new();
            for p in paths {
                let text = std::fs::read_to_string(p).unwrap();
                // unit tests may reach anywhere; the graph is the shipped code's
                let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
                for (i, _) in code.match_indices("crate::") {
                    let rest = &code[i + "crate::".len()..];
                    let name: String =
                        rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if names.contains(&name) && &name != module {
                        uses.insert(name);
                    }
                }
            }
            (module.clone(), uses)
        })
        .collect()
}

#[test]
fn the_modules_form_no_cycle() {
    let graph = module_graph();
    assert!(graph.len() > 10, "read the sources: {graph:?}");
    // Kahn: repeatedly remove modules that use no remaining module
    let mut left = graph.clone();
    while !left.is_empty() {
        let ready: Vec<String> = left
            .iter()
            .filter(|(_, uses)| uses.iter().all(|u| !left.contains_key(u)))
            .map(|(m, _)| m.clone())
            .collect();
        assert!(!ready.is_empty(), "a cycle among {:?}", left);
        for m in ready {
            left.remove(&m);
        }
    }
}

#[test]
fn the_rules_of_the_architecture_page_hold() {
    let graph = module_graph();
    let uses = |m: &str, other: &str| graph.get(m).is_some_and(|u| u.contains(other));
    for (module, uses_of) in &graph {
        assert!(!uses_of.contains("cli"), "{module} uses cli: only main.rs may");
    }
    assert!(!uses("predict", "viewer"), "headless prediction must not need the viewer");
    for m in ["data", "eval", "model", "train", "predict", "features", "video", "text"] {
        assert!(!uses(m, "viewer") && !uses(m, "bench"), "{m} uses the viewer or the benches");
    }
    for m in ["data", "eval"] {
        assert!(!uses(m, "model") && !uses(m, "train"), "{m} is below the models");
    }
    assert!(!uses("model", "train"), "a model does not know how it is trained");
}
