//! `cargo xtask`: project automation in Rust, so that the README, CI and every
//! developer run the very same steps.
//!
//! ```text
//! cargo xtask setup      install the wasm target, trunk and wasm-bindgen-cli when missing
//! cargo xtask frontend   set up, then build the page into frontend/dist (release, offline)
//! cargo xtask run [ARGS] build the page, then run the server (release) with ARGS
//! cargo xtask test [ARGS] build the page, then run every test of the workspace
//!                        (the ignored ones too, once PostgreSQL and the browser
//!                        are there), then fuzz each target for a minute
//! cargo xtask fuzz [SECS] fuzz each target for SECS seconds (60)
//! ```

mod frontend;
mod fuzz;
mod postgres;
mod run;
mod setup;
mod test;
#[cfg(test)]
mod tidy;

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use xshell::Shell;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let given: Vec<String> = args.collect();
    // `cargo xtask run -- --flag` hands the `--` through; it only separates. For
    // `test` it means what it means to `cargo test`: what follows is for the test
    // binaries.
    let rest: Vec<String> = given.iter().skip_while(|a| *a == "--").cloned().collect();
    let sh = Shell::new()?;
    sh.change_dir(root());
    match task.as_str() {
        "setup" => setup::run(&sh),
        "frontend" => frontend::run(&sh),
        "run" => run::run(&sh, &rest),
        "test" => test::run(&sh, &given),
        "fuzz" => {
            let seconds = rest
                .first()
                .map_or(Ok(60), |s| s.parse())
                .map_err(|_| anyhow::anyhow!("SECS is a number"))?;
            fuzz::run(&sh, seconds)
        }
        _ => {
            eprintln!("usage: cargo xtask <setup|frontend|run|test|fuzz> [ARGS]");
            bail!("unknown task `{task}`")
        }
    }
}

/// The repository root, found from this crate's manifest directory.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/xtask is two levels down")
        .to_path_buf()
}
