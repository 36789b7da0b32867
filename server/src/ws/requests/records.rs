//! The staff messages about a booking's records: marking a no-show (any
//! member of staff) and erasing a patient's details on request (admins
//! only). Anybody else is answered `forbidden`.

use protocol::{BookingFailure, ClientMessage, ServerMessage, StaffRole};

use super::Conn;
use crate::AppState;

impl Conn {
    /// Carries out `staffNoShow` or `staffErase` and says what to answer.
    pub(super) async fn records(
        &mut self,
        message: ClientMessage,
        state: &AppState,
    ) -> crate::Result<ServerMessage> {
        let action = |request_id, result: Result<(), BookingFailure>| ServerMessage::ActionResult {
            request_id,
            ok: result.is_ok(),
            reason: result.err(),
        };
        Ok(match message {
            ClientMessage::StaffNoShow { request_id, slot_id, no_show } => {
                if let Some(refusal) = self.needs(state, StaffRole::Receptionist, &request_id).await? {
                    return Ok(refusal);
                }
                let origin = self.staff_origin();
                action(request_id, state.engine.no_show(slot_id, no_show, origin).await?)
            }
            ClientMessage::StaffErase { request_id, booking_code } => {
                if let Some(refusal) = self.needs(state, StaffRole::Admin, &request_id).await? {
                    return Ok(refusal);
                }
                let origin = self.staff_origin();
                action(request_id, state.engine.erase(booking_code, origin).await?)
            }
            other => unreachable!("not a records message: {:?}", other.request_id()),
        })
    }
}
