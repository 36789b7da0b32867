//! What the server counts, one function per event, called where the event
//! happens. Every name and label value is a static string, so that recording
//! allocates nothing; without a recorder installed (no `--metrics-listen`) each
//! call does nothing at all.

use std::time::Instant;

use ::metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use protocol::{BookingFailure, ClientMessage};

use crate::engine::BookOutcome;

/// WebSocket connections open now.
const CONNECTIONS_OPEN: &str = "booking_connections_open";
/// WebSocket connections accepted.
const CONNECTIONS: &str = "booking_connections_total";
/// WebSocket upgrades refused, by `reason`.
const CONNECTIONS_REFUSED: &str = "booking_connections_refused_total";
/// Connections ended, by `code` and by who ended them.
const CONNECTIONS_CLOSED: &str = "booking_connections_closed_total";
/// Client frames received, by `type`.
const MESSAGES: &str = "booking_messages_received_total";
/// Booking attempts decided, by `outcome` and `via`.
const BOOKINGS: &str = "booking_attempts_total";
/// How long write transactions take.
pub(super) const COMMIT_SECONDS: &str = "booking_commit_duration_seconds";
/// How many bookings share one group commit.
pub(super) const BATCH_SIZE: &str = "booking_commit_batch_size";
/// Commands waiting for the engine.
const QUEUE_DEPTH: &str = "booking_engine_queue_depth";
/// Clients brought up to date, by `kind`.
const RESYNCS: &str = "booking_resyncs_total";
/// Slots held now.
const HOLDS: &str = "booking_holds_live";
/// Times the PostgreSQL listening connection was subscribed again.
const LISTENER_RECONNECTS: &str = "booking_listener_reconnects_total";
/// Changes published to the connections.
const BROADCASTS: &str = "booking_broadcasts_total";
const DELIVERED: &str = "booking_updates_delivered_total";
/// Staff consoles logged in now.
const STAFF_CONSOLES: &str = "booking_staff_consoles";
/// Wrong secrets, by `kind`.
const WRONG_SECRETS: &str = "booking_wrong_secrets_total";
/// Secrets refused unchecked because of earlier wrong ones, by `kind`.
const SECRETS_REFUSED: &str = "booking_secrets_refused_total";
/// Patient details erased by the retention job, by `what`.
const RETENTION_ERASED: &str = "booking_retention_erasures_total";

/// Gives every metric its help text; called once, when the recorder is installed.
pub(super) fn describe() {
    describe_gauge!(CONNECTIONS_OPEN, "WebSocket connections open now, the handshakes under way included.");
    describe_counter!(CONNECTIONS, "WebSocket connections accepted.");
    describe_counter!(
        CONNECTIONS_REFUSED,
        "WebSocket connections refused before the upgrade, by reason: full (the server's limit), \
         per_address (the limit of one client address), origin (a page of another site), handshake \
         (not a valid WebSocket upgrade)."
    );
    describe_counter!(
        CONNECTIONS_CLOSED,
        "WebSocket connections ended, by close code and by who closed (server or client); code gone \
         when the socket failed, the peer vanished or did not read in time."
    );
    describe_counter!(
        MESSAGES,
        "Client frames received, by protocol message type; invalid for frames that were not a valid message."
    );
    describe_counter!(
        BOOKINGS,
        "Booking attempts decided, by outcome (booked, error, or the refusal's reason) and via \
         (book, or offer for an accepted waitlist offer)."
    );
    describe_histogram!(
        COMMIT_SECONDS,
        ::metrics::Unit::Seconds,
        "Time from the start of a write transaction (waiting for the schedule's version row included) to its commit."
    );
    describe_histogram!(BATCH_SIZE, "Bookings decided together in one group commit.");
    describe_gauge!(QUEUE_DEPTH, "Commands waiting for the engine, sampled after each step it takes.");
    describe_counter!(
        RESYNCS,
        "Clients brought up to date, by kind: resumed (only the updates they missed) or full (the whole schedule)."
    );
    describe_gauge!(HOLDS, "Slots held now (patients filling in the booking form, and waitlist offers).");
    describe_counter!(
        LISTENER_RECONNECTS,
        "Times the PostgreSQL listening connection was lost and subscribed again."
    );
    describe_counter!(BROADCASTS, "Schedule changes published to the connections.");
    describe_counter!(DELIVERED, "Schedule changes handed to connections: one per change and connection.");
    describe_gauge!(STAFF_CONSOLES, "Staff consoles logged in now.");
    describe_counter!(WRONG_SECRETS, "Wrong secrets given, by kind (manage link, or staff login).");
    describe_counter!(
        SECRETS_REFUSED,
        "Secrets refused unchecked, by kind, because their address (or everyone) gave too many wrong ones."
    );
    describe_counter!(
        RETENTION_ERASED,
        "Patient names and phones erased by the retention job, by what held them (booking or waitlist_entry)."
    );
}

