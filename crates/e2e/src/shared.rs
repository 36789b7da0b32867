//! Servers of the tests' own making: another clinic file (a shorter offer
//! time, say), and several instances on one fresh PostgreSQL database, for the
//! flows that must hold across instances.

use std::sync::Arc;

use anyhow::{Context, Result};
use server::clinic::ClinicConfig;
use server::{Limits, Settings};

use super::{App, dist};

/// The variable that names the PostgreSQL server for tests (a role that may
/// create databases); `cargo xtask test` sets it when it has started one.
const POSTGRES_ENV: &str = "BOOKING_TEST_POSTGRES_URL";

impl App {
    /// Starts a server of `clinic` with the real clock and the default limits,
    /// on `database_url`, or on a fresh SQLite file when none is given.
    pub async fn start_clinic(clinic: ClinicConfig, database_url: Option<&str>) -> Result<Self> {
        let data = Arc::new(tempfile::tempdir()?);
        let url = match database_url {
            Some(url) => url.to_owned(),
            None => format!("sqlite://{}/booking.db", data.path().display()),
        };
        let settings =
            Settings { static_dir: dist(), clinic, limits: Limits::default(), ..Settings::local(url) };
        Self::start_settings(data, settings).await
    }
}

/// A fresh, empty PostgreSQL database for one test, dropped by `drop`.
pub struct PostgresDatabase {
    /// Its URL, for the servers.
    pub url: String,
    admin: String,
    name: String,
}

impl PostgresDatabase {
    /// A new database on the server `BOOKING_TEST_POSTGRES_URL` names; an
    /// error when it names none, since a test that asks for one must not pass
    /// without it.
    pub async fn create() -> Result<Self> {
        let admin = std::env::var(POSTGRES_ENV).with_context(|| {
            format!("{POSTGRES_ENV} names no PostgreSQL server (`cargo xtask test` sets it)")
        })?;
        let name = format!("booking_e2e_{}", std::process::id());
        let pool = sqlx::PgPool::connect(&admin).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&pool).await?;
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await?;
        pool.close().await;
        let (base, query) = admin.split_once('?').map_or((admin.as_str(), None), |(b, q)| (b, Some(q)));
        let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
        let url = match query {
            Some(query) => format!("{server}/{name}?{query}"),
            None => format!("{server}/{name}"),
        };
        Ok(Self { url, admin, name })
    }

    /// Drops the database (the servers on it must have stopped).
    pub async fn drop(self) -> Result<()> {
        let pool = sqlx::PgPool::connect(&self.admin).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&pool).await?;
        pool.close().await;
        Ok(())
    }
}
