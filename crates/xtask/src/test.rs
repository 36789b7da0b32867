//! Runs the whole test suite: builds the page (the browser tests need it), then
//! every test of the workspace, the page's own logic included.
//! Extra arguments go to `cargo test`.

use anyhow::Result;
use xshell::{Shell, cmd};

pub(crate) fn run(sh: &Shell, args: &[String]) -> Result<()> {
    crate::frontend::run(sh)?;
    cmd!(sh, "cargo test --workspace {args...}").run()?;
    Ok(())
}
