//! Runs the whole test suite: builds the page and makes sure Chromium is there
//! (the browser tests need both) and a PostgreSQL server (the multi-instance
//! tests need one), then every test of the workspace, the page's own logic
//! included, and then each fuzz target for a minute (`BOOKING_FUZZ_SECONDS`
//! sets how long; 0 skips fuzzing). Extra arguments go to `cargo test`.

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

pub(crate) fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let fuzz_seconds: u64 = match std::env::var("BOOKING_FUZZ_SECONDS") {
        Ok(seconds) => seconds.parse().context("BOOKING_FUZZ_SECONDS must be a number of seconds")?,
        Err(_) => 60,
    };
    crate::frontend::run(sh)?;
    crate::setup::browser(sh)?;
    let postgres = crate::postgres::url(sh)?;
    let _postgres = postgres.map(|url| sh.push_env(crate::postgres::ENV, url));
    cmd!(sh, "cargo test --workspace {args...}").run()?;
    crate::fuzz::run(sh, fuzz_seconds)?;
    Ok(())
}
