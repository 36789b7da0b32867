//! The audit trail at the staff console, as plain data: a booking's or a
//! slot's history in a dialog, and the last day's activity with a filter by
//! kind of change, by who made it, and by text over codes and slots.

use chrono::DateTime;
use protocol::{
    Actor, AuditAction, AuditEntry, BookingCode, ClientMessage, HistoryQuery, ServerMessage, SlotId,
};

use crate::say::Say;

/// How far back the activity view reaches.
pub const DAY_MS: i64 = 24 * 3_600_000;

/// What a history dialog is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A booking, by code.
    Booking(BookingCode),
    /// A slot.
    Slot(SlotId),
}

/// Rows of the audit trail asked for, and their answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rows {
    /// The rows, newest first, as last loaded.
    pub entries: Vec<AuditEntry>,
    /// Whether they were loaded at least once.
    pub loaded: bool,
    /// What went wrong loading them.
    pub said: Option<Say>,
    /// The request id of the `staffHistory` in flight.
    loading: Option<String>,
}

impl Rows {
    fn ask(&mut self, query: HistoryQuery, request_id: String) -> ClientMessage {
        self.loading = Some(request_id.clone());
        self.said = None;
        ClientMessage::StaffHistory { request_id, query }
    }

    /// Whether a load is on its way.
    pub fn loading(&self) -> bool {
        self.loading.is_some()
    }

    fn on_message(&mut self, message: &ServerMessage) -> bool {
        let Some(id) = message.request_id() else { return false };
        if self.loading.as_deref() != Some(id) {
            return false;
        }
        self.loading = None;
        match message {
            ServerMessage::StaffHistory { entries, .. } => {
                self.entries = entries.clone();
                self.loaded = true;
            }
            ServerMessage::Error { code: protocol::ErrorCode::Forbidden, .. } => {
                self.said = Some(Say::Forbidden)
            }
            ServerMessage::Error { code, .. } => self.said = Some(Say::Error(*code)),
            _ => self.said = Some(Say::Unexpected),
        }
        true
    }

    fn on_disconnect(&mut self) {
        if self.loading.take().is_some() {
            self.said = Some(Say::NotConnected);
        }
    }
}

/// The history dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// What it is about.
    pub subject: Subject,
    /// Its rows.
    pub rows: Rows,
}

/// The audit trail's part of the console: the history dialog, when open, and
/// the activity view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audit {
    /// The open history dialog.
    pub history: Option<History>,
    /// The last day's activity.
    pub activity: Rows,
}

impl Audit {
    /// Opens the history of `subject`: the `staffHistory` to send.
    pub fn open(&mut self, subject: Subject, request_id: String) -> ClientMessage {
        let query = match &subject {
            Subject::Booking(code) => {
                HistoryQuery { booking_code: Some(code.clone()), ..HistoryQuery::default() }
            }
            Subject::Slot(slot) => HistoryQuery { slot_id: Some(slot.clone()), ..HistoryQuery::default() },
        };
        let mut rows = Rows::default();
        let ask = rows.ask(query, request_id);
        self.history = Some(History { subject, rows });
        ask
    }

    /// Closes the history dialog; its answer, if still on its way, is dropped.
    pub fn close(&mut self) {
        self.history = None;
    }

    /// The `staffHistory` of everything since a day before `now_ms`.
    pub fn load_activity(&mut self, now_ms: i64, request_id: String) -> ClientMessage {
        let since = DateTime::from_timestamp_millis(now_ms - DAY_MS);
        self.activity.ask(HistoryQuery { since, ..HistoryQuery::default() }, request_id)
    }

    /// Takes a server message; `true` when it answered a request of ours.
    pub fn on_message(&mut self, message: &ServerMessage) -> bool {
        self.history.as_mut().is_some_and(|h| h.rows.on_message(message)) || self.activity.on_message(message)
    }

    /// The connection dropped: what was asked is not answered.
    pub fn on_disconnect(&mut self) {
        if let Some(history) = &mut self.history {
            history.rows.on_disconnect();
        }
        self.activity.on_disconnect();
    }
}

/// Who made a change, as the activity view filters by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Who {
    /// Anyone.
    #[default]
    Anyone,
    /// Patients, on the schedule or through their links.
    Patients,
    /// The server itself.
    System,
    /// This member of staff.
    Staff(String),
}

impl Who {
    fn matches(&self, actor: &Actor) -> bool {
        match (self, actor) {
            (Self::Anyone, _) => true,
            (Self::Patients, Actor::Patient | Actor::ManageLink | Actor::WaitlistLink) => true,
            (Self::System, Actor::System) => true,
            (Self::Staff(wanted), Actor::Staff { name }) => wanted == name,
            _ => false,
        }
    }
}

/// The activity view's filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only changes of this kind.
    pub action: Option<AuditAction>,
    /// Only changes by them.
    pub who: Who,
    /// Only rows whose booking code, slot or details contain this text, in any
    /// case.
    pub text: String,
}

impl Filter {
    /// Whether `entry` passes.
    pub fn matches(&self, entry: &AuditEntry) -> bool {
        let text = self.text.trim().to_lowercase();
        let found = |field: Option<&str>| field.is_some_and(|f| f.to_lowercase().contains(&text));
        self.action.is_none_or(|a| a == entry.action)
            && self.who.matches(&entry.actor)
            && (text.is_empty()
                || found(entry.booking_code.as_deref())
                || found(entry.slot_id.as_ref().map(|s| s.0.as_str()))
                || found(entry.other_slot_id.as_ref().map(|s| s.0.as_str()))
                || found(entry.detail.as_deref()))
    }
}

/// The rows that pass `filter`, in their order.
pub fn filtered(entries: &[AuditEntry], filter: &Filter) -> Vec<AuditEntry> {
    entries.iter().filter(|e| filter.matches(e)).cloned().collect()
}

/// The names of the staff who appear in `entries`, sorted, each once: the
/// choices of the filter by who.
pub fn staff_names(entries: &[AuditEntry]) -> Vec<String> {
    let mut names: Vec<String> = entries
        .iter()
        .filter_map(|e| match &e.actor {
            Actor::Staff { name } => Some(name.clone()),
            _ => None,
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Every kind of change, in the order the filter offers them.
pub const ACTIONS: [AuditAction; 27] = [
    AuditAction::Booked,
    AuditAction::Cancelled,
    AuditAction::Rescheduled,
    AuditAction::Held,
    AuditAction::HoldExtended,
    AuditAction::Released,
    AuditAction::Expired,
    AuditAction::HoldEnded,
    AuditAction::Blocked,
    AuditAction::Unblocked,
    AuditAction::Reset,
    AuditAction::Joined,
    AuditAction::Offered,
    AuditAction::Declined,
    AuditAction::Left,
    AuditAction::Removed,
    AuditAction::Lapsed,
    AuditAction::WindowChanged,
    AuditAction::NoShow,
    AuditAction::NoShowUndone,
    AuditAction::Erased,
    AuditAction::LoggedIn,
    AuditAction::LoginFailed,
    AuditAction::LoggedOut,
    AuditAction::StaffAdded,
    AuditAction::StaffRemoved,
    AuditAction::PasswordChanged,
];

/// The name of an action on the wire, such as `noShow`: the value of its
/// choice in the filter.
pub fn action_key(action: AuditAction) -> String {
    serde_json::to_value(action).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The action named `key` on the wire, if any.
pub fn action_of(key: &str) -> Option<AuditAction> {
    serde_json::from_value(serde_json::Value::String(key.to_owned())).ok()
}

#[cfg(test)]
mod tests;
