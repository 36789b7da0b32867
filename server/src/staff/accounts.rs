//! Making, listing and removing staff accounts, and setting their passwords.
//! A removed account keeps its row, so its name stays in the audit trail and
//! is never given to another account; its sessions end with it. Names are
//! compared without regard to case. Each change writes its audit row in its
//! own transaction.

use chrono::{DateTime, Utc};
use protocol::{AuditAction, StaffAccount, StaffRole};

use super::{Refusal, Staff, instant, password, role_name, role_of, strong_enough, valid_name};
use crate::Result;
use crate::audit::Origin;
use crate::store::{AuditRow, append_audit_rows, lock_writers};

impl Staff {
    /// Makes an account, as `origin` asks.
    pub async fn add(
        &self,
        name: &str,
        role: StaffRole,
        password: &str,
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> Result<Result<(), Refusal>> {
        if !valid_name(name) {
            return Ok(Err(Refusal::BadName));
        }
        if !strong_enough(password) {
            return Ok(Err(Refusal::WeakPassword));
        }
        // Said before the costly hash; checked again under the lock below.
        if let Some(refusal) = self.name_taken(&mut *self.pool().acquire().await?, name).await? {
            return Ok(Err(refusal));
        }
        let hash = password::hash(password, self.checks.room().await?).await?;
        let mut tx = self.pool().begin().await?;
        // Two adds of one name (in any case) at once are ordered here, so
        // that the second finds the first's account.
        lock_writers(&mut tx).await?;
        if let Some(refusal) = self.name_taken(&mut tx, name).await? {
            return Ok(Err(refusal));
        }
        let inserted =
            sqlx::query("INSERT INTO staff (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4)")
                .bind(name)
                .bind(role_name(role))
                .bind(hash)
                .bind(at.timestamp())
                .execute(&mut *tx)
                .await;
        match inserted {
            Ok(_) => {}
            // The index has the last word.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(Err(Refusal::Exists)),
            Err(e) => return Err(e.into()),
        }
        let row = AuditRow::of(AuditAction::StaffAdded).detail(format!("{name} as {}", role_name(role)));
        append_audit_rows(&mut tx, at, origin, vec![row]).await?;
        tx.commit().await?;
        tracing::info!(name, role = role_name(role), "staff account added");
        Ok(Ok(()))
    }

    /// Every account not removed, by name.
    pub async fn list(&self) -> Result<Vec<StaffAccount>> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT name, role, created_at FROM staff WHERE removed_at IS NULL ORDER BY name")
                .fetch_all(self.pool())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(name, role, created)| StaffAccount {
                name,
                role: role_of(&role),
                created_at: instant(created),
            })
            .collect())
    }

    /// Whether no account exists (so nobody can log in yet).
    pub async fn is_empty(&self) -> Result<bool> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff WHERE removed_at IS NULL")
            .fetch_one(self.pool())
            .await?;
        Ok(count == 0)
    }

    /// Removes an account and ends its sessions at once, as `origin` asks;
    /// refused for the last admin unless `force`. Returns the role it had.
    pub async fn remove(
        &self,
        name: &str,
        at: DateTime<Utc>,
        origin: &Origin,
        force: bool,
    ) -> Result<Result<StaffRole, Refusal>> {
        if !valid_name(name) {
            return Ok(Err(Refusal::Unknown));
        }
        let mut tx = self.pool().begin().await?;
        // Two admins removing each other at once are ordered here, on
        // PostgreSQL as on SQLite: the second counts the admins only once the
        // first has committed, and is refused as the last.
        lock_writers(&mut tx).await?;
        let removed: Option<(i64, String, String)> = sqlx::query_as(
            "UPDATE staff SET removed_at = $1
             WHERE lower(name) = lower($2) AND removed_at IS NULL
               AND (role <> 'admin' OR $3 = 1
                    OR (SELECT COUNT(*) FROM staff WHERE role = 'admin' AND removed_at IS NULL) > 1)
             RETURNING id, name, role",
        )
        .bind(at.timestamp())
        .bind(name)
        .bind(i32::from(force))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, name, role)) = removed else {
            let refusal = match self.name_taken(&mut tx, name).await? {
                Some(Refusal::Exists) => Refusal::LastAdmin,
                _ => Refusal::Unknown,
            };
            return Ok(Err(refusal));
        };
        let ended = end_sessions(&mut tx, id, at).await?;
        let row = AuditRow::of(AuditAction::StaffRemoved).detail(format!("{name} ({role})"));
        append_audit_rows(&mut tx, at, origin, vec![row]).await?;
        tx.commit().await?;
        self.announce_ended(ended);
        tracing::info!(name, "staff account removed");
        Ok(Ok(role_of(&role)))
    }

    /// Gives an account a new password, as `origin` asks, and ends its
    /// sessions, so that whoever knew the old one is logged out everywhere.
    pub async fn set_password(
        &self,
        name: &str,
        password: &str,
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> Result<Result<(), Refusal>> {
        if !strong_enough(password) {
            return Ok(Err(Refusal::WeakPassword));
        }
        let Some((id, name)) = self.account(name).await? else { return Ok(Err(Refusal::Unknown)) };
        let hash = password::hash(password, self.checks.room().await?).await?;
        let mut tx = self.pool().begin().await?;
        let changed = sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2 AND removed_at IS NULL")
            .bind(hash)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            // Removed since it was looked up.
            return Ok(Err(Refusal::Unknown));
        }
        let ended = end_sessions(&mut tx, id, at).await?;
        let row = AuditRow::of(AuditAction::PasswordChanged).detail(name.clone());
        append_audit_rows(&mut tx, at, origin, vec![row]).await?;
        tx.commit().await?;
        self.announce_ended(ended);
        tracing::info!(name, "staff password changed");
        Ok(Ok(()))
    }

    /// The row id and the name as written of the account called `name` (in
    /// any case), unless removed.
    async fn account(&self, name: &str) -> Result<Option<(i64, String)>> {
        if !valid_name(name) {
            return Ok(None);
        }
        Ok(sqlx::query_as("SELECT id, name FROM staff WHERE lower(name) = lower($1) AND removed_at IS NULL")
            .bind(name)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Why `name` cannot be given to a new account, if it cannot: an account
    /// has it (in any case), or had it and was removed.
    async fn name_taken(&self, conn: &mut sqlx::AnyConnection, name: &str) -> Result<Option<Refusal>> {
        let removed: Vec<(Option<i64>,)> =
            sqlx::query_as("SELECT removed_at FROM staff WHERE lower(name) = lower($1)")
                .bind(name)
                .fetch_all(conn)
                .await?;
        Ok(if removed.iter().any(|(at,)| at.is_none()) {
            Some(Refusal::Exists)
        } else if removed.is_empty() {
            None
        } else {
            Some(Refusal::NameUsed)
        })
    }
}

/// Ends every session of account `id` at `at`; returns their hashes.
async fn end_sessions(conn: &mut sqlx::AnyConnection, id: i64, at: DateTime<Utc>) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "UPDATE staff_sessions SET ended_at = $1 WHERE staff_id = $2 AND ended_at IS NULL RETURNING token_hash",
    )
    .bind(at.timestamp())
    .bind(id)
    .fetch_all(conn)
    .await?)
}
