//! Connecting to the database a URL names: which kind it is, the pool, and the
//! migrations; and keeping passwords out of every message.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor};

use crate::{Error, Result};

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file, used by this process alone.
    Sqlite,
    /// A PostgreSQL server, possibly shared by several server instances.
    Postgres,
}

impl Backend {
    /// The backend of a database URL, or a configuration error.
    pub fn of(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(Error::Config(format!(
                "unsupported database URL `{}`; use sqlite://PATH or postgres://USER:PASSWORD@HOST/DATABASE",
                redacted(url)
            )))
        }
    }
}

/// A URL with any password replaced, for messages and logs.
pub(crate) fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Opens the database at `url` (`sqlite://PATH`, created when missing, or
/// `postgres://…`) and applies the migrations.
pub(super) async fn open(url: &str) -> Result<(AnyPool, Backend)> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of(url)?;
    let pool = match backend {
        Backend::Sqlite => {
            create_sqlite(url).await?;
            AnyPoolOptions::new()
                .max_connections(4)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // An acknowledged booking must survive a power cut, not
                        // only a crash.
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        // What is deleted or overwritten (an erased patient's
                        // name and phone) is overwritten with zeros in the
                        // file, not left in free space.
                        conn.execute("PRAGMA secure_delete = ON").await?;
                        // Every booking touches a page of each index keyed by a
                        // secret (code, manage link, proof, request), all over
                        // the file: with SQLite's default 2 MiB cache, a group
                        // commit read many of them back from the kernel.
                        conn.execute("PRAGMA cache_size = -16384").await?;
                        // Those pages are rewritten commit after commit: copied
                        // back to the database file every 4,000 pages of log
                        // rather than every 1,000, each is written there once
                        // for several commits.
                        conn.execute("PRAGMA wal_autocheckpoint = 4000").await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await?
        }
        Backend::Postgres => AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| Error::Config(format!("cannot connect to {}: {e}", redacted(url))))?,
    };
    match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
        // Several instances starting at once take turns: the migrator holds an
        // advisory lock while it works.
        Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
    }
    Ok((pool, backend))
}

/// Creates the SQLite file (and its directory) when missing and puts it in WAL
/// mode, which stays set in the file.
async fn create_sqlite(url: &str) -> Result<()> {
    let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
    if let Some(dir) = Path::new(options.get_filename()).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let connection = options.journal_mode(SqliteJournalMode::Wal).connect().await?;
    connection.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_leaves_in_a_message() {
        assert_eq!(redacted("postgres://booking:s3cret@db/booking"), "postgres://booking:***@db/booking");
        assert_eq!(redacted("postgres://booking@db/booking"), "postgres://booking@db/booking");
        assert_eq!(redacted("sqlite://data/booking.db"), "sqlite://data/booking.db");
        let refused = Backend::of("mysql://root:s3cret@db/x").unwrap_err().to_string();
        assert!(!refused.contains("s3cret"), "{refused}");
    }
}
