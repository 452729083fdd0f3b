//! The tree of modules the checker reads: from a folder or from in-memory files.

use std::collections::BTreeMap;
use std::path::Path;

/// Module folder (relative, `/`-separated; "" for the root) -> its
/// `.tf` files (path relative to the root, contents).
pub struct Tree {
    pub modules: BTreeMap<String, Vec<(String, String)>>,
}

impl Tree {
    /// Every folder under `root` holding `.tf` files (`.terraform`
    /// folders skipped).
    pub fn from_dir(root: &Path) -> std::io::Result<Tree> {
        fn walk(
            root: &Path,
            dir: &Path,
            modules: &mut BTreeMap<String, Vec<(String, String)>>,
        ) -> std::io::Result<()> {
            let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if entry.file_type()?.is_dir() {
                    if name != ".terraform" {
                        walk(root, &path, modules)?;
                    }
                } else if name.ends_with(".tf") {
                    let rel = path
                        .strip_prefix(root)
                        .expect("under root")
                        .to_string_lossy()
                        .replace('\\', "/");
                    let module = parent_of(&rel);
                    modules
                        .entry(module)
                        .or_default()
                        .push((rel, std::fs::read_to_string(&path)?));
                }
            }
            Ok(())
        }
        let mut modules = BTreeMap::new();
        walk(root, root, &mut modules)?;
        Ok(Tree { modules })
    }

    /// From (`folder/file.tf`, contents) pairs.
    pub fn from_files(files: &[(&str, &str)]) -> Tree {
        let mut modules: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for (path, contents) in files {
            modules
                .entry(parent_of(path))
                .or_default()
                .push(((*path).to_owned(), (*contents).to_owned()));
        }
        Tree { modules }
    }
}

pub fn parent_of(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => path[..i].to_owned(),
        None => String::new(),
    }
}

/// `dir` joined with a relative module source, normalised; None when
/// it leaves the tree.
pub fn join_source(dir: &str, source: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in source.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}
