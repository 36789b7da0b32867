//! Staff accounts and the audit trail: who may do what at the staff console,
//! and the record of every change, who made it, and from where.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{BookingCode, SlotId};

/// What a staff account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StaffRole {
    /// Sees patients; cancels, blocks and unblocks, ends holds, marks no-shows,
    /// manages the waitlist and reads the audit trail.
    Receptionist,
    /// All a receptionist may, and also resets the schedule, erases a patient's
    /// details and manages staff accounts.
    Admin,
}

impl StaffRole {
    /// Whether this role may do what admins may.
    pub fn is_admin(self) -> bool {
        self == Self::Admin
    }
}

/// A staff account, as admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffAccount {
    /// The login name.
    pub name: String,
    /// What it may do.
    pub role: StaffRole,
    /// When it was made (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
}

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Actor {
    /// A patient on the schedule page (holding, booking, joining the waitlist).
    Patient,
    /// A patient through a booking's manage link.
    ManageLink,
    /// A patient through a waitlist link.
    WaitlistLink,
    /// A member of staff, by login name.
    Staff {
        /// The account's login name.
        name: String,
    },
    /// The server itself: holds and offers running out, retention, a new day.
    System,
}

/// What happened, in the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AuditAction {
    /// A slot was booked (`bookingCode` says which booking).
    Booked,
    /// A booking was cancelled.
    Cancelled,
    /// A booking moved to `slotId` from `otherSlotId`.
    Rescheduled,
    /// A slot was held for a booking form.
    Held,
    /// A hold was extended.
    HoldExtended,
    /// The holder let go of a hold (or closed the page).
    Released,
    /// A hold or a waitlist offer ran out.
    Expired,
    /// Staff ended somebody's hold.
    HoldEnded,
    /// Staff took a slot out of the schedule.
    Blocked,
    /// Staff put a slot back.
    Unblocked,
    /// The schedule was reset: every booking cancelled.
    Reset,
    /// A patient joined a waitlist (`entryId`).
    Joined,
    /// A freed slot was held for waitlist entry `entryId`.
    Offered,
    /// A waitlist offer was turned down.
    Declined,
    /// A patient left the waitlist.
    Left,
    /// Staff took an entry off the waitlist.
    Removed,
    /// A waitlist entry ended unanswered or out of days.
    Lapsed,
    /// A waitlist entry's window of days and hours changed (`entryId`).
    WindowChanged,
    /// Staff marked the booking's patient as not having come.
    NoShow,
    /// Staff took a no-show mark back.
    NoShowUndone,
    /// A booking's patient name and phone were erased (`detail`: how many
    /// bookings, when the retention job erased several).
    Erased,
    /// A member of staff logged in.
    LoggedIn,
    /// A staff login was refused (`detail`: the name tried).
    LoginFailed,
    /// A member of staff logged out.
    LoggedOut,
    /// A staff account was made (`detail`: its name and role).
    StaffAdded,
    /// A staff account was removed (`detail`: its name).
    StaffRemoved,
    /// A staff account's password was changed, and its sessions ended
    /// (`detail`: its name).
    PasswordChanged,
}

/// One row of the audit trail. Rows are never changed or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// The row's id: rows are in the order they were written.
    pub id: u64,
    /// When it happened (RFC 3339, UTC).
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: Actor,
    /// What happened.
    pub action: AuditAction,
    /// The slot it happened to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_id: Option<SlotId>,
    /// The other slot of a reschedule: the one the booking left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_slot_id: Option<SlotId>,
    /// The booking it happened to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_code: Option<BookingCode>,
    /// The waitlist entry it happened to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<u64>,
    /// The client address it came from (absent for the server's own doings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Anything else worth saying, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Which audit rows `staffHistory` asks for: those matching every field given,
/// newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryQuery {
    /// Only rows about this slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_id: Option<SlotId>,
    /// Only rows about this booking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_code: Option<BookingCode>,
    /// Only rows written at or after this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Only rows of these actions (all when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<AuditAction>,
    /// Only rows by this member of staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_name: Option<String>,
    /// At most this many rows (the server caps it at 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl HistoryQuery {
    /// The most rows one answer carries.
    pub const MAX_ROWS: u32 = 1000;

    /// How many rows to send at most.
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(Self::MAX_ROWS).clamp(1, Self::MAX_ROWS)
    }
}
