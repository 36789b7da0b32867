//! The waitlist messages of one connection: joining (paid with a proof of work
//! like a booking), the entry behind a waitlist link (after which the
//! connection is told of every offer to it), its window, leaving, the offers,
//! and the staff's view.

use protocol::{Actor, BookingFailure, ClientMessage, ServerMessage};

use super::Conn;
use crate::AppState;
use crate::engine::Join;

impl Conn {
    /// Carries out one waitlist message and says what to answer.
    pub(super) async fn waitlist(
        &mut self,
        message: ClientMessage,
        state: &AppState,
    ) -> crate::Result<ServerMessage> {
        let engine = &state.engine;
        let action = |request_id, result: Result<(), BookingFailure>| ServerMessage::ActionResult {
            request_id,
            ok: result.is_ok(),
            reason: result.err(),
        };
        Ok(match message {
            ClientMessage::JoinWaitlist { request_id, doctor_id, window, patient, proof } => {
                let proof = match proof {
                    Some(proof) if state.pow.required() => state.pow.verify(&proof),
                    _ => None,
                };
                let joined = if state.pow.required() && proof.is_none() {
                    Err(BookingFailure::ChallengeFailed)
                } else {
                    let join = Join { doctor_id, window, patient, proof };
                    engine.join_waitlist(self.peer, join, self.origin(Actor::Patient)).await?
                };
                ServerMessage::JoinResult {
                    request_id,
                    ok: joined.is_ok(),
                    reason: joined.as_ref().err().copied(),
                    wait_token: joined.ok(),
                }
            }
            ClientMessage::WatchWaitlist { request_id, wait_token } => {
                match engine.watch_waitlist(wait_token).await? {
                    Ok((id, entry)) => {
                        // From now on the changes to this entry come to this
                        // connection; one entry per connection.
                        if self.watching.as_ref().is_none_or(|w| w.entry() != id) {
                            self.watching = Some(engine.watch(id));
                        }
                        ServerMessage::Waitlist { request_id: Some(request_id), entry }
                    }
                    Err(reason) => action(request_id, Err(reason)),
                }
            }
            ClientMessage::ChangeWaitlist { request_id, wait_token, window } => {
                match engine.change_waitlist(wait_token, window, self.origin(Actor::WaitlistLink)).await? {
                    Ok(entry) => ServerMessage::Waitlist { request_id: Some(request_id), entry },
                    Err(reason) => action(request_id, Err(reason)),
                }
            }
            ClientMessage::LeaveWaitlist { request_id, wait_token } => {
                action(request_id, engine.leave_waitlist(wait_token, self.origin(Actor::WaitlistLink)).await?)
            }
            ClientMessage::DeclineOffer { request_id, wait_token } => {
                action(request_id, engine.decline_offer(wait_token, self.origin(Actor::WaitlistLink)).await?)
            }
            ClientMessage::AcceptOffer { request_id, wait_token } => {
                let accepted = engine.accept_offer(wait_token, self.origin(Actor::WaitlistLink)).await?;
                ServerMessage::BookingResult {
                    request_id,
                    ok: accepted.is_ok(),
                    reason: accepted.as_ref().err().copied(),
                    booking_code: accepted.as_ref().ok().map(|(code, _)| code.clone()),
                    manage_token: accepted.ok().map(|(_, token)| token),
                }
            }
            ClientMessage::StaffWaitlist { request_id } => {
                if let Some(refusal) =
                    self.needs(state, protocol::StaffRole::Receptionist, &request_id).await?
                {
                    return Ok(refusal);
                }
                ServerMessage::StaffWaitlist { request_id, entries: engine.staff_waitlist().await? }
            }
            ClientMessage::StaffRemoveWaiting { request_id, entry_id } => {
                if let Some(refusal) =
                    self.needs(state, protocol::StaffRole::Receptionist, &request_id).await?
                {
                    return Ok(refusal);
                }
                action(request_id, engine.staff_remove_waiting(entry_id, self.staff_origin()).await?)
            }
            other => unreachable!("not a waitlist message: {:?}", other.request_id()),
        })
    }
}
