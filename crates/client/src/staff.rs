//! The staff requests of `Client`: logging in with a name and password,
//! resuming the session after a reconnect, logging out, and the admins'
//! management of staff accounts. A refusal (a wrong password, a session that
//! ended, a role that may not) is an [`Error::Server`] `forbidden`.

use chrono::{DateTime, Utc};
use protocol::{ClientMessage, ServerMessage, StaffAccount, StaffRole};

use crate::{Client, Error, Outcome, unexpected};

/// A staff session the server gave on a login or a resume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    /// The session's secret, for `staff_resume`.
    pub session: String,
    /// The account's login name.
    pub name: String,
    /// What it may do.
    pub role: StaffRole,
    /// When the session runs out.
    pub expires_at: DateTime<Utc>,
}

impl Client {
    /// Logs this connection in as the member of staff `name` and waits for the
    /// session. The staff state follows it, for `recv`.
    pub async fn staff_login(&mut self, name: &str, password: &str) -> Result<StaffSession, Error> {
        let request_id = self.request_id();
        let login =
            ClientMessage::StaffLogin { request_id, name: name.to_owned(), password: password.to_owned() };
        session("staffLogin", self.call(login).await?)
    }

    /// Logs this connection in with a session an earlier login gave.
    pub async fn staff_resume(&mut self, session_secret: &str) -> Result<StaffSession, Error> {
        let request_id = self.request_id();
        let resume = ClientMessage::StaffResume { request_id, session: session_secret.to_owned() };
        session("staffResume", self.call(resume).await?)
    }

    /// Ends this connection's staff session, on every connection using it.
    pub async fn staff_logout(&mut self) -> Result<(), Error> {
        let request_id = self.request_id();
        match self.call(ClientMessage::StaffLogout { request_id }).await? {
            ServerMessage::ActionResult { ok: true, .. } => Ok(()),
            other => Err(unexpected("staffLogout", other)),
        }
    }

    /// Admins: every staff account.
    pub async fn staff_accounts(&mut self) -> Result<Vec<StaffAccount>, Error> {
        let request_id = self.request_id();
        match self.call(ClientMessage::StaffAccounts { request_id }).await? {
            ServerMessage::StaffAccounts { accounts, .. } => Ok(accounts),
            other => Err(unexpected("staffAccounts", other)),
        }
    }

    /// Admins: makes a staff account. A name or password the server refuses
    /// is an [`Error::Server`] saying why.
    pub async fn add_staff(&mut self, name: &str, role: StaffRole, password: &str) -> Result<(), Error> {
        let request_id = self.request_id();
        let add = ClientMessage::AddStaff {
            request_id,
            name: name.to_owned(),
            role,
            password: password.to_owned(),
        };
        match self.call(add).await? {
            ServerMessage::ActionResult { ok: true, .. } => Ok(()),
            other => Err(unexpected("addStaff", other)),
        }
    }

    /// Admins: removes a staff account (`notFound` when there is none of that
    /// name); its sessions end at once.
    pub async fn remove_staff(&mut self, name: &str) -> Result<Outcome<()>, Error> {
        let request_id = self.request_id();
        match self.call(ClientMessage::RemoveStaff { request_id, name: name.to_owned() }).await? {
            ServerMessage::ActionResult { ok: true, .. } => Ok(Ok(())),
            ServerMessage::ActionResult { ok: false, reason: Some(reason), .. } => Ok(Err(reason)),
            other => Err(unexpected("removeStaff", other)),
        }
    }
}

/// What a `staffSession` says.
fn session(request: &str, reply: ServerMessage) -> Result<StaffSession, Error> {
    match reply {
        ServerMessage::StaffSession { session, name, role, expires_at, .. } => {
            Ok(StaffSession { session, name, role, expires_at })
        }
        other => Err(unexpected(request, other)),
    }
}
