//! The audit trail's history for the staff console: any member of staff may
//! read it. It is read from the database on the connection's own task, not
//! through the engine, so a long history never holds up the schedule's writes.

use protocol::{HistoryQuery, ServerMessage, StaffRole};

use super::Conn;
use crate::AppState;
use crate::store::Store;

impl Conn {
    /// Answers `staffHistory` with the rows `query` asks for, newest first.
    pub(super) async fn history(
        &mut self,
        request_id: String,
        query: HistoryQuery,
        state: &AppState,
    ) -> crate::Result<ServerMessage> {
        if let Some(refused) = self.needs(state, StaffRole::Receptionist, &request_id).await? {
            return Ok(refused);
        }
        let entries = state.store.history(&query).await?;
        Ok(ServerMessage::StaffHistory { request_id, entries })
    }
}
