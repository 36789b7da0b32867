//! Model-based test of the booking engine: random sequences of book, retry, hold,
//! extension of a hold, release, disconnect, cancel, reschedule, staff actions,
//! hold expiry and reset from several clients, each checked against a small
//! reference model of the rules (`rules`). After every step the engine's answer
//! must be the model's, the database must hold at most one active booking per
//! slot, versions must rise by exactly one per change, and the schedule (each
//! slot's status and the end of its hold) rebuilt from the broadcasts alone must
//! equal the engine's snapshot, the database and the model.

mod rules;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use crate::common::postgres::TestDatabase;
use crate::common::test_now;
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use protocol::{Applied, BookingFailure, Patient, Replica, ServerMessage, SlotId, SlotStatus, Version};
use rules::{Booking, CLIENTS, Cell, EXTENSIONS, HOLD, Model, Op, op};
use server::clinic::ClinicConfig;
use server::engine::{BookOutcome, Budgets, EngineHandle, EngineOptions, StaffAction};
use server::store::{SqlStore, Store, StoredState};

/// Two doctors, mornings only, two days from the test's clock (a Tuesday): 32
/// slots, the first of them already past and one inside the minimum notice.
const CLINIC: &str = r#"
name = "Model Clinic"
time_zone = "Europe/Moscow"
horizon_days = 2
min_notice_minutes = 30
hold_seconds = 120
slot_minutes = 30
doctors = [{ id = "a", name = "A", specialty = "A" }, { id = "b", name = "B", specialty = "B" }]
[hours]
tue = ["09:00-13:00"]
wed = ["09:00-13:00"]
"#;

/// A `book` as sent: request id, slot number (`None` for a slot that does not
/// exist), and whether the patient's details are valid.
type BookRequest = (String, Option<usize>, bool);

/// A running engine with what the test watches it through.
struct Rig {
    engine: EngineHandle,
    clock: Arc<Mutex<DateTime<Utc>>>,
    updates: tokio::sync::broadcast::Receiver<server::hub::Broadcast>,
    replica: Replica,
    reader: SqlStore,
    ids: Vec<SlotId>,
    /// Each client's connection now (a client that leaves comes back as another).
    conns: Vec<u64>,
    /// Each client's last `book`, for a retry.
    last_book: Vec<Option<BookRequest>>,
    requests: u64,
}

async fn rig(url: &str) -> (Rig, Model) {
    let clock = Arc::new(Mutex::new(test_now()));
    let clock_now = clock.clone();
    let config = Arc::new(ClinicConfig::parse(CLINIC).unwrap());
    let store = SqlStore::open(url).await.unwrap();
    let budgets = Budgets { hold_extensions: EXTENSIONS, ..Budgets::UNLIMITED };
    let options = EngineOptions { queue: 100_000, replay: 64, budgets };
    let now = Arc::new(move || *clock_now.lock().unwrap());
    let (engine, _task) = server::engine::start(store, config, now, options).await.unwrap();
    let updates = engine.subscribe();
    let schedule = engine.snapshot().schedule().clone();
    let starts = schedule.slots.iter().map(|s| s.start).collect();
    let ids: Vec<SlotId> = schedule.slots.iter().map(|s| s.id.clone()).collect();
    let cells = vec![Cell::Free; ids.len()];
    let mut replica = Replica::default();
    replica.apply(ServerMessage::InitialState(schedule));
    let reader = SqlStore::open(url).await.unwrap();
    let rig = Rig {
        engine,
        clock,
        updates,
        replica,
        reader,
        ids,
        conns: (0..u64::from(CLIENTS)).collect(),
        last_book: vec![None; CLIENTS as usize],
        requests: 0,
    };
    let model = Model { now: test_now(), starts, cells, bookings: Vec::new(), answers: HashMap::new() };
    (rig, model)
}

fn patient(valid: bool) -> Patient {
    Patient { name: if valid { "Anna".into() } else { String::new() }, phone: "+7 912 345-67-89".into() }
}

