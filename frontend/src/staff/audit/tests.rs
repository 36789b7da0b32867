//! Tests of the history dialog, the activity view and its filter.

use std::collections::BTreeSet;

use super::*;

fn entry(id: u64, actor: Actor, action: AuditAction) -> AuditEntry {
    AuditEntry {
        id,
        at: "2026-11-24T07:00:00Z".parse().unwrap(),
        actor,
        action,
        slot_id: Some(SlotId("dr-a-2026-11-24-0900".into())),
        other_slot_id: None,
        booking_code: Some("K7M2-QX4P".into()),
        entry_id: None,
        address: Some("10.0.0.7".into()),
        detail: None,
    }
}

fn rita() -> Actor {
    Actor::Staff { name: "rita".into() }
}

fn answer(request_id: &str, entries: Vec<AuditEntry>) -> ServerMessage {
    ServerMessage::StaffHistory { request_id: request_id.into(), entries }
}

#[test]
fn a_bookings_history_asks_by_code_and_a_slots_by_slot() {
    let mut audit = Audit::default();
    let sent = audit.open(Subject::Booking("K7M2-QX4P".into()), "h1".into());
    let ClientMessage::StaffHistory { request_id, query } = sent else { panic!("{sent:?}") };
    assert_eq!(
        (request_id.as_str(), query.booking_code.as_deref(), &query.slot_id),
        ("h1", Some("K7M2-QX4P"), &None)
    );
    assert!(audit.history.as_ref().unwrap().rows.loading());
    assert!(!audit.on_message(&answer("other", vec![])), "another request's answer");
    assert!(audit.on_message(&answer("h1", vec![entry(2, rita(), AuditAction::Cancelled)])));
    let rows = &audit.history.as_ref().unwrap().rows;
    assert!(rows.loaded && !rows.loading());
    assert_eq!(rows.entries[0].id, 2);

    let ClientMessage::StaffHistory { query, .. } =
        audit.open(Subject::Slot(SlotId("s".into())), "h2".into())
    else {
        panic!()
    };
    assert_eq!((query.slot_id, query.booking_code), (Some(SlotId("s".into())), None));
    assert!(audit.history.as_ref().unwrap().rows.entries.is_empty(), "a new dialog starts empty");
    audit.close();
    assert!(!audit.on_message(&answer("h2", vec![])), "a closed dialog's answer is dropped");
}

#[test]
fn the_activity_asks_for_the_last_day_and_a_refusal_or_a_drop_is_said() {
    let mut audit = Audit::default();
    let now: DateTime<chrono::Utc> = "2026-11-24T12:00:00Z".parse().unwrap();
    let ClientMessage::StaffHistory { query, .. } = audit.load_activity(now.timestamp_millis(), "a1".into())
    else {
        panic!()
    };
    assert_eq!(query.since, Some("2026-11-23T12:00:00Z".parse().unwrap()));
    let refused = ServerMessage::Error {
        code: protocol::ErrorCode::Forbidden,
        message: "no".into(),
        request_id: Some("a1".into()),
    };
    assert!(audit.on_message(&refused));
    assert_eq!(audit.activity.said, Some(Say::Forbidden));
    audit.load_activity(now.timestamp_millis(), "a2".into());
    assert_eq!(audit.activity.said, None);
    audit.on_disconnect();
    assert_eq!((audit.activity.loading(), audit.activity.said), (false, Some(Say::NotConnected)));
}

#[test]
fn the_filter_picks_by_kind_by_who_and_by_text_over_codes_slots_and_details() {
    let mut moved = entry(5, Actor::ManageLink, AuditAction::Rescheduled);
    moved.other_slot_id = Some(SlotId("dr-b-2026-11-25-1000".into()));
    let mut added = entry(6, Actor::Staff { name: "admin".into() }, AuditAction::StaffAdded);
    (added.slot_id, added.booking_code, added.detail) = (None, None, Some("rita (receptionist)".into()));
    let entries = vec![
        entry(1, Actor::Patient, AuditAction::Booked),
        entry(2, rita(), AuditAction::Cancelled),
        entry(3, Actor::System, AuditAction::Expired),
        entry(4, Actor::WaitlistLink, AuditAction::Booked),
        moved,
        added,
    ];
    let ids = |filter: Filter| filtered(&entries, &filter).iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(ids(Filter::default()), [1, 2, 3, 4, 5, 6]);
    assert_eq!(ids(Filter { action: Some(AuditAction::Booked), ..Filter::default() }), [1, 4]);
    assert_eq!(ids(Filter { who: Who::Patients, ..Filter::default() }), [1, 4, 5]);
    assert_eq!(ids(Filter { who: Who::System, ..Filter::default() }), [3]);
    assert_eq!(ids(Filter { who: Who::Staff("rita".into()), ..Filter::default() }), [2]);
    assert_eq!(ids(Filter { text: " dr-b ".into(), ..Filter::default() }), [5], "the slot left, trimmed");
    assert_eq!(ids(Filter { text: "k7m2".into(), who: Who::Staff("rita".into()), ..Filter::default() }), [2]);
    assert_eq!(ids(Filter { text: "RITA".into(), ..Filter::default() }), [6], "the details, in any case");
    assert_eq!(staff_names(&entries), ["admin", "rita"]);
}

#[test]
fn every_action_is_offered_once_by_its_name_on_the_wire() {
    let keys: BTreeSet<String> = ACTIONS.iter().map(|a| action_key(*a)).collect();
    assert_eq!(keys.len(), ACTIONS.len(), "each once");
    assert!(keys.contains("noShow") && keys.contains("loginFailed"));
    for action in ACTIONS {
        assert_eq!(action_of(&action_key(action)), Some(action));
    }
    assert_eq!(action_of("noSuchAction"), None);
    // The wire's list of actions is the offered one.
    let refused = serde_json::from_str::<AuditAction>("\"noSuchVariant\"").unwrap_err().to_string();
    let listed = refused.split('`').skip(1).step_by(2).filter(|s| *s != "noSuchVariant").count();
    assert_eq!(listed, ACTIONS.len());
}
