//! Installs the frontend tool chain when it is missing: the wasm32 target, trunk
//! 0.21 and wasm-bindgen-cli at exactly the version in Cargo.lock. Everything comes
//! from the package registries; nothing downloads a prebuilt binary.

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

/// The trunk release line that builds with the project's Rust.
const TRUNK_VERSION: &str = "0.21";

pub(crate) fn run(sh: &Shell) -> Result<()> {
    wasm_target(sh)?;
    trunk(sh)?;
    wasm_bindgen(sh)?;
    Ok(())
}

/// Installs Debian's Chromium and ChromeDriver for the browser tests when they are
/// missing and this runs as root with apt; otherwise says what to install.
pub(crate) fn browser(sh: &Shell) -> Result<()> {
    let have = |tool: &str| {
        let probe = format!("command -v {tool}");
        cmd!(sh, "sh -c {probe}").quiet().ignore_stdout().run().is_ok()
    };
    if have("chromium") && have("chromedriver") {
        return Ok(());
    }
    let root = cmd!(sh, "id -u").read().is_ok_and(|uid| uid.trim() == "0");
    if !root || !have("apt-get") {
        eprintln!("note: install chromium and chromium-driver to run the browser tests");
        return Ok(());
    }
    let _frontend = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    cmd!(sh, "apt-get update").run()?;
    cmd!(sh, "apt-get install -y --no-install-recommends chromium chromium-driver").run()?;
    Ok(())
}

/// What the browser tests lack here, if anything: the same prerequisites they
/// check themselves, a built page and a `chromedriver` to drive Chromium.
pub(crate) fn browser_missing(sh: &Shell) -> Option<String> {
    if !sh.path_exists("frontend/dist/index.html") {
        return Some("the page is not built".to_owned());
    }
    if cmd!(sh, "chromedriver --version").quiet().ignore_stdout().ignore_stderr().run().is_err() {
        return Some("chromedriver is not installed".to_owned());
    }
    None
}

fn wasm_target(sh: &Shell) -> Result<()> {
    let installed = cmd!(sh, "rustup target list --installed").read()?;
    if !installed.lines().any(|t| t.trim() == "wasm32-unknown-unknown") {
        cmd!(sh, "rustup target add wasm32-unknown-unknown").run()?;
    }
    Ok(())
}

fn trunk(sh: &Shell) -> Result<()> {
    let current = cmd!(sh, "trunk --version").quiet().ignore_stderr().read().unwrap_or_default();
    if current.starts_with(&format!("trunk {TRUNK_VERSION}.")) {
        return Ok(());
    }
    let wanted = format!("~{TRUNK_VERSION}");
    cmd!(sh, "cargo install trunk --version {wanted} --locked").run()?;
    Ok(())
}

fn wasm_bindgen(sh: &Shell) -> Result<()> {
    let wanted = locked_version(&sh.read_file("Cargo.lock")?, "wasm-bindgen")?;
    let current = cmd!(sh, "wasm-bindgen --version").quiet().ignore_stderr().read().unwrap_or_default();
    if current.split_whitespace().nth(1) == Some(wanted.as_str()) {
        return Ok(());
    }
    // Without --locked: one of its locked dependencies is not in the registry.
    cmd!(sh, "cargo install wasm-bindgen-cli --version {wanted}").run()?;
    Ok(())
}

/// The version of `package` recorded in a Cargo.lock.
fn locked_version(lock: &str, package: &str) -> Result<String> {
    let needle = format!("name = \"{package}\"\nversion = \"");
    let Some((_, rest)) = lock.split_once(&needle) else {
        bail!("{package} is not in Cargo.lock");
    };
    rest.split_once('"').map(|(v, _)| v.to_owned()).context("malformed Cargo.lock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_locked_version() {
        let lock = "[[package]]\nname = \"wasm-bindgen-macro\"\nversion = \"9\"\n\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n";
        assert_eq!(locked_version(lock, "wasm-bindgen").unwrap(), "0.2.130");
        assert!(locked_version(lock, "leptos").is_err());
    }
}
