//! The staff console's words: roles, where an appointment stands, who made a
//! change in the audit trail and what it was, and problems with a new account.
//! What became of an admin's change is a notice, in `say` itself.

use protocol::{Actor, AuditAction, StaffRole};

use crate::i18n::{Locale, td_string};
use crate::staff::admin::AccountProblem;
use crate::staff::agenda::RowState;

/// A role, in a word or two.
pub fn role(role: StaffRole, l: Locale) -> &'static str {
    match role {
        StaffRole::Receptionist => td_string!(l, role_receptionist),
        StaffRole::Admin => td_string!(l, role_admin),
    }
}

/// Where an appointment of the agenda stands.
pub fn row_state(state: RowState, l: Locale) -> &'static str {
    match state {
        RowState::Upcoming => td_string!(l, row_upcoming),
        RowState::Now => td_string!(l, row_now),
        RowState::Past => td_string!(l, row_past),
        RowState::NoShow => td_string!(l, row_no_show),
    }
}

/// Who made a change.
pub fn actor(actor: &Actor, l: Locale) -> String {
    match actor {
        Actor::Patient => td_string!(l, actor_patient).to_string(),
        Actor::ManageLink => td_string!(l, actor_manage_link).to_string(),
        Actor::WaitlistLink => td_string!(l, actor_waitlist_link).to_string(),
        Actor::Staff { name } => td_string!(l, actor_staff, name = name).to_string(),
        Actor::System => td_string!(l, actor_system).to_string(),
    }
}

/// What a change was.
pub fn action(action: AuditAction, l: Locale) -> &'static str {
    match action {
        AuditAction::Booked => td_string!(l, audit_booked),
        AuditAction::Cancelled => td_string!(l, audit_cancelled),
        AuditAction::Rescheduled => td_string!(l, audit_rescheduled),
        AuditAction::Held => td_string!(l, audit_held),
        AuditAction::HoldExtended => td_string!(l, audit_hold_extended),
        AuditAction::Released => td_string!(l, audit_released),
        AuditAction::Expired => td_string!(l, audit_expired),
        AuditAction::HoldEnded => td_string!(l, audit_hold_ended),
        AuditAction::Blocked => td_string!(l, audit_blocked),
        AuditAction::Unblocked => td_string!(l, audit_unblocked),
        AuditAction::Reset => td_string!(l, audit_reset),
        AuditAction::Joined => td_string!(l, audit_joined),
        AuditAction::Offered => td_string!(l, audit_offered),
        AuditAction::Declined => td_string!(l, audit_declined),
        AuditAction::Left => td_string!(l, audit_left),
        AuditAction::Removed => td_string!(l, audit_removed),
        AuditAction::Lapsed => td_string!(l, audit_lapsed),
        AuditAction::WindowChanged => td_string!(l, audit_window_changed),
        AuditAction::NoShow => td_string!(l, audit_no_show),
        AuditAction::NoShowUndone => td_string!(l, audit_no_show_undone),
        AuditAction::Erased => td_string!(l, audit_erased),
        AuditAction::LoggedIn => td_string!(l, audit_logged_in),
        AuditAction::LoginFailed => td_string!(l, audit_login_failed),
        AuditAction::LoggedOut => td_string!(l, audit_logged_out),
        AuditAction::StaffAdded => td_string!(l, audit_staff_added),
        AuditAction::StaffRemoved => td_string!(l, audit_staff_removed),
        AuditAction::PasswordChanged => td_string!(l, audit_password_changed),
    }
}

/// What is wrong with a new account's details.
pub fn account_problem(problem: AccountProblem, l: Locale) -> &'static str {
    match problem {
        AccountProblem::Name => td_string!(l, account_bad_name),
        AccountProblem::Password => td_string!(l, account_short_password),
    }
}