impl Rig {
    /// A slot number taken modulo the slots, with one number left over for a
    /// slot that does not exist.
    fn slot(&self, n: u8) -> Option<usize> {
        let n = usize::from(n) % (self.ids.len() + 1);
        (n < self.ids.len()).then_some(n)
    }

    fn slot_id(&self, slot: Option<usize>) -> SlotId {
        slot.map_or_else(|| SlotId("no-such-slot".into()), |s| self.ids[s].clone())
    }

    /// A booking's manage token, or a made-up one.
    fn token(model: &Model, n: u8) -> (Option<usize>, String) {
        let n = usize::from(n) % (model.bookings.len() + 1);
        match model.bookings.get(n) {
            Some(b) => (Some(n), b.token.clone()),
            None => (None, "0".repeat(64)),
        }
    }

    async fn book(&mut self, model: &mut Model, client: usize, (request_id, slot, valid): BookRequest) {
        let conn = self.conns[client];
        let book = server::engine::Book {
            slot_id: self.slot_id(slot),
            patient: patient(valid),
            request_id: request_id.clone(),
            proof: None,
        };
        let got = self.engine.book(conn, address(client), book).await.unwrap();
        let expected = match slot.and_then(|s| model.answers.get(&request_id).filter(|(at, _)| *at == s)) {
            Some((_, answer)) => answer.clone(),
            None => {
                let refusal = if !valid {
                    Some(BookingFailure::InvalidPatient)
                } else {
                    slot.map_or(Some(BookingFailure::NotFound), |s| model.refuse(s, conn))
                };
                let outcome = match (refusal, &got, slot) {
                    (Some(reason), ..) => BookOutcome::Refused(reason),
                    (None, BookOutcome::Booked(code, Some(token)), Some(s)) => {
                        model.cells[s] = Cell::Booked(model.bookings.len());
                        model.bookings.push(Booking {
                            slot: s,
                            active: true,
                            token: token.clone(),
                            code: code.clone(),
                        });
                        // Booking ends the booker's hold on any other slot.
                        model.end_hold_of(conn);
                        got.clone()
                    }
                    (None, other, _) => panic!("the model books, the engine answered {other:?}"),
                };
                if let Some(s) = slot {
                    model.answers.insert(request_id, (s, outcome.clone()));
                }
                outcome
            }
        };
        assert_eq!(got, expected);
    }

