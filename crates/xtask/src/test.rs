//! Runs the whole test suite: builds the page and makes sure Chromium is there
//! (the browser tests need both) and a PostgreSQL server (the multi-instance
//! tests need one), then every test of the workspace, the page's own logic
//! included. Extra arguments go to `cargo test`.

use anyhow::Result;
use xshell::{Shell, cmd};

pub(crate) fn run(sh: &Shell, args: &[String]) -> Result<()> {
    crate::frontend::run(sh)?;
    crate::setup::browser(sh)?;
    let postgres = crate::postgres::url(sh)?;
    let _postgres = postgres.map(|url| sh.push_env(crate::postgres::ENV, url));
    cmd!(sh, "cargo test --workspace {args...}").run()?;
    Ok(())
}
