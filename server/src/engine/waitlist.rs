//! The waitlist as the engine runs it: joining (paid and limited like a
//! booking), the entry behind a waitlist link, its window, leaving, and the
//! offers: taken (a booking), turned down, or taken off by staff. The offers
//! themselves are made by the store, in the transaction that frees a slot; the
//! engine publishes them like any change, and tells the pages watching an
//! entry when an offer to it is made or ends.

use protocol::{
    BookingFailure, DoctorId, Offer, Patient, ServerMessage, StaffWaiting, WaitStatus, WaitToken, WaitWindow,
    WaitlistEntry,
};

use super::{Engine, Outcome};
use crate::address::ClientKey;
use crate::audit::Origin;
use crate::store::{BookError, NewBooking, NewWaiting, Store, StoredWaiting, offer_holder};
use crate::{Result, secret};

/// A request to join a doctor's waitlist, as a client made it.
#[derive(Debug, Clone)]
pub struct Join {
    /// The doctor to wait for.
    pub doctor_id: DoctorId,
    /// When the patient can come.
    pub window: WaitWindow,
    /// Who waits, as given.
    pub patient: Patient,
    /// The nonce of the checked proof of work that pays for it, if any.
    pub proof: Option<String>,
}

impl<S: Store> Engine<S> {
    /// Why `window` is not one to wait with: out of order, or reaching outside
    /// the days the schedule shows.
    fn window_refusal(&self, window: &WaitWindow) -> Option<BookingFailure> {
        let last = self.first_day + chrono::Days::new(u64::from(self.config.horizon_days.saturating_sub(1)));
        let inside = self.first_day <= window.from_day && window.to_day <= last;
        (!window.is_valid() || !inside).then_some(BookingFailure::InvalidWindow)
    }

    pub(super) async fn join_waitlist(
        &mut self,
        client: ClientKey,
        join: Join,
        origin: &Origin,
    ) -> Outcome<WaitToken> {
        let now = (self.clock)();
        if !self.config.doctors.iter().any(|d| d.id == join.doctor_id.0) {
            return Ok(Err(BookingFailure::NotFound));
        }
        let Some(patient) = super::normalized_patient(&join.patient) else {
            return Ok(Err(BookingFailure::InvalidPatient));
        };
        if let Some(reason) = self.window_refusal(&join.window) {
            return Ok(Err(reason));
        }
        // A proof buys one attempt, as for a booking; so does the budget.
        if let Some(nonce) = &join.proof {
            if self.spent.contains(nonce) {
                return Ok(Err(BookingFailure::ChallengeFailed));
            }
            self.spent.spend(nonce.clone(), now);
        }
        if !self.ledger.may_book(client, 0, now) {
            return Ok(Err(BookingFailure::TooManyBookings));
        }
        let token = secret::manage_token();
        let hash = secret::manage_hash(&token);
        let entry = NewWaiting {
            doctor_id: &join.doctor_id,
            window: &join.window,
            patient: &patient,
            token_hash: &hash,
            at: now,
            per_phone: self.ledger.limits().bookings_per_phone,
            proof: join.proof.as_deref(),
            origin,
        };
        match self.store.join_waitlist(&entry).await? {
            Ok(id) => {
                self.ledger.booked(client, now);
                tracing::info!(entry = id, doctor = %join.doctor_id, "joined the waitlist");
                Ok(Ok(token))
            }
            Err(refusal) => Ok(Err(super::actions::reason(refusal))),
        }
    }

    /// The entry behind a waitlist link.
    async fn entry(&self, token: &str) -> Outcome<StoredWaiting> {
        Ok(self.store.waiting_by_hash(&secret::manage_hash(token)).await?.ok_or(BookingFailure::NotFound))
    }

    /// An entry as its patient sees it; its offer with the slot as it is now.
    pub(super) fn entry_view(&self, stored: StoredWaiting) -> WaitlistEntry {
        let offer = stored.offer.and_then(|(slot, expires_at)| {
            let at = self.mirror.at(&slot)?;
            Some(Offer { slot: self.mirror.slot(at), expires_at })
        });
        let status = match stored.status {
            // An offer of a slot no longer shown (its day is over) is no offer.
            WaitStatus::Offered if offer.is_none() => WaitStatus::Waiting,
            status => status,
        };
        WaitlistEntry {
            doctor_id: stored.doctor_id,
            window: stored.window,
            patient: stored.patient,
            status,
            place: stored.place,
            offer,
            booking_code: stored.booking_code,
            joined_at: stored.joined_at,
        }
    }

