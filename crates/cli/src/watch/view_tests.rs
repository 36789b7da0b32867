//! Tests of the watch view: the filter, the states and the grid.

use std::collections::BTreeMap;

use protocol::{Clinic, Doctor, DoctorId, SlotId};

use super::*;

fn slot(id: &str, doctor: &str, start: &str, status: SlotStatus) -> Slot {
    let start: DateTime<Utc> = start.parse().unwrap();
    Slot {
        id: SlotId(id.into()),
        doctor_id: DoctorId(doctor.into()),
        start,
        end: start + chrono::Duration::minutes(30),
        status,
        held_until: None,
    }
}

fn doctor(id: &str, name: &str) -> Doctor {
    Doctor {
        id: DoctorId(id.into()),
        name: name.into(),
        specialty: "Therapist".into(),
        texts: BTreeMap::new(),
    }
}

fn schedule() -> Schedule {
    Schedule {
        version: 57,
        clinic: Clinic {
            name: "City Clinic".into(),
            time_zone: "Europe/Moscow".into(),
            min_notice_minutes: 30,
            hold_seconds: 120,
            hold_extensions: 2,
            offer_seconds: 600,
            default_language: "en".into(),
            names: BTreeMap::new(),
        },
        doctors: vec![doctor("therapist", "Dr. Sokolova"), doctor("dentist", "Dr. Petrosyan")],
        slots: vec![
            slot("t-1", "therapist", "2026-11-24T06:00:00Z", SlotStatus::Booked),
            slot("t-2", "therapist", "2026-11-25T06:00:00Z", SlotStatus::Free),
            slot("d-2", "dentist", "2026-11-25T06:00:00Z", SlotStatus::Held),
            slot("t-3", "therapist", "2026-11-25T06:30:00Z", SlotStatus::Blocked),
            slot("d-3", "dentist", "2026-11-26T07:00:00Z", SlotStatus::Booked),
        ],
    }
}

fn look(compact: bool) -> Look<'static> {
    Look { paint: Paint { on: false }, language: "en", compact, now: "2026-11-24T07:10:00Z".parse().unwrap() }
}

#[test]
fn a_slot_that_has_started_shows_as_past_whatever_its_state() {
    let now = look(false).now;
    assert_eq!(state(&schedule().slots[0], now), ("past", Style::Dim));
    assert_eq!(state(&schedule().slots[1], now), ("free", Style::Green));
    assert_eq!(state(&schedule().slots[2], now), ("held", Style::Yellow));
    assert_eq!(state(&schedule().slots[3], now), ("blocked", Style::Grey));
}

#[test]
fn the_filter_keeps_the_first_days_of_the_doctors_asked() {
    let schedule = schedule();
    let filter = Filter { doctors: vec!["dentist".into()], days: Some(1) };
    let shown = filter.apply(&schedule);
    let ids: Vec<&str> = shown.slots.iter().map(|s| s.id.0.as_str()).collect();
    assert_eq!(ids, ["d-2"], "the dentist's first day is the 25th");
    assert_eq!(shown.doctors.len(), 1);
    assert!(!filter.shows(&schedule, &schedule.slots[4]), "a later day");
    assert_eq!(Filter::default().days(&schedule).len(), 3);
}

#[test]
fn the_grid_has_a_row_per_start_and_a_column_per_doctor() {
    let lines = render(&schedule(), &Filter::default(), Link::Live, look(false));
    assert_eq!(lines[0], "City Clinic  ·  Europe/Moscow  ·  ● live · version 57");
    let day = lines.iter().position(|l| l == "Wed 25 Nov 2026").expect("the 25th has a heading");
    assert_eq!(lines[day + 1], "       Dr. Sokolova  Dr. Petrosyan");
    assert_eq!(lines[day + 2], "  09:00  t-2 free      d-2 held");
    assert_eq!(lines[day + 3], "  09:30  t-3 blocked");
    let compact = render(&schedule(), &Filter::default(), Link::Reconnecting, look(true));
    assert!(compact[0].ends_with("○ reconnecting… · version 57"));
    assert!(compact.iter().any(|l| l == "  09:00  free          held"), "{compact:#?}");
}

#[test]
fn a_change_line_names_the_day_time_doctor_slot_and_state() {
    let schedule = schedule();
    let line = change_line(&schedule, &schedule.slots[4], 58, look(false));
    assert_eq!(line, "v58  Thu 26 Nov 2026 10:00  Dr. Petrosyan  d-3  booked");
}