/// A connection was accepted: counted until `connection_ended`.
pub(crate) fn connection_opened() {
    counter!(CONNECTIONS).increment(1);
    gauge!(CONNECTIONS_OPEN).increment(1.0);
}

/// An accepted connection is over.
pub(crate) fn connection_ended() {
    gauge!(CONNECTIONS_OPEN).decrement(1.0);
}

/// Why a connection was refused before the upgrade.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Refused {
    /// The server has as many connections as it may.
    Full,
    /// The client's address has as many as it may.
    PerAddress,
    /// A page of another site.
    Origin,
    /// Not a valid WebSocket upgrade.
    Handshake,
}

/// A connection was refused.
pub(crate) fn connection_refused(why: Refused) {
    let reason = match why {
        Refused::Full => "full",
        Refused::PerAddress => "per_address",
        Refused::Origin => "origin",
        Refused::Handshake => "handshake",
    };
    counter!(CONNECTIONS_REFUSED, "reason" => reason).increment(1);
}

/// How a connection ended.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Closed {
    /// The server sent a close frame with this code.
    Server(u16),
    /// The client sent one with this code (1005 when it gave none).
    Client(u16),
    /// Without a close frame: the socket failed, the peer vanished, or it did
    /// not read in time.
    Gone,
}

/// A connection ended.
pub(crate) fn connection_closed(how: Closed) {
    let (by, code) = match how {
        Closed::Server(code) => ("server", close_code(code)),
        Closed::Client(code) => ("client", close_code(code)),
        Closed::Gone => ("client", "gone"),
    };
    counter!(CONNECTIONS_CLOSED, "code" => code, "by" => by).increment(1);
}

/// The label of a close code: the codes of RFC 6455 by number, others by range.
fn close_code(code: u16) -> &'static str {
    match code {
        1000 => "1000",
        1001 => "1001",
        1002 => "1002",
        1003 => "1003",
        1005 => "1005",
        1006 => "1006",
        1007 => "1007",
        1008 => "1008",
        1009 => "1009",
        1010 => "1010",
        1011 => "1011",
        1012 => "1012",
        1013 => "1013",
        1014 => "1014",
        3000..=4999 => "application",
        _ => "other",
    }
}

/// A frame was decoded into `message`.
pub(crate) fn message_received(message: &ClientMessage) {
    counter!(MESSAGES, "type" => message_type(message)).increment(1);
}

/// A frame was not a valid message.
pub(crate) fn invalid_message() {
    counter!(MESSAGES, "type" => "invalid").increment(1);
}