    /// The entry behind a waitlist link, with its id (which only the engine
    /// and the connection watching it know).
    pub(super) async fn watch_waitlist(&self, token: &str) -> Outcome<(i64, WaitlistEntry)> {
        Ok(self.entry(token).await?.map(|stored| (stored.id, self.entry_view(stored))))
    }

    pub(super) async fn change_waitlist(
        &self,
        token: &str,
        window: WaitWindow,
        origin: &Origin,
    ) -> Outcome<WaitlistEntry> {
        let stored = match self.entry(token).await? {
            Ok(stored) => stored,
            Err(reason) => return Ok(Err(reason)),
        };
        if let Some(reason) = self.window_refusal(&window) {
            return Ok(Err(reason));
        }
        if !self.store.change_window(stored.id, &window, self.offering().now, origin).await? {
            return Ok(Err(BookingFailure::WrongState));
        }
        let changed = self.store.waiting_by_id(stored.id).await?.ok_or(BookingFailure::NotFound);
        Ok(changed.map(|stored| self.entry_view(stored)))
    }

    /// Takes an entry off the waitlist (`Left` by its patient, `Removed` by
    /// staff); its live offer passes on.
    async fn end_waiting(&mut self, id: i64, status: WaitStatus, origin: &Origin) -> Outcome<()> {
        let Some(version) = self.store.end_waiting(id, status, self.offering(), origin).await? else {
            return Ok(Err(BookingFailure::WrongState));
        };
        tracing::info!(entry = id, ?status, "off the waitlist");
        self.catch_up(Some(version)).await?;
        Ok(Ok(()))
    }

    pub(super) async fn leave_waitlist(&mut self, token: &str, origin: &Origin) -> Outcome<()> {
        match self.entry(token).await? {
            Ok(stored) => self.end_waiting(stored.id, WaitStatus::Left, origin).await,
            Err(reason) => Ok(Err(reason)),
        }
    }

    pub(super) async fn staff_remove_waiting(&mut self, id: u64, origin: &Origin) -> Outcome<()> {
        let Ok(id) = i64::try_from(id) else { return Ok(Err(BookingFailure::NotFound)) };
        if self.store.waiting_by_id(id).await?.is_none() {
            return Ok(Err(BookingFailure::NotFound));
        }
        self.end_waiting(id, WaitStatus::Removed, origin).await
    }

    pub(super) async fn decline_offer(&mut self, token: &str, origin: &Origin) -> Outcome<()> {
        let stored = match self.entry(token).await? {
            Ok(stored) => stored,
            Err(reason) => return Ok(Err(reason)),
        };
        let Some(version) = self.store.decline_offer(stored.id, self.offering(), origin).await? else {
            return Ok(Err(BookingFailure::NoOffer));
        };
        tracing::info!(entry = stored.id, "waitlist offer turned down");
        self.catch_up(Some(version)).await?;
        Ok(Ok(()))
    }

