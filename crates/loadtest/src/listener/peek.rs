//! The two things a listener reads from a message, found in the JSON text
//! without decoding it: an `update`'s version and slot id, and the schedule
//! version of the `initialState`. serde's derive writes a struct's fields in
//! their declared order, so both sit at fixed places: right after
//! `{"type":"update","payload":{"version":` (then `,"slot":{"id":"`) and after
//! `{"type":"initialState","payload":{"version":` (the schedule's own version,
//! its first field). The tests hold this against the protocol's real output.

const UPDATE: &[u8] = br#"{"type":"update","payload":{"version":"#;
const SLOT_ID: &[u8] = br#","slot":{"id":""#;
const INITIAL_STATE: &[u8] = br#"{"type":"initialState","payload":{"version":"#;

/// An `update`'s version and slot id; `None` for any other message.
pub(super) fn update(text: &[u8]) -> Option<(u64, &[u8])> {
    let (version, rest) = number(text.strip_prefix(UPDATE)?)?;
    let id = rest.strip_prefix(SLOT_ID)?;
    let end = id.iter().position(|&b| b == b'"')?;
    Some((version, &id[..end]))
}

/// The schedule version of an `initialState`; `None` for any other message.
pub(super) fn initial_version(text: &[u8]) -> Option<u64> {
    number(text.strip_prefix(INITIAL_STATE)?).map(|(version, _)| version)
}

/// The decimal number `bytes` begin with, and what follows it.
fn number(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let value =
        bytes[..digits].iter().try_fold(0u64, |n, &d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))?;
    Some((value, &bytes[digits..]))
}

#[cfg(test)]
mod tests {
    use protocol::{
        BookingFailure, Clinic, Doctor, DoctorId, Schedule, ServerMessage, Slot, SlotId, SlotStatus,
    };

    use super::*;

    fn slot(id: &str, status: SlotStatus) -> Slot {
        Slot {
            id: SlotId(id.into()),
            doctor_id: DoctorId("dr-petrova".into()),
            start: "2025-12-01T09:30:00Z".parse().unwrap(),
            end: "2025-12-01T10:00:00Z".parse().unwrap(),
            status,
            held_until: (status == SlotStatus::Held).then(|| "2025-12-01T09:05:00Z".parse().unwrap()),
        }
    }

    fn json(message: &ServerMessage) -> Vec<u8> {
        serde_json::to_vec(message).unwrap()
    }

    #[test]
    fn an_update_as_the_server_writes_it_gives_its_version_and_slot_id() {
        for (version, status) in
            [(0, SlotStatus::Free), (43, SlotStatus::Booked), (u64::MAX, SlotStatus::Held)]
        {
            let id = "dr-petrova-2025-12-01T09:30:00Z";
            let text = json(&ServerMessage::Update { version, slot: slot(id, status) });
            assert_eq!(update(&text), Some((version, id.as_bytes())), "{}", String::from_utf8_lossy(&text));
        }
    }

    #[test]
    fn other_messages_are_not_updates() {
        let others = [
            ServerMessage::Resumed { version: 7 },
            ServerMessage::BookingResult {
                request_id: "r-1".into(),
                ok: false,
                booking_code: None,
                manage_token: None,
                reason: Some(BookingFailure::AlreadyBooked),
            },
            ServerMessage::InitialState(schedule(9)),
        ];
        for message in &others {
            assert_eq!(update(&json(message)), None, "{message:?}");
        }
        assert_eq!(update(br#"{"type":"update","payload":{"version":x"#), None);
        assert_eq!(update(br#"{"type":"update","payload":{"version":99999999999999999999,"#), None);
    }

    fn schedule(version: u64) -> Schedule {
        let clinic = Clinic {
            name: "Clinic of version 1".into(),
            time_zone: "UTC".into(),
            min_notice_minutes: 60,
            hold_seconds: 300,
            hold_extensions: 2,
            offer_seconds: 600,
            default_language: "en".into(),
            names: Default::default(),
        };
        let doctor = Doctor {
            id: DoctorId("dr-petrova".into()),
            name: "Dr Petrova".into(),
            specialty: "Therapist".into(),
            texts: Default::default(),
        };
        let slots =
            vec![slot("a", SlotStatus::Free), slot("b", SlotStatus::Held), slot("c", SlotStatus::Booked)];
        Schedule { version, clinic, doctors: vec![doctor], slots }
    }

    #[test]
    fn an_initial_state_gives_the_schedule_version() {
        for version in [0, 1, 12_345, u64::MAX] {
            let text = json(&ServerMessage::InitialState(schedule(version)));
            assert_eq!(initial_version(&text), Some(version), "{}", String::from_utf8_lossy(&text));
        }
        assert_eq!(initial_version(&json(&ServerMessage::Resumed { version: 5 })), None);
        let an_update = json(&ServerMessage::Update { version: 5, slot: slot("a", SlotStatus::Booked) });
        assert_eq!(initial_version(&an_update), None);
    }
}
