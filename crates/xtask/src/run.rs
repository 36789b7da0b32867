//! Builds the page and runs the server on it (SQLite at `data/booking.db` unless
//! told otherwise); extra arguments go to the server.

use anyhow::Result;
use xshell::{Shell, cmd};

pub(crate) fn run(sh: &Shell, args: &[String]) -> Result<()> {
    crate::frontend::run(sh)?;
    cmd!(sh, "cargo run --release --package server -- {args...}").run()?;
    Ok(())
}
