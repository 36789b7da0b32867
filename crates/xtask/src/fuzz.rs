//! Runs each fuzz target of `crates/fuzz` for a bounded time with cargo-fuzz on
//! the nightly toolchain (installing cargo-fuzz from crates.io when missing).
//! The corpus each run grows is kept in `crates/fuzz/corpus/` for the next run.

use anyhow::{Result, bail};
use xshell::{Shell, cmd};

/// The targets, each with the libFuzzer options it needs.
const TARGETS: &[(&str, &[&str])] = &[
    ("decode", &[]),
    // Longer inputs hold longer sessions of messages.
    ("engine", &["-max_len=2048", "-len_control=10"]),
];

/// Fuzzes every target for `seconds` each. Without a nightly toolchain the
/// fuzzing is skipped with a note, except under `CI=true`.
pub(crate) fn run(sh: &Shell, seconds: u64) -> Result<()> {
    if seconds == 0 {
        return Ok(());
    }
    let toolchains = cmd!(sh, "rustup toolchain list").read().unwrap_or_default();
    if !toolchains.lines().any(|t| t.starts_with("nightly")) {
        if std::env::var("CI").as_deref() == Ok("true") {
            bail!("fuzzing needs the nightly toolchain");
        }
        eprintln!("note: no nightly toolchain, so the fuzz targets are not run");
        return Ok(());
    }
    if cmd!(sh, "cargo fuzz --version").quiet().ignore_stdout().ignore_stderr().run().is_err() {
        cmd!(sh, "cargo install cargo-fuzz --locked").run()?;
    }
    let max_time = format!("-max_total_time={seconds}");
    for &(target, options) in TARGETS {
        let corpus = format!("crates/fuzz/corpus/{target}");
        sh.create_dir(&corpus)?;
        let seeds = format!("crates/fuzz/seeds/{target}");
        let seeds: Vec<String> = sh.path_exists(&seeds).then_some(seeds).into_iter().collect();
        eprintln!("fuzzing `{target}` for {seconds} s");
        cmd!(
            sh,
            "cargo +nightly fuzz run --fuzz-dir crates/fuzz --sanitizer none {target} {corpus} {seeds...}
             -- {max_time} -timeout=30 -print_final_stats=1 {options...}"
        )
        .run()?;
    }
    Ok(())
}
