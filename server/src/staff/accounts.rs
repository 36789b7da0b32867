//! Making, listing and removing staff accounts, and setting their passwords.
//! A removed account keeps its row, so its name stays in the audit trail; its
//! sessions end with it.

use chrono::{DateTime, Utc};
use protocol::{AuditAction, StaffAccount, StaffRole};

use super::{Refusal, Staff, instant, password, role_name, role_of, strong_enough, valid_name};
use crate::Result;
use crate::audit::Origin;
use crate::store::{AuditRow, Store};

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
        if self.id_of(name).await?.is_some() {
            return Ok(Err(Refusal::Exists));
        }
        let hash = password::hash(password).await?;
        let inserted =
            sqlx::query("INSERT INTO staff (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4)")
                .bind(name)
                .bind(role_name(role))
                .bind(hash)
                .bind(at.timestamp())
                .execute(self.pool())
                .await;
        match inserted {
            Ok(_) => {}
            // Made by somebody else since the check above.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(Err(Refusal::Exists)),
            Err(e) => return Err(e.into()),
        }
        let row = AuditRow::of(AuditAction::StaffAdded).detail(format!("{name} as {}", role_name(role)));
        self.store.append_audit(at, origin, vec![row]).await?;
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
        // One statement checks and removes, so that two admins removing each
        // other at once cannot both go: the write comes first in the
        // transaction, which takes the database's write lock on SQLite.
        let removed: Option<(i64, String)> = sqlx::query_as(
            "UPDATE staff SET removed_at = $1
             WHERE name = $2 AND removed_at IS NULL
               AND (role <> 'admin' OR $3 = 1
                    OR (SELECT COUNT(*) FROM staff WHERE role = 'admin' AND removed_at IS NULL) > 1)
             RETURNING id, role",
        )
        .bind(at.timestamp())
        .bind(name)
        .bind(i32::from(force))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, role)) = removed else {
            drop(tx);
            let refusal =
                if self.id_of(name).await?.is_some() { Refusal::LastAdmin } else { Refusal::Unknown };
            return Ok(Err(refusal));
        };
        sqlx::query("UPDATE staff_sessions SET ended_at = $1 WHERE staff_id = $2 AND ended_at IS NULL")
            .bind(at.timestamp())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let row = AuditRow::of(AuditAction::StaffRemoved).detail(format!("{name} ({role})"));
        self.store.append_audit(at, origin, vec![row]).await?;
        tracing::info!(name, "staff account removed");
        Ok(Ok(role_of(&role)))
    }

    /// Gives an account a new password and ends its sessions, so that whoever
    /// knew the old one is logged out everywhere.
    pub async fn set_password(
        &self,
        name: &str,
        password: &str,
        at: DateTime<Utc>,
    ) -> Result<Result<(), Refusal>> {
        if !strong_enough(password) {
            return Ok(Err(Refusal::WeakPassword));
        }
        let Some(id) = self.id_of(name).await? else { return Ok(Err(Refusal::Unknown)) };
        let hash = password::hash(password).await?;
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE staff_sessions SET ended_at = $1 WHERE staff_id = $2 AND ended_at IS NULL")
            .bind(at.timestamp())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(name, "staff password changed");
        Ok(Ok(()))
    }

    /// The row id of the account called `name`, unless removed.
    async fn id_of(&self, name: &str) -> Result<Option<i64>> {
        if !valid_name(name) {
            return Ok(None);
        }
        Ok(sqlx::query_scalar("SELECT id FROM staff WHERE name = $1 AND removed_at IS NULL")
            .bind(name)
            .fetch_optional(self.pool())
            .await?)
    }
}
