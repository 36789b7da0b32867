//! Staff accounts and their sessions: who may log in to the staff console, with
//! which role, and the sessions a login gives. Passwords are kept only as
//! argon2 hashes and sessions only as SHA-256 hashes of their secret. The
//! server's connections and the `server staff` command line both work through
//! `Staff`, which also writes the audit rows of what it does.

mod accounts;
pub mod cli;
mod password;
mod sessions;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use protocol::StaffRole;
use tokio::sync::broadcast;

use crate::store::SqlStore;

pub use sessions::{Login, Session};

/// The SHA-256 hashes (hex) of sessions that have just ended on this server.
pub type EndedSessions = Arc<[String]>;

/// How many notices of ended sessions a console may fall behind; one that
/// falls further reads its session from the database instead.
const ENDED_NOTICES: usize = 64;

/// A member of staff logged in on a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The account's login name.
    pub name: String,
    /// What it may do.
    pub role: StaffRole,
    /// SHA-256 (hex) of the session's secret.
    pub session_hash: String,
}

/// The fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The most characters a login name may have.
pub const MAX_NAME_CHARS: usize = 64;

/// Why a change to the staff accounts was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The name is empty, too long, or has other characters than letters,
    /// digits, `.`, `_` and `-`.
    #[error("a login name has 1 to 64 characters, each a letter (A-Z, a-z), a digit, `.`, `_` or `-`")]
    BadName,
    /// The password is too short.
    #[error("a password needs at least 12 characters")]
    WeakPassword,
    /// An account of that name exists already (names are compared without
    /// regard to case).
    #[error("an account of that name exists already")]
    Exists,
    /// A removed account had that name (compared without regard to case): the
    /// audit trail keeps that account's history under it, so it is never
    /// given to another.
    #[error(
        "a removed account had that name, and the audit trail keeps its history under it; choose another name"
    )]
    NameUsed,
    /// No account has that name.
    #[error("no account has that name")]
    Unknown,
    /// The account is the last admin: without it nobody could manage staff.
    #[error("this is the last admin account; add another admin first, so that the clinic is not locked out")]
    LastAdmin,
}

/// Whether `name` may be a login name: 1 to 64 letters, digits, `.`, `_` or `-`.
pub fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_CHARS).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Whether `password` is long enough to be a password.
pub fn strong_enough(password: &str) -> bool {
    password.chars().count() >= MIN_PASSWORD_CHARS
}

/// The name a role has in the `staff` table: its name in the protocol.
fn role_name(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Admin => "admin",
        StaffRole::Receptionist => "receptionist",
    }
}

/// The role the `staff` table's `role` column names; an unknown one (which no
/// statement writes) may do the least.
fn role_of(name: &str) -> StaffRole {
    if name == "admin" { StaffRole::Admin } else { StaffRole::Receptionist }
}

/// An instant the tables keep as Unix seconds.
fn instant(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

/// The staff accounts and sessions in the server's database. Its clones
/// share the room for password checks and the notices of ended sessions.
#[derive(Debug, Clone)]
pub struct Staff {
    store: SqlStore,
    /// Room for the password checks running at once.
    checks: password::Checks,
    /// Tells this server's consoles at once of the sessions that a logout, a
    /// removal or a password change here ended; consoles on other instances
    /// find out at their next check.
    ended: broadcast::Sender<EndedSessions>,
}

impl Staff {
    /// The accounts in `store`'s database.
    pub fn new(store: &SqlStore) -> Self {
        let (ended, _) = broadcast::channel(ENDED_NOTICES);
        Self { store: store.clone(), checks: password::Checks::per_core(), ended }
    }

    /// The notices of sessions ended on this server from now on.
    pub fn ended_sessions(&self) -> broadcast::Receiver<EndedSessions> {
        self.ended.subscribe()
    }

    /// Tells this server's consoles that the sessions hashing to `hashes`
    /// have ended (nobody may be listening, as in the command line).
    fn announce_ended(&self, hashes: Vec<String>) {
        if !hashes.is_empty() {
            let _ = self.ended.send(hashes.into());
        }
    }

    fn pool(&self) -> &sqlx::AnyPool {
        self.store.pool()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_and_plain() {
        for name in ["admin", "rita", "Dr.Ivanova", "night_shift-2", &"a".repeat(64)] {
            assert!(valid_name(name), "{name}");
        }
        for name in ["", "rita smith", "rita@clinic", "рита", "a/b", &"a".repeat(65)] {
            assert!(!valid_name(name), "{name}");
        }
    }

    #[test]
    fn passwords_need_twelve_characters() {
        assert!(!strong_enough("elevenchars"));
        assert!(strong_enough("twelve chars"));
        // Characters, not bytes: eleven Cyrillic letters are still too short.
        assert!(!strong_enough("пароль12345"));
    }

    #[test]
    fn roles_survive_the_table_column() {
        for role in [StaffRole::Admin, StaffRole::Receptionist] {
            assert_eq!(role_of(role_name(role)), role);
        }
    }
}