    async fn step(&mut self, model: &mut Model, op: &Op) {
        match *op {
            Op::Book { client, slot, valid } => {
                self.requests += 1;
                let request_id = format!("r-{}", self.requests);
                let slot = self.slot(slot);
                let request = (request_id, slot, valid);
                self.last_book[usize::from(client)] = Some(request.clone());
                self.book(model, usize::from(client), request).await;
            }
            Op::Retry { client } => {
                if let Some(request) = self.last_book[usize::from(client)].clone() {
                    self.book(model, usize::from(client), request).await;
                }
            }
            Op::Hold { client, slot } => {
                let conn = self.conns[usize::from(client)];
                let slot = self.slot(slot);
                let got =
                    self.engine.hold(conn, address(usize::from(client)), self.slot_id(slot)).await.unwrap();
                let expected = slot.map_or(Err(BookingFailure::NotFound), |s| model.hold(s, conn));
                assert_eq!(got, expected);
            }
            Op::Extend { client, slot } => {
                let conn = self.conns[usize::from(client)];
                let slot = match slot {
                    Some(n) => self.slot(n),
                    None => model.hold_of(conn).or(self.slot(0)),
                };
                let got = self.engine.extend_hold(conn, self.slot_id(slot)).await.unwrap();
                let expected = slot.map_or(Err(BookingFailure::NotFound), |s| model.extend(s, conn));
                assert_eq!(got, expected);
            }
            Op::Release { client, slot } => {
                let conn = self.conns[usize::from(client)];
                let slot = self.slot(slot);
                self.engine.release(conn, self.slot_id(slot)).await.unwrap();
                if let Some(s) = slot
                    && matches!(model.cells[s], Cell::Held { conn: c, .. } if c == conn)
                {
                    model.cells[s] = Cell::Free;
                }
            }
            Op::Leave { client } => {
                let conn = self.conns[usize::from(client)];
                self.engine.gone(conn).await.unwrap();
                model.end_hold_of(conn);
                self.conns[usize::from(client)] = conn + u64::from(CLIENTS);
            }
            Op::Cancel { booking } => {
                let (index, token) = Self::token(model, booking);
                let got = self.engine.cancel(token).await.unwrap();
                let expected = match index.map(|i| model.bookings[i].clone()) {
                    None => Err(BookingFailure::NotFound),
                    Some(b) if !b.active => Err(BookingFailure::Cancelled),
                    Some(b) if model.starts[b.slot] <= model.now => Err(BookingFailure::Past),
                    Some(b) => {
                        model.cells[b.slot] = Cell::Free;
                        model.bookings[index.unwrap()].active = false;
                        Ok(())
                    }
                };
                assert_eq!(got, expected);
            }
            Op::Reschedule { client, booking, slot } => {
                let conn = self.conns[usize::from(client)];
                let (index, token) = Self::token(model, booking);
                let target = self.slot(slot);
                let got = self.engine.reschedule(conn, token, self.slot_id(target)).await.unwrap();
                let expected = match index.map(|i| model.bookings[i].clone()) {
                    None => Err(BookingFailure::NotFound),
                    Some(b) if !b.active => Err(BookingFailure::Cancelled),
                    Some(b) if model.starts[b.slot] <= model.now => Err(BookingFailure::Past),
                    Some(b) => match target {
                        None => Err(BookingFailure::NotFound),
                        Some(t) => match model.refuse(t, conn) {
                            Some(reason) => Err(reason),
                            None => {
                                let i = index.unwrap();
                                model.cells[b.slot] = Cell::Free;
                                model.cells[t] = Cell::Booked(i);
                                model.bookings[i].slot = t;
                                Ok(self.ids[t].clone())
                            }
                        },
                    },
                };
                assert_eq!(got.map(|details| details.slot.id), expected);
            }
            Op::Staff { action, slot } => {
                let slot = self.slot(slot);
                let action =
                    [StaffAction::Cancel, StaffAction::Block, StaffAction::Unblock, StaffAction::EndHold]
                        [usize::from(action)];
                let got = self.engine.staff(action, self.slot_id(slot)).await.unwrap();
                let expected = match slot {
                    None => Err(BookingFailure::NotFound),
                    Some(s) => {
                        // What the slot becomes, or why it cannot.
                        let next = match (action, model.cells[s]) {
                            (StaffAction::Cancel, Cell::Booked(b)) => {
                                model.bookings[b].active = false;
                                Ok(Cell::Free)
                            }
                            // Staff take a held slot from its holder.
                            (StaffAction::Block, Cell::Free | Cell::Held { .. }) => Ok(Cell::Blocked),
                            (StaffAction::EndHold, Cell::Held { .. })
                            | (StaffAction::Unblock, Cell::Blocked) => Ok(Cell::Free),
                            (StaffAction::Block, Cell::Booked(_)) => Err(BookingFailure::AlreadyBooked),
                            _ => Err(BookingFailure::WrongState),
                        };
                        next.map(|cell| model.cells[s] = cell)
                    }
                };
                assert_eq!(got, expected);
            }
            Op::Expire => {
                model.now += Duration::seconds(HOLD + 1);
                *self.clock.lock().unwrap() = model.now;
                self.engine.tick().await.unwrap();
                for cell in &mut model.cells {
                    if matches!(cell, Cell::Held { until, .. } if *until <= model.now) {
                        *cell = Cell::Free;
                    }
                }
            }
            Op::Reset => {
                self.engine.reset().await.unwrap();
                model.cells.fill(Cell::Free);
                model.bookings.iter_mut().for_each(|b| b.active = false);
                model.answers.clear();
            }
        }
    }