/// The protocol's `type` name of a message.
fn message_type(message: &ClientMessage) -> &'static str {
    use ClientMessage as M;
    match message {
        M::Book { .. } => "book",
        M::Challenge { .. } => "challenge",
        M::Reset { .. } => "reset",
        M::Hold { .. } => "hold",
        M::ExtendHold { .. } => "extendHold",
        M::Release { .. } => "release",
        M::Lookup { .. } => "lookup",
        M::Cancel { .. } => "cancel",
        M::Reschedule { .. } => "reschedule",
        M::StaffLogin { .. } => "staffLogin",
        M::StaffResume { .. } => "staffResume",
        M::StaffLogout { .. } => "staffLogout",
        M::StaffNoShow { .. } => "staffNoShow",
        M::StaffHistory { .. } => "staffHistory",
        M::StaffErase { .. } => "staffErase",
        M::StaffAccounts { .. } => "staffAccounts",
        M::AddStaff { .. } => "addStaff",
        M::RemoveStaff { .. } => "removeStaff",
        M::StaffCancel { .. } => "staffCancel",
        M::Block { .. } => "block",
        M::Unblock { .. } => "unblock",
        M::EndHold { .. } => "endHold",
        M::JoinWaitlist { .. } => "joinWaitlist",
        M::WatchWaitlist { .. } => "watchWaitlist",
        M::ChangeWaitlist { .. } => "changeWaitlist",
        M::LeaveWaitlist { .. } => "leaveWaitlist",
        M::AcceptOffer { .. } => "acceptOffer",
        M::DeclineOffer { .. } => "declineOffer",
        M::StaffWaitlist { .. } => "staffWaitlist",
        M::StaffRemoveWaiting { .. } => "staffRemoveWaiting",
        M::Hello { .. } => "hello",
    }
}

/// A `book` was decided.
pub(crate) fn booking(outcome: &BookOutcome) {
    let outcome = match outcome {
        BookOutcome::Booked(..) => Ok(()),
        BookOutcome::Refused(reason) => Err(*reason),
    };
    counter!(BOOKINGS, "outcome" => outcome_name(outcome), "via" => "book").increment(1);
}

/// `count` bookings failed on an error of the server's (the database's).
pub(crate) fn bookings_failed(count: usize) {
    if count > 0 {
        counter!(BOOKINGS, "outcome" => "error", "via" => "book").increment(count as u64);
    }
}

/// A waitlist offer's acceptance was decided: `Ok(Ok)` booked, `Ok(Err)`
/// refused, `Err` failed.
pub(crate) fn offer_taken<T, E>(outcome: &Result<Result<T, BookingFailure>, E>) {
    let outcome = match outcome {
        Ok(Ok(_)) => "booked",
        Ok(Err(reason)) => outcome_name(Err(*reason)),
        Err(_) => "error",
    };
    counter!(BOOKINGS, "outcome" => outcome, "via" => "offer").increment(1);
}

/// The label of an outcome: `booked`, or the reason's wire name.
fn outcome_name(outcome: Result<(), BookingFailure>) -> &'static str {
    use BookingFailure as F;
    match outcome {
        Ok(()) => "booked",
        Err(F::AlreadyBooked) => "alreadyBooked",
        Err(F::NotFound) => "notFound",
        Err(F::Past) => "past",
        Err(F::InvalidPatient) => "invalidPatient",
        Err(F::Held) => "held",
        Err(F::TooSoon) => "tooSoon",
        Err(F::Blocked) => "blocked",
        Err(F::Cancelled) => "cancelled",
        Err(F::WrongState) => "wrongState",
        Err(F::TooManyHolds) => "tooManyHolds",
        Err(F::HoldCooldown) => "holdCooldown",
        Err(F::LimitReached) => "limitReached",
        Err(F::TooManyBookings) => "tooManyBookings",
        Err(F::ChallengeFailed) => "challengeFailed",
        Err(F::TooManyExtensions) => "tooManyExtensions",
        Err(F::InvalidWindow) => "invalidWindow",
        Err(F::NoOffer) => "noOffer",
        Err(F::AlreadyWaiting) => "alreadyWaiting",
    }
}

/// A write transaction that began at `started` has committed.
pub(crate) fn committed(started: Instant) {
    histogram!(COMMIT_SECONDS).record(started.elapsed().as_secs_f64());
}

/// The engine takes `size` bookings into one group commit.
pub(crate) fn batch(size: usize) {
    histogram!(BATCH_SIZE).record(size as f64);
}

