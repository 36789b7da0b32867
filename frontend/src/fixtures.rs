//! Messages and values the page's tests build again and again: a small
//! schedule, updates of it, a patient, and a proof of work.

use protocol::{
    Clinic, Doctor, DoctorId, Patient, PowChallenge, PowParameters, PowSolution, Proof, Schedule,
    ServerMessage, Slot, SlotId, SlotStatus, Version,
};

/// Slot `id` of doctor `d`, on 25 November at 09:00 in Moscow.
pub(crate) fn slot(id: &str, status: SlotStatus) -> Slot {
    Slot {
        id: SlotId(id.into()),
        doctor_id: DoctorId("d".into()),
        start: "2026-11-25T06:00:00Z".parse().unwrap(),
        end: "2026-11-25T06:30:00Z".parse().unwrap(),
        status,
        held_until: None,
    }
}

/// The whole schedule at `version`, of one doctor with these slots.
pub(crate) fn schedule(version: Version, slots: Vec<Slot>) -> ServerMessage {
    ServerMessage::InitialState(Schedule {
        version,
        clinic: Clinic {
            name: "C".into(),
            time_zone: "Europe/Moscow".into(),
            min_notice_minutes: 0,
            hold_seconds: 120,
            hold_extensions: 2,
            offer_seconds: 600,
            default_language: "ru".into(),
            names: Default::default(),
        },
        doctors: vec![Doctor {
            id: DoctorId("d".into()),
            name: "D".into(),
            specialty: "S".into(),
            texts: Default::default(),
        }],
        slots,
    })
}

/// Slot `id` is now `status`, at `version`.
pub(crate) fn update(version: Version, id: &str, status: SlotStatus) -> ServerMessage {
    ServerMessage::Update { version, slot: slot(id, status) }
}

/// A patient whose details are valid.
pub(crate) fn patient() -> Patient {
    Patient { name: "Anna".into(), phone: "+7 912 345-67-89".into() }
}

/// A solved proof of the challenge with `nonce` (the page does not check it).
pub(crate) fn proof(nonce: &str) -> Proof {
    Proof {
        challenge: PowChallenge {
            parameters: PowParameters {
                algorithm: "SHA-256".into(),
                cost: 1,
                expires_at: None,
                key_length: 32,
                key_prefix: "0".into(),
                key_signature: None,
                nonce: nonce.into(),
                salt: "00".into(),
            },
            signature: "signed".into(),
        },
        solution: PowSolution { counter: 7, derived_key: "00ff".into() },
    }
}