    /// Everything that must agree after a step; returns the version.
    async fn check(&mut self, model: &Model) -> Version {
        // A round trip through the engine: every command sent before is done.
        let (version, staff) = self.engine.staff_state().await.unwrap();
        while let Ok(broadcast) = self.updates.try_recv() {
            let message: ServerMessage = serde_json::from_str(broadcast.frame.as_str()).unwrap();
            match self.replica.apply(message) {
                Applied::Changed(_) | Applied::Replaced => {}
                other => panic!("a broadcast out of order: {other:?}"),
            }
        }
        let snapshot = self.engine.snapshot();
        let statuses: Vec<_> = snapshot.schedule().slots.iter().map(|s| (s.status, s.held_until)).collect();
        let replica = self.replica.schedule().expect("a schedule");
        let rebuilt: Vec<_> = replica.slots.iter().map(|s| (s.status, s.held_until)).collect();
        assert_eq!(statuses, model.statuses(), "the engine's snapshot against the model");
        assert_eq!(rebuilt, statuses, "the schedule rebuilt from broadcasts against the snapshot");
        assert_eq!((replica.version, snapshot.version()), (version, version));
        let staff: BTreeSet<(usize, String)> = staff
            .into_iter()
            .map(|b| (self.ids.iter().position(|id| *id == b.slot_id).unwrap(), b.code))
            .collect();
        assert_eq!(staff, model.active(), "staff's bookings against the model");
        let loaded = self.reader.load(test_now() - Duration::days(1)).await.unwrap();
        assert_eq!(loaded.version, version, "the database's version");
        let mut active = BTreeSet::new();
        for booking in &loaded.bookings {
            assert!(active.insert(booking.slot_id.clone()), "two active bookings of {}", booking.slot_id);
        }
        let stored: Vec<_> = loaded
            .slots
            .iter()
            .map(|s| match s.state {
                StoredState::Free => (SlotStatus::Free, None),
                StoredState::Held { expires, .. } => (SlotStatus::Held, Some(expires)),
                StoredState::Booked => (SlotStatus::Booked, None),
                StoredState::Blocked => (SlotStatus::Blocked, None),
            })
            .collect();
        assert_eq!(stored, model.statuses(), "the database against the model");
        version
    }
}

async fn run(url: &str, ops: &[Op]) {
    let (mut rig, mut model) = rig(url).await;
    let mut version = rig.check(&model).await;
    for op in ops {
        let before = model.cells.clone();
        rig.step(&mut model, op).await;
        let after = rig.check(&model).await;
        let changed = before != model.cells || matches!(op, Op::Reset);
        assert_eq!(after > version, changed, "after {op:?}: a version for a change, and only for one");
        version = after;
    }
}

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig { cases: n, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(cases(48))]

    #[test]
    fn the_engine_on_sqlite_follows_the_model(ops in prop::collection::vec(op(), 1..60)) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            run(&format!("sqlite://{}/model.db", dir.path().display()), &ops).await;
        });
    }
}

#[test]
#[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
fn the_engine_on_postgres_follows_the_model() {
    // Without a server every case would fail alike: once, before them, is enough.
    let test = "the_engine_on_postgres_follows_the_model";
    crate::common::postgres::server_url(test);
    proptest!(cases(16), |(ops in prop::collection::vec(op(), 1..60))| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let db = runtime.block_on(TestDatabase::require(test));
        runtime.block_on(run(&db.url, &ops));
    });
}

/// The address of a model client: each its own.
fn address(client: usize) -> server::ClientKey {
    server::ClientKey::of(std::net::IpAddr::from([127, 0, 0, client as u8 + 1]))
}
