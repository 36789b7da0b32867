//! Opening a connection the way every command starts: connect, then wait for
//! the schedule the server sends first.

use client::Client;
use protocol::{Schedule, ServerMessage, Slot};

use crate::address::Server;
use crate::failure::Failure;

/// A connection to `server` and the schedule it sent on connecting.
pub(crate) async fn open(server: &Server) -> Result<(Client, Schedule), Failure> {
    let mut client = Client::connect(&server.ws).await.map_err(|e| Failure::connecting(&server.ws, &e))?;
    loop {
        if let ServerMessage::InitialState(schedule) = client.recv().await? {
            return Ok((client, schedule));
        }
    }
}

/// The slot of `schedule` with this id.
pub(crate) fn slot<'a>(schedule: &'a Schedule, id: &str) -> Option<&'a Slot> {
    schedule.slots.iter().find(|slot| slot.id.0 == id)
}
