//! Staff sessions: what a login gives. A session's secret is 32 random bytes
//! that the console keeps to resume after a reconnect; the database keeps only
//! its SHA-256, so reading the database gives no session away. A session ends
//! when it runs out, on logout, and when its account is removed or its
//! password changed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use protocol::{Actor, AuditAction};

use super::{Member, Staff, instant, password, role_of};
use crate::address::ClientKey;
use crate::audit::Origin;
use crate::store::{AuditRow, Store, append_audit_rows};
use crate::{Result, secret};

/// A session a login or a resume gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The secret the console resumes with (never stored).
    pub secret: String,
    /// Who logged in.
    pub member: Member,
    /// When it runs out.
    pub expires_at: DateTime<Utc>,
}

/// What a login gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// The name and password were right: a new session.
    Session(Session),
    /// The name or the password was wrong.
    Refused,
    /// The server was checking as many passwords as it can at once; nothing
    /// was checked.
    Busy,
}

impl Staff {
    /// Logs `name` (in any case) in from `address` when `password` is its
    /// password: a new session lasting `lasts`. Both outcomes go into the
    /// audit trail; a login that finds no room for its check (see
    /// `password::Checks`) is not checked at all.
    pub async fn log_in(
        &self,
        name: &str,
        password: &str,
        at: DateTime<Utc>,
        lasts: Duration,
        address: ClientKey,
    ) -> Result<Login> {
        let Some(room) = self.checks.try_room() else { return Ok(Login::Busy) };
        // A name no account can have is not looked up (PostgreSQL refuses
        // some characters outright); its password is checked all the same.
        let account: Option<(i64, String, String, String)> = if super::valid_name(name) {
            sqlx::query_as(
                "SELECT id, name, role, password_hash FROM staff
                 WHERE lower(name) = lower($1) AND removed_at IS NULL",
            )
            .bind(name)
            .fetch_optional(self.pool())
            .await?
        } else {
            None
        };
        // An unknown name costs a check as well, so its answer comes as late.
        let hash = account.as_ref().map(|(_, _, _, hash)| hash.clone());
        let right = password::verify(password, hash, room).await?;
        let Some((id, name, role, _)) = account.filter(|_| right) else {
            // Who failed is unknown: the row names the address and the name
            // tried, when it is one. Anything else typed there (a password in
            // the wrong field, say) is not kept for receptionists to read.
            let origin = Origin::new(Actor::Patient, address);
            let name_tried = if super::valid_name(name) { name } else { "not a valid name" };
            let row = AuditRow::of(AuditAction::LoginFailed).detail(format!("name tried: {name_tried}"));
            self.store.append_audit(at, &origin, vec![row]).await?;
            return Ok(Login::Refused);
        };
        let secret = secret::manage_token();
        let session_hash = secret::manage_hash(&secret);
        let expires_at = at + chrono::Duration::from_std(lasts).unwrap_or(chrono::Duration::hours(12));
        let mut tx = self.pool().begin().await?;
        sqlx::query("INSERT INTO staff_sessions (token_hash, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(&session_hash)
            .bind(id)
            .bind(at.timestamp())
            .bind(expires_at.timestamp())
            .execute(&mut *tx)
            .await?;
        let origin = Origin::new(Actor::Staff { name: name.clone() }, address);
        append_audit_rows(&mut tx, at, &origin, vec![AuditRow::of(AuditAction::LoggedIn)]).await?;
        tx.commit().await?;
        let member = Member { name, role: role_of(&role), session_hash };
        Ok(Login::Session(Session { secret, member, expires_at: instant(expires_at.timestamp()) }))
    }

    /// The session whose secret is `secret`, if it still holds at `at`.
    pub async fn resume(&self, secret: &str, at: DateTime<Utc>) -> Result<Option<Session>> {
        let session_hash = secret::manage_hash(secret);
        Ok(self.holding(&session_hash, at).await?.map(|(member, expires_at)| Session {
            secret: secret.to_owned(),
            member,
            expires_at,
        }))
    }

    /// The member of staff whose session hashes to `session_hash`, if that
    /// session still holds at `at`: not run out, not ended, and its account
    /// not removed.
    pub async fn member(&self, session_hash: &str, at: DateTime<Utc>) -> Result<Option<Member>> {
        Ok(self.holding(session_hash, at).await?.map(|(member, _)| member))
    }

    async fn holding(
        &self,
        session_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<(Member, DateTime<Utc>)>> {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT s.name, s.role, x.expires_at FROM staff_sessions x JOIN staff s ON s.id = x.staff_id
             WHERE x.token_hash = $1 AND x.ended_at IS NULL AND x.expires_at > $2 AND s.removed_at IS NULL",
        )
        .bind(session_hash)
        .bind(at.timestamp())
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(name, role, expires)| {
            (Member { name, role: role_of(&role), session_hash: session_hash.to_owned() }, instant(expires))
        }))
    }

    /// Ends `member`'s session, on every connection that uses it, as they
    /// asked from `address`.
    pub async fn log_out(&self, member: &Member, at: DateTime<Utc>, address: ClientKey) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let ended =
            sqlx::query("UPDATE staff_sessions SET ended_at = $1 WHERE token_hash = $2 AND ended_at IS NULL")
                .bind(at.timestamp())
                .bind(&member.session_hash)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if ended > 0 {
            let origin = Origin::new(Actor::Staff { name: member.name.clone() }, address);
            append_audit_rows(&mut tx, at, &origin, vec![AuditRow::of(AuditAction::LoggedOut)]).await?;
        }
        tx.commit().await?;
        if ended > 0 {
            self.announce_ended(vec![member.session_hash.clone()]);
        }
        Ok(())
    }
}
