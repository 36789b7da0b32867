//! The waitlist steps of a run, sent to the engine and predicted by the model
//! (`waiting`), and each entry as its link and staff must show it.

use std::collections::BTreeSet;

use protocol::{
    Actor, BookingFailure, DoctorId, Offer, Patient, Slot, SlotStatus, StaffWaiting, WaitStatus, WaitWindow,
    WaitlistEntry,
};
use server::engine::{Join, normalized_patient};

use super::rules::{Booking, Cell, HOLD, Model};
use super::waiting::{DOCTORS, Entry, OFFER, WaitOp};
use super::{Rig, address};

/// The link of no entry.
const NO_SUCH_LINK: &str = "no-such-waitlist-link";
/// The id of no entry.
const NO_SUCH_ENTRY: u64 = 1_000_000;
/// What every waiting patient's name has, and nothing public may show.
pub(super) const WAITING_NAME: &str = "Waitlist-";

impl Rig {
    /// The link of entry `entry`, or a made-up one.
    fn wait_token(model: &Model, entry: Option<usize>) -> String {
        entry.map_or_else(|| NO_SUCH_LINK.to_owned(), |e| model.entries[e].token.clone())
    }

    /// The clock moves on by `seconds`, and the engine looks at it.
    pub(super) async fn pass(&mut self, model: &mut Model, seconds: i64) {
        model.pass(seconds);
        *self.clock.lock().unwrap() = model.now;
        self.engine.tick().await.unwrap();
    }

    pub(super) async fn wait_step(&mut self, model: &mut Model, op: &WaitOp) {
        // The entry the step is about, to look at through its link afterwards.
        let target = match *op {
            WaitOp::Join { doctor, window, valid } => {
                self.join(model, DOCTORS[usize::from(doctor)], window, valid).await
            }
            WaitOp::Change { entry, window } => {
                let e = model.entry_at(entry);
                let origin = super::origin(Actor::WaitlistLink, 0);
                let got =
                    self.engine.change_waitlist(Self::wait_token(model, e), window, origin).await.unwrap();
                let expected = match e {
                    None => Err(BookingFailure::NotFound),
                    Some(e) => model.change(e, window).map(|()| self.view(model, e)),
                };
                assert_eq!(got, expected, "the entry with its new window");
                e
            }
            WaitOp::Accept { entry } => {
                let e = model.entry_or_offered(entry);
                self.accept(model, e).await;
                e
            }
            WaitOp::Decline { entry } => {
                let e = model.entry_or_offered(entry);
                let got = self
                    .engine
                    .decline_offer(Self::wait_token(model, e), super::origin(Actor::WaitlistLink, 0))
                    .await
                    .unwrap();
                assert_eq!(got, e.map_or(Err(BookingFailure::NotFound), |e| model.decline(e)));
                e
            }
            WaitOp::Leave { entry } => {
                let e = model.entry_at(entry);
                let got = self
                    .engine
                    .leave_waitlist(Self::wait_token(model, e), super::origin(Actor::WaitlistLink, 0))
                    .await
                    .unwrap();
                let expected =
                    e.map_or(Err(BookingFailure::NotFound), |e| model.end_waiting(e, WaitStatus::Left));
                assert_eq!(got, expected);
                e
            }
            WaitOp::Remove { entry } => {
                let e = model.entry_at(entry);
                let id = e.map_or(NO_SUCH_ENTRY, |e| u64::try_from(model.entries[e].id).unwrap());
                let got = self.engine.staff_remove_waiting(id, super::staff()).await.unwrap();
                let expected =
                    e.map_or(Err(BookingFailure::NotFound), |e| model.end_waiting(e, WaitStatus::Removed));
                assert_eq!(got, expected);
                e
            }
            WaitOp::RunOut => {
                // Past the end of every offer, and of every hold with it.
                self.pass(model, OFFER.max(HOLD) + 1).await;
                None
            }
        };
        if let Some(e) = target {
            let (id, got) =
                self.engine.watch_waitlist(model.entries[e].token.clone()).await.unwrap().unwrap();
            assert_eq!((id, got), (model.entries[e].id, self.view(model, e)), "the entry behind its link");
        }
    }

