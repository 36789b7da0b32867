//! What only admins do at the staff console, as plain data: the staff
//! accounts (listing, adding, removing) and erasing one booking's patient
//! details on the patient's request. The server checks the role again; the
//! page only hides what the one logged in may not do.

use protocol::{
    BookingCode, BookingFailure, ClientMessage, ErrorCode, ServerMessage, StaffAccount, StaffRole,
};

use crate::say::Say;

/// The longest login name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// The shortest password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// An admin's request that changes something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAct {
    /// Make a staff account.
    Add,
    /// Remove a staff account.
    Remove,
    /// Erase a booking's patient details.
    Erase,
}

/// What is wrong with a new account's details, for the field it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountProblem {
    /// The login name is empty, too long, or has characters a name may not.
    Name,
    /// The password is too short.
    Password,
}

/// Checks a new account's details as the server will.
pub fn check_account(name: &str, password: &str) -> Result<(), AccountProblem> {
    let name_ok = (1..=MAX_NAME_CHARS).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !name_ok {
        Err(AccountProblem::Name)
    } else if password.chars().count() < MIN_PASSWORD_CHARS {
        Err(AccountProblem::Password)
    } else {
        Ok(())
    }
}

/// The admin part of the console.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admin {
    /// Every staff account, by name, as last loaded.
    pub accounts: Vec<StaffAccount>,
    /// Whether the accounts were loaded at least once.
    pub loaded: bool,
    /// What the last request said: whether it was done, and what.
    pub said: Option<(bool, Say)>,
    /// The request id of the `staffAccounts` in flight.
    loading: Option<String>,
    /// The request id of the change in flight, and what it is.
    changing: Option<(String, AdminAct)>,
}

impl Admin {
    /// The `staffAccounts` to send.
    pub fn load(&mut self, request_id: String) -> ClientMessage {
        self.loading = Some(request_id.clone());
        ClientMessage::StaffAccounts { request_id }
    }

    /// Whether a change is on its way.
    pub fn busy(&self) -> bool {
        self.changing.is_some()
    }

    fn change(&mut self, act: AdminAct, request_id: String, message: ClientMessage) -> Option<ClientMessage> {
        if self.busy() {
            return None;
        }
        self.changing = Some((request_id, act));
        self.said = None;
        Some(message)
    }

    /// The `addStaff` of a new account, once its details are right.
    pub fn add(
        &mut self,
        name: String,
        role: StaffRole,
        password: String,
        request_id: String,
    ) -> Result<Option<ClientMessage>, AccountProblem> {
        check_account(&name, &password)?;
        let message = ClientMessage::AddStaff { request_id: request_id.clone(), name, role, password };
        Ok(self.change(AdminAct::Add, request_id, message))
    }

    /// The `removeStaff` of account `name`.
    pub fn remove(&mut self, name: String, request_id: String) -> Option<ClientMessage> {
        let message = ClientMessage::RemoveStaff { request_id: request_id.clone(), name };
        self.change(AdminAct::Remove, request_id, message)
    }

    /// The `staffErase` of booking `code`'s patient details.
    pub fn erase(&mut self, code: BookingCode, request_id: String) -> Option<ClientMessage> {
        let message = ClientMessage::StaffErase { request_id: request_id.clone(), booking_code: code };
        self.change(AdminAct::Erase, request_id, message)
    }

    /// Takes a server message; `None` when it was not for the admin part, else
    /// whether the accounts should be loaded again.
    pub fn on_message(&mut self, message: &ServerMessage) -> Option<bool> {
        let id = message.request_id()?;
        if self.loading.as_deref() == Some(id) {
            self.loading = None;
            match message {
                ServerMessage::StaffAccounts { accounts, .. } => {
                    self.accounts = accounts.clone();
                    self.loaded = true;
                }
                ServerMessage::Error { code, .. } => self.said = Some((false, refused_with(*code))),
                _ => self.said = Some((false, Say::Unexpected)),
            }
            return Some(false);
        }
        let (_, act) = self.changing.take_if(|(changing, _)| changing == id)?;
        let (ok, say) = match message {
            ServerMessage::ActionResult { ok: true, .. } => (true, Say::AdminDone(act)),
            ServerMessage::ActionResult { reason, .. } => {
                (false, Say::AdminRefused(act, reason.unwrap_or(BookingFailure::WrongState)))
            }
            // The server refuses a change it will not make (a name taken, the
            // last admin) as an invalid message.
            ServerMessage::Error { code: ErrorCode::InvalidMessage, .. } => (false, Say::AdminRejected(act)),
            ServerMessage::Error { code, .. } => (false, refused_with(*code)),
            _ => (false, Say::Unexpected),
        };
        self.said = Some((ok, say));
        Some(ok && act != AdminAct::Erase)
    }

