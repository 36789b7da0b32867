//! Staff members as connections know them once logged in.

use protocol::StaffRole;

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