    /// Joins doctor `doctor`'s waitlist; the new entry, when one is made.
    async fn join(
        &mut self,
        model: &mut Model,
        doctor: &str,
        window: WaitWindow,
        valid: bool,
    ) -> Option<usize> {
        let n = model.entries.len() + 1;
        let name = if valid { format!(" Vera {WAITING_NAME}{n} ") } else { " ".into() };
        let patient = Patient { name, phone: format!("+7 900 000-00-{n:02}") };
        let join = Join { doctor_id: DoctorId(doctor.into()), window, patient: patient.clone(), proof: None };
        let got =
            self.engine.join_waitlist(address(0), join, super::origin(Actor::Patient, 0)).await.unwrap();
        let token = match (model.join_refusal(doctor, &window, valid), got) {
            (Some(reason), got) => {
                assert_eq!(got, Err(reason), "joining {doctor}'s waitlist for {window:?}");
                return None;
            }
            (None, Ok(token)) => token,
            (None, got) => panic!("the model joins {doctor}'s waitlist, the engine answered {got:?}"),
        };
        let (id, _) = self.engine.watch_waitlist(token.clone()).await.unwrap().unwrap();
        self.watching.push(self.engine.watch(id));
        assert!(model.entries.last().is_none_or(|last| last.id < id), "entries numbered as they join");
        model.entries.push(Entry {
            id,
            token,
            doctor: DoctorId(doctor.into()),
            window,
            patient: normalized_patient(&patient).unwrap(),
            joined_at: model.now,
            status: WaitStatus::Waiting,
            offered: BTreeSet::new(),
            booking: None,
            lapses: 0,
        });
        Some(model.entries.len() - 1)
    }

    /// Takes the offer to entry `entry` (a made-up link when `None`).
    async fn accept(&mut self, model: &mut Model, entry: Option<usize>) {
        let got = self
            .engine
            .accept_offer(Self::wait_token(model, entry), super::origin(Actor::WaitlistLink, 0))
            .await
            .unwrap();
        let Some(e) = entry else {
            assert_eq!(got, Err(BookingFailure::NotFound));
            return;
        };
        let slot = match (model.acceptable(e), got) {
            (Err(reason), got) => {
                assert_eq!(got, Err(reason), "taking the offer to entry {e}");
                return;
            }
            (Ok(slot), Ok((code, token))) => {
                model.bookings.push(Booking { slot, active: true, token, code });
                slot
            }
            (Ok(slot), got) => {
                panic!("the model books slot {slot} for entry {e}, the engine answered {got:?}")
            }
        };
        model.cells[slot] = Cell::Booked(model.bookings.len() - 1);
        model.entries[e].status = WaitStatus::Booked;
        model.entries[e].booking = Some(model.bookings.len() - 1);
    }

    /// Slot `slot` as everyone sees it when the model has it offered until
    /// `until`.
    fn offered_slot(&self, slot: usize, until: chrono::DateTime<chrono::Utc>) -> Slot {
        Slot { status: SlotStatus::Held, held_until: Some(until), ..self.slots[slot].clone() }
    }

    /// Entry `entry` as its link shows it, by the model.
    pub(super) fn view(&self, model: &Model, entry: usize) -> WaitlistEntry {
        let e = &model.entries[entry];
        let offer = model
            .offer_of(entry)
            .map(|(slot, until)| Offer { slot: self.offered_slot(slot, until), expires_at: until });
        WaitlistEntry {
            doctor_id: e.doctor.clone(),
            window: e.window,
            patient: e.patient.clone(),
            status: if offer.is_some() { WaitStatus::Offered } else { e.status },
            place: model.place(entry),
            offer,
            booking_code: e.booking.map(|b| model.bookings[b].code.clone()),
            joined_at: e.joined_at,
        }
    }

    /// The waiting entries as staff see them, by the model: by doctor, then
    /// in the order of joining.
    pub(super) fn staff_waitlist(&self, model: &Model) -> Vec<StaffWaiting> {
        let mut waiting: Vec<(usize, &Entry)> =
            model.entries.iter().enumerate().filter(|(_, e)| e.status == WaitStatus::Waiting).collect();
        waiting.sort_by_key(|(_, e)| (e.doctor.0.clone(), e.id));
        waiting
            .into_iter()
            .map(|(i, e)| {
                let offer = model.offer_of(i);
                StaffWaiting {
                    id: u64::try_from(e.id).unwrap(),
                    doctor_id: e.doctor.clone(),
                    window: e.window,
                    patient: e.patient.clone(),
                    joined_at: e.joined_at,
                    offered_slot: offer.map(|(slot, _)| self.ids[slot].clone()),
                    offer_expires_at: offer.map(|(_, until)| until),
                }
            })
            .collect()
    }
}
