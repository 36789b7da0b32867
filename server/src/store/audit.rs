//! The audit trail in the database: rows appended inside the write transaction
//! of the change they record (or on their own, for what changes no slot, such
//! as a login), and read back for the staff console's history.

use chrono::{DateTime, Utc};
use protocol::{AuditAction, AuditEntry, HistoryQuery, SlotId};
use sqlx::{Any, AnyConnection};

use super::rows::instant;
use super::text::placeholders;
use crate::Result;
use crate::audit::Origin;

/// One audit row to write; who did it and when are given beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditRow {
    /// What happened.
    pub action: Option<AuditAction>,
    /// The slot it happened to.
    pub slot: Option<SlotId>,
    /// A reschedule's slot left behind.
    pub other_slot: Option<SlotId>,
    /// The booking's row id.
    pub booking: Option<i64>,
    /// The waitlist entry's id.
    pub entry: Option<i64>,
    /// Anything else, for people.
    pub detail: Option<String>,
}

impl AuditRow {
    /// A row saying `action` happened to `slot`.
    pub fn slot(action: AuditAction, slot: &SlotId) -> Self {
        Self { action: Some(action), slot: Some(slot.clone()), ..Self::default() }
    }

    /// A row saying `action` happened, to nothing in particular.
    pub fn of(action: AuditAction) -> Self {
        Self { action: Some(action), ..Self::default() }
    }

    /// The same row, with `slot` as the slot a reschedule left.
    pub fn other_slot(self, slot: &SlotId) -> Self {
        Self { other_slot: Some(slot.clone()), ..self }
    }

    /// The same row, about booking `id`.
    pub fn booking(self, id: i64) -> Self {
        Self { booking: Some(id), ..self }
    }

    /// The same row, about waitlist entry `id`.
    pub fn entry(self, id: i64) -> Self {
        Self { entry: Some(id), ..self }
    }

    /// The same row, saying `detail`.
    pub fn detail(self, detail: impl Into<String>) -> Self {
        Self { detail: Some(detail.into()), ..self }
    }
}

/// A row waiting in a write transaction.
#[derive(Debug)]
pub(super) struct Pending {
    pub(super) at: i64,
    pub(super) origin: Origin,
    pub(super) row: AuditRow,
}

/// The name an action has in the `audit` table: its name in the protocol.
fn action_name(action: AuditAction) -> String {
    serde_json::to_value(action).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Appends rows through `conn` (inside the caller's transaction).
pub(super) async fn append(conn: &mut AnyConnection, rows: &[Pending]) -> Result<()> {
    // Bound parameters per statement are limited; a chunk stays far below.
    for chunk in rows.chunks(1000) {
        let sql = format!(
            "INSERT INTO audit (at, actor_kind, actor_name, address, action, slot_id, other_slot_id,
                                booking_id, entry_id, detail) VALUES {}",
            placeholders(chunk.len(), 10)
        );
        let mut insert = sqlx::query::<Any>(&sql);
        for p in chunk {
            let (kind, name) = p.origin.columns();
            insert = insert
                .bind(p.at)
                .bind(kind)
                .bind(name.map(str::to_owned))
                .bind(p.origin.address.map(|a| a.to_string()))
                .bind(p.row.action.map(action_name).unwrap_or_default())
                .bind(p.row.slot.as_ref().map(|s| s.0.clone()))
                .bind(p.row.other_slot.as_ref().map(|s| s.0.clone()))
                .bind(p.row.booking)
                .bind(p.row.entry)
                .bind(p.row.detail.clone());
        }
        insert.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Appends `rows`, done by `origin` at `at`, through `conn`: inside the
/// caller's transaction, so that they commit with the change they record or
/// not at all.
pub(crate) async fn append_rows(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    origin: &Origin,
    rows: Vec<AuditRow>,
) -> Result<()> {
    let rows: Vec<_> = rows.into_iter().map(|row| pending(at, origin, row)).collect();
    append(conn, &rows).await
}

/// Waits for the row of the schedule's version and locks it until `conn`'s
/// transaction ends, as every write of the schedule does first: changes to
/// the staff accounts that must not be overtaken (the last admin kept, a name
/// never given twice) are then ordered among themselves on both databases,
/// and on every server instance.
pub(crate) async fn lock_writers(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("UPDATE schedule_version SET version = version WHERE id = 1").execute(conn).await?;
    Ok(())
}

/// A row as read back, with its booking's code.
#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    at: i64,
    actor_kind: String,
    actor_name: Option<String>,
    address: Option<String>,
    action: String,
    slot_id: Option<String>,
    other_slot_id: Option<String>,
    code: Option<String>,
    entry_id: Option<i64>,
    detail: Option<String>,
}

/// The rows `query` asks for, newest first.
pub(super) async fn history(conn: &mut AnyConnection, query: &HistoryQuery) -> Result<Vec<AuditEntry>> {
    let mut conditions = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut condition = |sql: &str, value: Value| {
        values.push(value);
        conditions.push(sql.replace('?', &format!("${}", values.len())));
    };
    if let Some(slot) = &query.slot_id {
        // A reschedule away from the slot is its history too.
        condition("(a.slot_id = ? OR a.other_slot_id = ?)", Value::Text(slot.0.clone()));
    }
    if let Some(code) = &query.booking_code {
        condition("b.code = ?", Value::Text(code.clone()));
    }
    if let Some(since) = query.since {
        condition("a.at >= ?", Value::Int(since.timestamp()));
    }
    if let Some(name) = &query.staff_name {
        condition("a.actor_kind = 'staff' AND a.actor_name = ?", Value::Text(name.clone()));
    }
    if !query.actions.is_empty() {
        let first = values.len() + 1;
        for action in &query.actions {
            values.push(Value::Text(action_name(*action)));
        }
        let list: Vec<String> = (first..=values.len()).map(|i| format!("${i}")).collect();
        conditions.push(format!("a.action IN ({})", list.join(", ")));
    }
    let filter =
        if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let sql = format!(
        "SELECT a.id, a.at, a.actor_kind, a.actor_name, a.address, a.action, a.slot_id, a.other_slot_id,
                b.code, a.entry_id, a.detail
         FROM audit a LEFT JOIN bookings b ON b.id = a.booking_id
         {filter} ORDER BY a.id DESC LIMIT {}",
        query.limit()
    );
    let mut read = sqlx::query_as::<Any, EntryRow>(&sql);
    for value in values {
        read = match value {
            Value::Text(text) => read.bind(text),
            Value::Int(int) => read.bind(int),
        };
    }
    let rows = read.fetch_all(&mut *conn).await?;
    Ok(rows.into_iter().filter_map(EntryRow::into_entry).collect())
}

/// A value bound to a history query.
enum Value {
    Text(String),
    Int(i64),
}

impl EntryRow {
    fn into_entry(self) -> Option<AuditEntry> {
        let action = serde_json::from_value(serde_json::Value::String(self.action)).ok()?;
        Some(AuditEntry {
            id: self.id as u64,
            at: instant(self.at),
            actor: Origin::actor_of(&self.actor_kind, self.actor_name),
            action,
            slot_id: self.slot_id.map(SlotId),
            other_slot_id: self.other_slot_id.map(SlotId),
            booking_code: self.code,
            entry_id: self.entry_id.map(|id| id as u64),
            address: self.address,
            detail: self.detail,
        })
    }
}

/// A pending row for `origin` at `at`.
pub(super) fn pending(at: DateTime<Utc>, origin: &Origin, row: AuditRow) -> Pending {
    Pending { at: at.timestamp(), origin: origin.clone(), row }
}
