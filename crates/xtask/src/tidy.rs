//! The tidy test: house rules that every Rust file of the repository keeps, checked
//! by `cargo test` like any other test, in the manner of rust-analyzer's
//! `xtask/src/tidy.rs`. Every file starts with a `//!` line saying what it is for,
//! and none is over `MAX_LINES` lines, so each can be read in one sitting.

use std::path::{Path, PathBuf};

/// The most lines a file may have.
const MAX_LINES: usize = 500;

/// Directories that hold none of the repository's own code: build output, and
/// git's store.
const SKIPPED: &[&str] = &["target", "crates/fuzz/target", ".git"];

#[test]
fn every_rust_file_says_what_it_is_for_and_is_short_enough_to_read_in_one_sitting() {
    let root = crate::root();
    let mut files = Vec::new();
    rust_files(&root, &root, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no Rust files under {}", root.display());

    let mut undocumented = Vec::new();
    let mut long = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(root.join(file))
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        if !text.starts_with("//!") {
            undocumented.push(format!("  {}", file.display()));
        }
        let lines = text.lines().count();
        if lines > MAX_LINES {
            long.push(format!("  {} ({lines} lines)", file.display()));
        }
    }

    let mut problems = String::new();
    if !undocumented.is_empty() {
        problems += "files that do not start with a `//!` line saying what they are for:\n";
        problems += &undocumented.join("\n");
        problems += "\n";
    }
    if !long.is_empty() {
        problems += &format!("files over {MAX_LINES} lines (split them by responsibility):\n");
        problems += &long.join("\n");
        problems += "\n";
    }
    assert!(problems.is_empty(), "{} Rust files checked\n{problems}", files.len());
}

/// Collects the `.rs` files under `dir`, as paths relative to `root`, leaving out
/// the `SKIPPED` directories.
fn rust_files(root: &Path, dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap();
        let path = entry.path();
        let relative = path.strip_prefix(root).expect("under the root").to_path_buf();
        // Symbolic links are not followed: what they point to is checked where it is.
        if entry.file_type().unwrap().is_dir() {
            if !SKIPPED.iter().any(|skipped| relative == Path::new(skipped)) {
                rust_files(root, &path, files);
            }
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(relative);
        }
    }
}
