//! The day agenda as plain data: every appointment (active booking) of one day
//! in time order across doctors, optionally of one doctor, each with its
//! patient and where it stands now. It is derived from the bookings the
//! console already keeps up to date, so a booking made anywhere shows at once.

use std::collections::HashMap;

use protocol::{BookingCode, DoctorId, Patient, SlotId, StaffBooking};

use crate::layout::Layout;

/// Where an appointment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowState {
    /// It has not started yet.
    Upcoming,
    /// It is going on now.
    Now,
    /// It is over.
    Past,
    /// Staff marked that the patient did not come.
    NoShow,
}

/// One appointment of the agenda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The booked slot.
    pub slot: SlotId,
    /// Its start, in milliseconds since the epoch.
    pub start_ms: i64,
    /// Its local start, such as `09:30`.
    pub time: String,
    /// The doctor.
    pub doctor: DoctorId,
    /// The doctor's name, in the page's language.
    pub doctor_name: String,
    /// Who the appointment is for.
    pub patient: Patient,
    /// The booking's code.
    pub code: BookingCode,
    /// Where it stands.
    pub state: RowState,
}

impl Row {
    /// Whether the appointment has started: only then can its patient be
    /// marked as not having come (or the mark be taken back).
    pub fn started(&self) -> bool {
        self.state != RowState::Upcoming
    }
}

/// The appointments of day `day` (a `YYYY-MM-DD` key), of `doctor` only when
/// given, in time order and, at the same time, in the doctors' order.
pub fn rows(
    layout: &Layout,
    bookings: &HashMap<SlotId, StaffBooking>,
    day: &str,
    doctor: Option<&DoctorId>,
    now_ms: i64,
) -> Vec<Row> {
    let Some(day) = layout.day(day) else { return Vec::new() };
    let mut rows: Vec<Row> = layout
        .doctors
        .iter()
        .zip(&day.columns)
        .filter(|(d, _)| doctor.is_none_or(|wanted| &d.id == wanted))
        .flat_map(|(d, cells)| {
            cells.iter().filter_map(move |cell| {
                let booking = bookings.get(&cell.id)?;
                let state = if booking.no_show {
                    RowState::NoShow
                } else if now_ms < cell.start_ms {
                    RowState::Upcoming
                } else if now_ms < cell.end_ms {
                    RowState::Now
                } else {
                    RowState::Past
                };
                Some(Row {
                    slot: cell.id.clone(),
                    start_ms: cell.start_ms,
                    time: cell.time.clone(),
                    doctor: d.id.clone(),
                    doctor_name: d.name.clone(),
                    patient: booking.patient.clone(),
                    code: booking.code.clone(),
                    state,
                })
            })
        })
        .collect();
    // A stable sort: rows of the same time keep the doctors' order.
    rows.sort_by_key(|r| r.start_ms);
    rows
}

/// The day the agenda opens on: `today` (a `YYYY-MM-DD` key) when the
/// schedule has it, else the next day it has, else its last day.
pub fn default_day(layout: &Layout, today: &str) -> Option<String> {
    let days = &layout.days;
    days.iter().find(|d| d.key.as_str() >= today).or(days.last()).map(|d| d.key.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Cell, Day};
    use protocol::Doctor;

    const HOUR: i64 = 3_600_000;

    fn cell(id: &str, hour: i64) -> Cell {
        Cell {
            id: SlotId(id.into()),
            time: format!("{hour:02}:00"),
            start_ms: hour * HOUR,
            end_ms: hour * HOUR + HOUR / 2,
        }
    }

    fn doctor(id: &str) -> Doctor {
        Doctor {
            id: DoctorId(id.into()),
            name: format!("Dr {id}"),
            specialty: String::new(),
            texts: Default::default(),
        }
    }

    /// Two doctors on two days; the first day has slots at 9, 10 and 11 for the
    /// first doctor and at 9 and 12 for the second.
    fn layout() -> Layout {
        Layout {
            doctors: vec![doctor("a"), doctor("b")],
            days: vec![
                Day {
                    key: "2026-11-24".into(),
                    label: String::new(),
                    long: String::new(),
                    columns: vec![
                        vec![cell("a9", 9), cell("a10", 10), cell("a11", 11)],
                        vec![cell("b9", 9), cell("b12", 12)],
                    ],
                },
                Day {
                    key: "2026-11-26".into(),
                    label: String::new(),
                    long: String::new(),
                    columns: vec![vec![cell("x", 9)], vec![]],
                },
            ],
            ..Layout::default()
        }
    }

    fn booked(slots: &[&str]) -> HashMap<SlotId, StaffBooking> {
        slots.iter().map(|s| (SlotId((*s).into()), crate::staff::tests::booking(s))).collect()
    }

    fn ids(rows: &[Row]) -> Vec<&str> {
        rows.iter().map(|r| r.slot.0.as_str()).collect()
    }

    #[test]
    fn the_agenda_lists_the_days_bookings_in_time_order_across_doctors() {
        let bookings = booked(&["b12", "a10", "b9", "a9", "x"]);
        let rows = rows(&layout(), &bookings, "2026-11-24", None, 0);
        assert_eq!(ids(&rows), ["a9", "b9", "a10", "b12"], "free a11 and the other day's x are left out");
        assert_eq!((rows[1].doctor_name.as_str(), rows[1].time.as_str()), ("Dr b", "09:00"));
        assert_eq!(rows[0].code, "K7M2-QX4P");
        let only_b = super::rows(&layout(), &bookings, "2026-11-24", Some(&DoctorId("b".into())), 0);
        assert_eq!(ids(&only_b), ["b9", "b12"]);
        assert!(super::rows(&layout(), &bookings, "2026-11-25", None, 0).is_empty(), "no such day");
    }

    #[test]
    fn each_appointment_is_upcoming_going_on_over_or_a_no_show_and_only_a_started_one_may_be_marked() {
        let mut bookings = booked(&["a9", "a10", "a11"]);
        bookings.get_mut(&SlotId("a9".into())).unwrap().no_show = true;
        let now = 10 * HOUR + 10 * 60_000;
        let rows = rows(&layout(), &bookings, "2026-11-24", None, now);
        let states: Vec<RowState> = rows.iter().map(|r| r.state).collect();
        assert_eq!(states, [RowState::NoShow, RowState::Now, RowState::Upcoming]);
        assert_eq!(rows.iter().map(Row::started).collect::<Vec<_>>(), [true, true, false]);
        let later = super::rows(&layout(), &bookings, "2026-11-24", None, 10 * HOUR + HOUR / 2);
        assert_eq!(later[1].state, RowState::Past, "over at its end");
        let at_start = super::rows(&layout(), &bookings, "2026-11-24", None, 11 * HOUR);
        assert!(at_start[2].started(), "a slot has started at its start");
    }

    #[test]
    fn the_agenda_opens_on_today_else_the_next_day_else_the_last() {
        let layout = layout();
        assert_eq!(default_day(&layout, "2026-11-24").as_deref(), Some("2026-11-24"));
        assert_eq!(default_day(&layout, "2026-11-25").as_deref(), Some("2026-11-26"));
        assert_eq!(default_day(&layout, "2026-11-20").as_deref(), Some("2026-11-24"));
        assert_eq!(default_day(&layout, "2026-12-01").as_deref(), Some("2026-11-26"));
        assert_eq!(default_day(&Layout::default(), "2026-11-24"), None);
    }
}
