//! A local PostgreSQL for the tests that run several server instances on one
//! database: Debian's `postgresql` package, installed with apt when missing, its
//! cluster started, and a `booking` role that may create the tests' databases.
//! A URL already given in `BOOKING_TEST_POSTGRES_URL` is used as it is.

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

/// The variable the tests read.
pub(crate) const ENV: &str = "BOOKING_TEST_POSTGRES_URL";

/// The URL of a PostgreSQL server for the tests, or `None` (with a note saying
/// why) when there is none and none can be set up here. Under `CI=true` there
/// must be one.
pub(crate) fn url(sh: &Shell) -> Result<Option<String>> {
    if let Ok(url) = std::env::var(ENV) {
        return Ok(Some(url));
    }
    match set_up(sh) {
        Ok(url) => Ok(Some(url)),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => Err(e.context("CI needs PostgreSQL")),
        Err(e) => {
            eprintln!("note: the PostgreSQL tests will be skipped: {e:#}");
            eprintln!("      (set {ENV} to a URL of a role that may create databases to run them)");
            Ok(None)
        }
    }
}

fn set_up(sh: &Shell) -> Result<String> {
    let have = |tool: &str| {
        let probe = format!("command -v {tool}");
        cmd!(sh, "sh -c {probe}").quiet().ignore_stdout().run().is_ok()
    };
    let root = cmd!(sh, "id -u").read().is_ok_and(|uid| uid.trim() == "0");
    if !root {
        bail!("setting up a local PostgreSQL needs root");
    }
    if !have("pg_lsclusters") {
        if !have("apt-get") {
            bail!("PostgreSQL is not installed and there is no apt-get to install it");
        }
        let _frontend = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
        cmd!(sh, "apt-get update").run()?;
        cmd!(sh, "apt-get install -y --no-install-recommends postgresql").run()?;
    }
    let clusters = cmd!(sh, "pg_lsclusters --no-header").read()?;
    let (version, name, port, status) = clusters
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.len() >= 4).then(|| (fields[0], fields[1], fields[2], fields[3]))
        })
        .context("PostgreSQL is installed but has no cluster (pg_createcluster makes one)")?;
    if status != "online" {
        cmd!(sh, "pg_ctlcluster {version} {name} start").run()?;
    }
    // Idempotent: the role is created once and its password set every time.
    let sql = "DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'booking') THEN
            CREATE ROLE booking LOGIN CREATEDB;
        END IF;
        ALTER ROLE booking LOGIN CREATEDB PASSWORD 'booking';
    END $$;";
    cmd!(sh, "runuser -u postgres -- psql --quiet -p {port} -v ON_ERROR_STOP=1 -c {sql}").run()?;
    Ok(format!("postgres://booking:booking@127.0.0.1:{port}/postgres"))
}
