//! What other people do while a browser test looks at the page, done through
//! the protocol client: another patient books or holds a slot, and staff end a
//! hold or block a slot. Each opens a connection of its own when it acts, so
//! that none sits unread for long.

use anyhow::{Context, Result, bail};
use client::BookingReply;
use protocol::{ClientMessage, ManageToken, Patient, ServerMessage, SlotId};

use crate::{ADMIN, ADMIN_PASSWORD, App, PATIENCE};

/// A patient with a phone number of their own: the server allows only a few
/// upcoming bookings per phone.
pub fn patient(n: usize) -> Patient {
    Patient {
        name: format!("Patient Number {n}"),
        phone: format!("+7 900 000-{:02}-{:02}", n / 100, n % 100),
    }
}

impl App {
    /// Another patient books `slot` through the protocol; returns the secret
    /// of the booking's manage link.
    pub async fn book_as_other(&self, slot: &str, who: Patient) -> Result<ManageToken> {
        let mut other = self.client().await?;
        let reply = other.book(SlotId(slot.to_owned()), who).await?;
        other.close().await?;
        match reply {
            BookingReply::Booked { manage_token: Some(token), .. } => Ok(token),
            other => bail!("another patient could not book {slot}: {other:?}"),
        }
    }

    /// The patient behind a manage link cancels through the protocol: the slot
    /// turns free, or goes to the first patient waiting for it.
    pub async fn cancel_as_other(&self, manage_token: &str) -> Result<()> {
        let mut other = self.client().await?;
        let request_id = other.request_id();
        let reply =
            other.call(ClientMessage::Cancel { request_id, manage_token: manage_token.to_owned() }).await?;
        other.close().await?;
        match reply {
            ServerMessage::ActionResult { ok: true, .. } => Ok(()),
            reply => bail!("another patient could not cancel: {reply:?}"),
        }
    }

    /// Another patient holds `slot` for as long as the returned connection is
    /// open (or the hold lasts).
    pub async fn hold_as_other(&self, slot: &str) -> Result<client::Client> {
        let mut other = self.client().await?;
        let request_id = other.request_id();
        let reply = other.call(ClientMessage::Hold { request_id, slot_id: SlotId(slot.to_owned()) }).await?;
        match reply {
            ServerMessage::HoldResult { ok: true, .. } => Ok(other),
            reply => bail!("another patient could not hold {slot}: {reply:?}"),
        }
    }

    /// Staff end whoever's hold of `slot`; it turns free for everyone.
    pub async fn end_hold(&self, slot: &str) -> Result<()> {
        self.staff_act(|request_id, slot_id| ClientMessage::EndHold { request_id, slot_id }, slot).await
    }

    /// Staff take the free `slot` out of the schedule.
    pub async fn block(&self, slot: &str) -> Result<()> {
        self.staff_act(|request_id, slot_id| ClientMessage::Block { request_id, slot_id }, slot).await
    }

    async fn staff_act(&self, action: fn(String, SlotId) -> ClientMessage, slot: &str) -> Result<()> {
        let mut staff = self.client().await?;
        staff.staff_login(ADMIN, ADMIN_PASSWORD).await.context("staff login")?;
        tokio::time::timeout(PATIENCE, async {
            loop {
                match staff.recv().await? {
                    ServerMessage::StaffState { .. } => return Ok(()),
                    ServerMessage::Error { message, .. } => bail!("staff login refused: {message}"),
                    _ => {}
                }
            }
        })
        .await
        .context("waiting for the staff login")??;
        let request_id = staff.request_id();
        let reply = staff.call(action(request_id, SlotId(slot.to_owned()))).await?;
        staff.close().await?;
        match reply {
            ServerMessage::ActionResult { ok: true, .. } => Ok(()),
            reply => bail!("staff could not act on {slot}: {reply:?}"),
        }
    }
}
