//! Each engine command handled inside a tracing span named after it, so that
//! every line logged while the engine carries it out says which command it
//! was; and the size of each group commit, for the metrics.

use tracing::Instrument;

use super::book::BookRequest;
use super::handle::Command;
use super::{ConnId, Engine};
use crate::Result;
use crate::store::Store;

impl Command {
    /// The command's name, as its span shows it.
    fn name(&self) -> &'static str {
        match self {
            Self::Book(_) => "book",
            Self::Reset { .. } => "reset",
            Self::Hold { .. } => "hold",
            Self::ExtendHold { .. } => "extendHold",
            Self::Release { .. } => "release",
            Self::Gone { .. } => "gone",
            Self::Lookup { .. } => "lookup",
            Self::Cancel { .. } => "cancel",
            Self::Reschedule { .. } => "reschedule",
            Self::Staff { .. } => "staff",
            Self::StaffState { .. } => "staffState",
            Self::Tick { .. } => "tick",
            Self::Records(_) => "records",
            Self::JoinWaitlist { .. } => "joinWaitlist",
            Self::WatchWaitlist { .. } => "watchWaitlist",
            Self::ChangeWaitlist { .. } => "changeWaitlist",
            Self::LeaveWaitlist { .. } => "leaveWaitlist",
            Self::AcceptOffer { .. } => "acceptOffer",
            Self::DeclineOffer { .. } => "declineOffer",
            Self::StaffWaitlist { .. } => "staffWaitlist",
            Self::StaffRemoveWaiting { .. } => "staffRemoveWaiting",
        }
    }

    /// The connection that asked, for the commands that say.
    fn conn(&self) -> Option<ConnId> {
        match self {
            Self::Hold { conn, .. }
            | Self::ExtendHold { conn, .. }
            | Self::Release { conn, .. }
            | Self::Gone { conn, .. }
            | Self::Reschedule { conn, .. } => Some(*conn),
            Self::Book(request) => Some(request.conn),
            _ => None,
        }
    }
}

impl<S: Store> Engine<S> {
    /// Carries out one command inside its span, which names the command and
    /// the connection that asked (the `id` of its `conn` span), if any.
    pub(super) async fn handle_in_span(&mut self, command: Command) -> Result<()> {
        let span = tracing::info_span!("command", name = command.name(), conn = command.conn());
        self.handle(command).instrument(span).await
    }

    /// Decides a group of bookings inside a span that says how many there are,
    /// and counts the group's size.
    pub(super) async fn book_in_span(&mut self, batch: Vec<BookRequest>) -> Result<()> {
        crate::metrics::batch(batch.len());
        // A group of one names its connection; a larger group has many.
        let conn = (batch.len() == 1).then(|| batch[0].conn);
        let span = tracing::info_span!("command", name = "book", batch = batch.len(), conn);
        self.book(batch).instrument(span).await
    }
}
