//! A fresh PostgreSQL database per test, on the server named by
//! `BOOKING_TEST_POSTGRES_URL` (a URL of a role that may create databases).
//!
//! The PostgreSQL tests are `#[ignore = "needs PostgreSQL: …"]`, so a plain
//! `cargo test` lists them as ignored rather than passing them unrun; they run
//! with `-- --include-ignored`, which `cargo xtask test` passes once it has a
//! PostgreSQL server. A test that runs without one fails (`require`), so no
//! run of them can pass without a database, under `CI=true` least of all.

use std::sync::atomic::{AtomicU32, Ordering};

/// The variable that names the PostgreSQL server for tests.
pub const ENV: &str = "BOOKING_TEST_POSTGRES_URL";

/// A database that exists for one test and is dropped after it.
pub struct TestDatabase {
    /// Its URL, for the server and the store.
    pub url: String,
    admin: String,
    name: String,
}

impl TestDatabase {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A URL of the server's maintenance database, for acting on this one from
    /// outside.
    pub fn admin_url(&self) -> &str {
        &self.admin
    }

    /// A new empty database; fails the test when no PostgreSQL server was given,
    /// since a test that asks for one was asked to run on it.
    pub async fn require(test: &str) -> Self {
        Self::on(server_url(test)).await
    }

    /// A new empty database on the server at `admin`.
    async fn on(admin: String) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("booking_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let pool = sqlx::PgPool::connect(&admin).await.unwrap_or_else(|e| panic!("{ENV}: {e}"));
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&pool).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.unwrap();
        pool.close().await;
        Self { url: with_database(&admin, &name), admin, name }
    }
}

/// The URL of the PostgreSQL server given for the tests; fails `test` when none
/// was given.
pub fn server_url(test: &str) -> String {
    std::env::var(ENV).unwrap_or_else(|_| {
        panic!(
            "{test} needs PostgreSQL: set {ENV} to the URL of a role that may create databases \
             (`cargo xtask test` sets one up)"
        )
    })
}

/// `url` naming database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Dropping needs async work, and a test's runtime may be gone by now.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let pool = sqlx::PgPool::connect(&admin).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&pool)
                    .await
                    .ok()?;
                pool.close().await;
                Some(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}