    /// Books the slot offered to the entry behind a waitlist link, for its
    /// patient: the code and the new booking's manage link.
    pub(super) async fn accept_offer(&mut self, token: &str, origin: &Origin) -> Outcome<(String, String)> {
        let now = (self.clock)();
        let stored = match self.entry(token).await? {
            Ok(stored) => stored,
            Err(reason) => return Ok(Err(reason)),
        };
        let Some((slot, until)) = stored.offer.clone().filter(|_| stored.status == WaitStatus::Offered)
        else {
            return Ok(Err(BookingFailure::NoOffer));
        };
        // An offer whose time is up is over even before the round that ends
        // what ran out has come to it (the hold is still in the database):
        // it passes on now instead.
        if until <= now {
            self.expire_holds().await?;
            return Ok(Err(BookingFailure::NoOffer));
        }
        let Some(at) = self.mirror.at(&slot) else { return Ok(Err(BookingFailure::NoOffer)) };
        if self.mirror.start(at) <= now {
            return Ok(Err(BookingFailure::Past));
        }
        let phone = secret::phone_digits(&stored.patient.phone);
        if self.mirror.upcoming_bookings(&phone, now) >= self.ledger.limits().bookings_per_phone {
            // This patient cannot take it: it passes on at once rather than
            // stay held for nobody until it runs out.
            if let Some(version) = self.store.decline_offer(stored.id, self.offering(), origin).await? {
                self.catch_up(Some(version)).await?;
            }
            return Ok(Err(BookingFailure::LimitReached));
        }
        let holder = offer_holder(stored.id);
        let retry_key = secret::retry_key(&holder, &slot, &stored.patient);
        // A code collision is astronomically rare; a few fresh draws settle it.
        for _ in 0..4 {
            let (code, token) = (secret::booking_code(), secret::manage_token());
            let hash = secret::manage_hash(&token);
            let booking = NewBooking {
                slot_id: &slot,
                code: &code,
                manage_hash: &hash,
                patient: &stored.patient,
                retry_key: &retry_key,
                proof: None,
                holder: &holder,
                at: now,
                origin,
            };
            match self.store.accept_offer(stored.id, &booking).await? {
                Ok((version, _)) => {
                    tracing::info!(entry = stored.id, %slot, version, "waitlist offer taken");
                    self.catch_up(Some(version)).await?;
                    return Ok(Ok((code, token)));
                }
                Err(BookError::CodeTaken) => continue,
                // Ran out, passed on, or taken off meanwhile.
                Err(BookError::Refused(_)) => {
                    self.catch_up(None).await?;
                    return Ok(Err(BookingFailure::NoOffer));
                }
            }
        }
        Err(crate::Error::Internal("could not draw an unused booking code"))
    }

    /// Every entry waiting now, as staff see it.
    pub(super) async fn staff_waitlist(&self) -> Result<Vec<StaffWaiting>> {
        Ok(self
            .store
            .waitlist()
            .await?
            .into_iter()
            .map(|w| StaffWaiting {
                id: u64::try_from(w.id).unwrap_or_default(),
                doctor_id: w.doctor_id,
                window: w.window,
                patient: w.patient,
                joined_at: w.joined_at,
                offer_expires_at: w.offer.as_ref().map(|(_, until)| *until),
                offered_slot: w.offer.map(|(slot, _)| slot),
            })
            .collect())
    }

    /// The `waitlist` messages for the pages watching these entries, after a
    /// change that made or ended an offer to them. When an offer ended with
    /// its entry off the waitlist (taken, or the patient left), everyone after
    /// it in the doctor's line moved up a place, and their pages hear that too.
    /// An entry that cannot be read now is left out: its page learns of it
    /// when it looks again.
    ///
    /// Only entries some connection of this instance watches are read again
    /// and sent, so the work is bounded by the pages open here.
    pub(super) async fn waiting_frames(&self, entries: &[i64]) -> Vec<(i64, ServerMessage)> {
        let watched = self.hub.watched();
        if watched.is_empty() {
            return Vec::new();
        }
        let mut frames = Vec::with_capacity(entries.len());
        let mut moved_up = Vec::new();
        for &id in entries {
            let Some(stored) = self.read_entry(id).await else { continue };
            if !matches!(stored.status, WaitStatus::Waiting | WaitStatus::Offered) {
                moved_up.push((stored.doctor_id.clone(), id));
            }
            if watched.contains(&id) {
                frames
                    .push((id, ServerMessage::Waitlist { request_id: None, entry: self.entry_view(stored) }));
            }
        }
        for id in watched.into_iter().filter(|id| !entries.contains(id)) {
            if !moved_up.iter().any(|(_, gone)| id > *gone) {
                continue;
            }
            let Some(stored) = self.read_entry(id).await else { continue };
            let waiting = matches!(stored.status, WaitStatus::Waiting | WaitStatus::Offered);
            if waiting && moved_up.iter().any(|(doctor, gone)| stored.doctor_id == *doctor && id > *gone) {
                frames
                    .push((id, ServerMessage::Waitlist { request_id: None, entry: self.entry_view(stored) }));
            }
        }
        frames.sort_by_key(|(id, _)| *id);
        frames
    }

    /// One entry as stored now; `None` (and a line in the log) when it cannot
    /// be read.
    async fn read_entry(&self, id: i64) -> Option<StoredWaiting> {
        match self.store.waiting_by_id(id).await {
            Ok(stored) => stored,
            Err(e) => {
                tracing::error!(error = %e, entry = id, "could not read a waitlist entry");
                None
            }
        }
    }
}
