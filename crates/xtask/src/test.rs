//! Runs the whole test suite: builds the page, makes sure Chromium is there and
//! fetches axe-core from the npm registry (the browser tests need all three) and
//! a PostgreSQL server (the multi-instance tests need one), then every test of
//! the workspace, the page's own logic included, and then each fuzz target for a
//! minute (`BOOKING_FUZZ_SECONDS` sets how long; 0 skips fuzzing).
//!
//! The tests that need PostgreSQL or a browser are `#[ignore]`d, so that a plain
//! `cargo test` lists them as ignored instead of passing them unrun; once both
//! are there, this passes `--include-ignored` and they run with the rest. Under
//! `CI=true` both must be there. Extra arguments go to `cargo test`, and those
//! after a `--` on to the test binaries.

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

pub(crate) fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let fuzz_seconds: u64 = match std::env::var("BOOKING_FUZZ_SECONDS") {
        Ok(seconds) => seconds.parse().context("BOOKING_FUZZ_SECONDS must be a number of seconds")?,
        Err(_) => 60,
    };
    crate::frontend::run(sh)?;
    crate::setup::browser(sh)?;
    let postgres = crate::postgres::url(sh)?;
    let mut missing: Vec<String> = crate::setup::browser_missing(sh).into_iter().collect();
    missing.extend(axe_core(sh));
    if postgres.is_none() {
        missing.push("there is no PostgreSQL server".to_owned());
    }
    if !missing.is_empty() {
        if std::env::var("CI").as_deref() == Ok("true") {
            bail!("CI runs every test, but {}", missing.join(" and "));
        }
        eprintln!("note: the PostgreSQL and browser tests stay ignored: {}", missing.join(" and "));
    }
    let _postgres = postgres.map(|url| sh.push_env(crate::postgres::ENV, url));
    let args = cargo_test_args(args, missing.is_empty());
    cmd!(sh, "cargo test --workspace {args...}").run()?;
    crate::fuzz::run(sh, fuzz_seconds)?;
    Ok(())
}

/// The axe-core release the browser tests' accessibility audits run; the
/// harness (`crates/e2e/src/axe.rs`) names the same one.
const AXE_CORE_VERSION: &str = "4.14.1";

/// Where axe-core is installed: under `target`, so that git ignores it and it is
/// never committed.
const AXE_PREFIX: &str = "target/npm";

/// Fetches the pinned axe-core from the npm registry when it is not installed
/// yet; returns what is missing when it cannot.
fn axe_core(sh: &Shell) -> Option<String> {
    let manifest = format!("{AXE_PREFIX}/node_modules/axe-core/package.json");
    let installed =
        || sh.read_file(&manifest).is_ok_and(|text| package_version(&text) == Some(AXE_CORE_VERSION));
    if installed() {
        return None;
    }
    if cmd!(sh, "npm --version").quiet().ignore_stdout().ignore_stderr().run().is_err() {
        return Some("npm is not installed to fetch axe-core".to_owned());
    }
    let package = format!("axe-core@{AXE_CORE_VERSION}");
    let flags = ["--no-save", "--no-package-lock", "--no-audit", "--no-fund"];
    let fetched = cmd!(sh, "npm install {flags...} --prefix {AXE_PREFIX} {package}").run();
    if fetched.is_ok() && installed() {
        None
    } else {
        Some(format!("{package} could not be fetched from the npm registry"))
    }
}

/// The `version` of an npm package.json.
fn package_version(manifest: &str) -> Option<&str> {
    let (_, rest) = manifest.split_once("\"version\"")?;
    let (_, rest) = rest.split_once('"')?;
    rest.split_once('"').map(|(version, _)| version)
}

/// The arguments for `cargo test`: those given, with `--include-ignored` for the
/// test binaries when `include_ignored`, unless the ones given for them already
/// say which ignored tests to run.
fn cargo_test_args(given: &[String], include_ignored: bool) -> Vec<String> {
    let (for_cargo, for_binaries) = match given.iter().position(|arg| arg == "--") {
        Some(at) => (&given[..at], &given[at + 1..]),
        None => (given, &[][..]),
    };
    let chosen = for_binaries.iter().any(|arg| arg == "--ignored" || arg == "--include-ignored");
    let mut binary_args: Vec<String> = Vec::new();
    if include_ignored && !chosen {
        binary_args.push("--include-ignored".to_owned());
    }
    binary_args.extend_from_slice(for_binaries);
    let mut args = for_cargo.to_vec();
    if !binary_args.is_empty() {
        args.push("--".to_owned());
        args.extend(binary_args);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::{AXE_CORE_VERSION, cargo_test_args, package_version};

    fn args(given: &str, include_ignored: bool) -> String {
        let given: Vec<String> = given.split_whitespace().map(str::to_owned).collect();
        cargo_test_args(&given, include_ignored).join(" ")
    }

    #[test]
    fn ignored_tests_are_included_for_every_test_binary_when_asked() {
        assert_eq!(args("", true), "-- --include-ignored");
        assert_eq!(args("", false), "");
    }

    #[test]
    fn arguments_for_cargo_and_for_the_test_binaries_keep_their_places() {
        assert_eq!(args("-p server --test crash", true), "-p server --test crash -- --include-ignored");
        assert_eq!(args("-p server -- --nocapture", true), "-p server -- --include-ignored --nocapture");
        assert_eq!(args("-- --nocapture", true), "-- --include-ignored --nocapture");
        assert_eq!(args("-p server -- --nocapture", false), "-p server -- --nocapture");
        assert_eq!(args("booking", false), "booking");
    }

    #[test]
    fn the_version_of_an_npm_package_is_read_from_its_manifest() {
        let manifest =
            "{\n  \"name\": \"axe-core\",\n  \"version\": \"4.14.1\",\n  \"license\": \"MPL-2.0\"\n}";
        assert_eq!(package_version(manifest), Some("4.14.1"));
        assert_eq!(package_version("{}"), None);
    }

    #[test]
    fn the_browser_tests_audit_with_the_axe_core_fetched_here() {
        let harness = std::fs::read_to_string(crate::root().join("crates/e2e/src/axe.rs")).unwrap();
        let pinned = format!("pub const AXE_CORE_VERSION: &str = \"{AXE_CORE_VERSION}\";");
        assert!(harness.contains(&pinned), "crates/e2e/src/axe.rs should say {pinned}");
    }

    #[test]
    fn a_choice_of_ignored_tests_given_is_kept() {
        assert_eq!(args("-- --ignored", true), "-- --ignored");
        assert_eq!(args("-- --include-ignored", true), "-- --include-ignored");
    }
}
