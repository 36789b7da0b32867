//! A fresh PostgreSQL database per test, on the server named by
//! `BOOKING_TEST_POSTGRES_URL` (a URL of a role that may create databases).
//! Without it the PostgreSQL tests say they were skipped and why; under
//! `CI=true` they must run, so its absence fails them.

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

    /// A new empty database, or `None` when no PostgreSQL server was given.
    pub async fn create(test: &str) -> Option<Self> {
        let Ok(admin) = std::env::var(ENV) else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but {ENV} is not set: the PostgreSQL tests must run in CI"
            );
            eprintln!("skipped {test}: PostgreSQL tests need {ENV} (set by `cargo xtask test`)");
            return None;
        };
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("booking_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let pool = sqlx::PgPool::connect(&admin).await.unwrap_or_else(|e| panic!("{ENV}: {e}"));
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&pool).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.unwrap();
        pool.close().await;
        Some(Self { url: with_database(&admin, &name), admin, name })
    }
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
