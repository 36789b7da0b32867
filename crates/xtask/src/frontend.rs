//! Builds the page into `frontend/dist` with trunk, offline, in release mode.

use anyhow::Result;
use xshell::{Shell, cmd};

pub(crate) fn run(sh: &Shell) -> Result<()> {
    crate::setup::run(sh)?;
    cmd!(sh, "trunk build --release --offline").run()?;
    Ok(())
}