    /// The connection dropped: a change on its way has an unknown outcome.
    pub fn on_disconnect(&mut self) {
        self.loading = None;
        if self.changing.take().is_some() {
            self.said = Some((false, Say::DroppedWhileSending));
        }
    }
}

fn refused_with(code: ErrorCode) -> Say {
    if code == ErrorCode::Forbidden { Say::Forbidden } else { Say::Error(code) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str, role: StaffRole) -> StaffAccount {
        StaffAccount { name: name.into(), role, created_at: "2026-11-20T08:00:00Z".parse().unwrap() }
    }

    fn result(id: &str, ok: bool, reason: Option<BookingFailure>) -> ServerMessage {
        ServerMessage::ActionResult { request_id: id.into(), ok, reason }
    }

    #[test]
    fn a_new_account_needs_a_name_of_allowed_characters_and_a_long_enough_password() {
        assert_eq!(check_account("rita.k_2-b", "twelve chars"), Ok(()));
        assert_eq!(check_account("", "twelve chars"), Err(AccountProblem::Name));
        assert_eq!(check_account("rita k", "twelve chars"), Err(AccountProblem::Name), "no spaces");
        assert_eq!(check_account("рита", "twelve chars"), Err(AccountProblem::Name), "Latin letters only");
        assert_eq!(check_account(&"a".repeat(65), "twelve chars"), Err(AccountProblem::Name));
        assert_eq!(check_account("rita", "eleven char"), Err(AccountProblem::Password));
        assert_eq!(check_account("rita", "двенадцать!!"), Ok(()), "characters, not bytes");
        let mut admin = Admin::default();
        assert_eq!(
            admin.add("rita".into(), StaffRole::Receptionist, "short".into(), "a1".into()),
            Err(AccountProblem::Password)
        );
        assert!(!admin.busy(), "nothing was sent");
    }

    #[test]
    fn the_accounts_load_and_an_added_one_asks_for_a_reload() {
        let mut admin = Admin::default();
        assert_eq!(admin.load("l1".into()), ClientMessage::StaffAccounts { request_id: "l1".into() });
        let accounts = vec![account("admin", StaffRole::Admin)];
        assert_eq!(
            admin.on_message(&ServerMessage::StaffAccounts {
                request_id: "l1".into(),
                accounts: accounts.clone()
            }),
            Some(false)
        );
        assert_eq!((admin.loaded, &admin.accounts), (true, &accounts));
        let sent = admin.add("rita".into(), StaffRole::Receptionist, "correct horse".into(), "a1".into());
        assert_eq!(
            sent,
            Ok(Some(ClientMessage::AddStaff {
                request_id: "a1".into(),
                name: "rita".into(),
                role: StaffRole::Receptionist,
                password: "correct horse".into()
            }))
        );
        assert_eq!(admin.remove("x".into(), "r0".into()), None, "one change at a time");
        assert_eq!(admin.on_message(&result("other", true, None)), None);
        assert_eq!(admin.on_message(&result("a1", true, None)), Some(true));
        assert_eq!(admin.said, Some((true, Say::AdminDone(AdminAct::Add))));
    }

    #[test]
    fn a_refused_removal_says_the_servers_reason_and_an_erasure_reloads_nothing() {
        let mut admin = Admin::default();
        admin.remove("admin".into(), "r1".into());
        assert_eq!(admin.on_message(&result("r1", false, Some(BookingFailure::WrongState))), Some(false));
        assert_eq!(
            admin.said,
            Some((false, Say::AdminRefused(AdminAct::Remove, BookingFailure::WrongState)))
        );
        let sent = admin.erase("K7M2-QX4P".into(), "e1".into());
        assert_eq!(
            sent,
            Some(ClientMessage::StaffErase { request_id: "e1".into(), booking_code: "K7M2-QX4P".into() })
        );
        assert_eq!(admin.said, None, "a new change clears what the last said");
        assert_eq!(admin.on_message(&result("e1", true, None)), Some(false));
        assert_eq!(admin.said, Some((true, Say::AdminDone(AdminAct::Erase))));
        admin.erase("K7M2-QX4P".into(), "e2".into());
        let forbidden = ServerMessage::Error {
            code: ErrorCode::Forbidden,
            message: "no".into(),
            request_id: Some("e2".into()),
        };
        admin.on_message(&forbidden);
        assert_eq!(admin.said, Some((false, Say::Forbidden)));
        admin.remove("admin".into(), "r2".into());
        let last_admin = ServerMessage::Error {
            code: ErrorCode::InvalidMessage,
            message: "Refused: this is the last admin account.".into(),
            request_id: Some("r2".into()),
        };
        admin.on_message(&last_admin);
        assert_eq!(admin.said, Some((false, Say::AdminRejected(AdminAct::Remove))));
        admin.erase("K7M2-QX4P".into(), "e3".into());
        admin.on_disconnect();
        assert_eq!((admin.busy(), admin.said), (false, Some((false, Say::DroppedWhileSending))));
    }
}
