//! Runs the whole test suite: builds the page and makes sure Chromium is there
//! (the browser tests need both), then
//! every test of the workspace, the page's own logic included.
//! Extra arguments go to `cargo test`.

use anyhow::Result;
use xshell::{Shell, cmd};

pub(crate) fn run(sh: &Shell, args: &[String]) -> Result<()> {
    crate::frontend::run(sh)?;
    crate::setup::browser(sh)?;
    cmd!(sh, "cargo test --workspace {args...}").run()?;
    Ok(())
}