/// `depth` commands wait for the engine.
pub(crate) fn engine_queue(depth: usize) {
    gauge!(QUEUE_DEPTH).set(depth as f64);
}

/// A client was brought up to date: with only what it missed (`resumed`), or
/// with the whole schedule.
pub(crate) fn resynced(resumed: bool) {
    counter!(RESYNCS, "kind" => if resumed { "resumed" } else { "full" }).increment(1);
}

/// `count` slots are held now.
pub(crate) fn holds(count: usize) {
    gauge!(HOLDS).set(count as f64);
}

/// The PostgreSQL listening connection was subscribed again after a loss.
pub(crate) fn listener_reconnected() {
    counter!(LISTENER_RECONNECTS).increment(1);
}

/// A change was published to the connections.
pub(crate) fn broadcast() {
    counter!(BROADCASTS).increment(1);
}

/// A fan-out worker handed `updates` changes to each of `connections`.
pub(crate) fn delivered(updates: usize, connections: usize) {
    counter!(DELIVERED).increment((updates * connections) as u64);
}

/// A staff console logged in (`true`) or went (`false`).
pub(crate) fn staff_console(present: bool) {
    if present {
        gauge!(STAFF_CONSOLES).increment(1.0);
    } else {
        gauge!(STAFF_CONSOLES).decrement(1.0);
    }
}

/// A wrong secret of `kind` was given.
pub(crate) fn wrong_secret(kind: &'static str) {
    counter!(WRONG_SECRETS, "kind" => kind).increment(1);
}

/// The retention job erased the patient details of `bookings` bookings and
/// `entries` waitlist entries.
pub(crate) fn retention_erased(bookings: u64, entries: u64) {
    counter!(RETENTION_ERASED, "what" => "booking").increment(bookings);
    counter!(RETENTION_ERASED, "what" => "waitlist_entry").increment(entries);
}

/// A secret of `kind` was refused unchecked.
pub(crate) fn secret_refused(kind: &'static str) {
    counter!(SECRETS_REFUSED, "kind" => kind).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_labels_are_the_wire_names_of_the_reasons() {
        let reasons = [
            BookingFailure::AlreadyBooked,
            BookingFailure::NotFound,
            BookingFailure::Past,
            BookingFailure::InvalidPatient,
            BookingFailure::Held,
            BookingFailure::TooSoon,
            BookingFailure::Blocked,
            BookingFailure::Cancelled,
            BookingFailure::WrongState,
            BookingFailure::TooManyHolds,
            BookingFailure::HoldCooldown,
            BookingFailure::LimitReached,
            BookingFailure::TooManyBookings,
            BookingFailure::ChallengeFailed,
            BookingFailure::TooManyExtensions,
            BookingFailure::InvalidWindow,
            BookingFailure::NoOffer,
            BookingFailure::AlreadyWaiting,
        ];
        for reason in reasons {
            let wire = serde_json::to_value(reason).unwrap();
            assert_eq!(Some(outcome_name(Err(reason))), wire.as_str(), "{reason:?}");
        }
    }

    #[test]
    fn message_labels_are_the_protocol_type_names() {
        let samples = [
            r#"{"type":"hello","payload":{"lastVersion":3}}"#,
            r#"{"type":"hold","payload":{"requestId":"r","slotId":"s"}}"#,
            r#"{"type":"release","payload":{"slotId":"s"}}"#,
            r#"{"type":"book","payload":{"requestId":"r","slotId":"s","patient":{"name":"A","phone":"1"}}}"#,
        ];
        for text in samples {
            let message: ClientMessage = serde_json::from_str(text).unwrap();
            let wire = serde_json::to_value(&message).unwrap();
            let name = message_type(&message);
            assert_eq!(Some(name), wire["type"].as_str());
            assert!(ClientMessage::TYPES.contains(&name));
        }
    }

    #[test]
    fn close_codes_are_labelled_by_number_or_range() {
        assert_eq!(close_code(1013), "1013");
        assert_eq!(close_code(4001), "application");
        assert_eq!(close_code(1), "other");
    }
}
