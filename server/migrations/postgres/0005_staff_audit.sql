-- Staff accounts and their sessions, the audit trail, no-shows and the erasure
-- of patients' details. Instants are Unix seconds (UTC).

-- A staff account. Its password is kept only as an argon2 hash (PHC string).
-- A removed account keeps its row, and its name is never given to another
-- account, whatever the case: the audit trail keeps its history under it.
CREATE TABLE staff (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    removed_at    BIGINT
);
CREATE UNIQUE INDEX staff_by_name ON staff (lower(name));

-- A logged-in console. The session's secret is kept only as its SHA-256 hash.
CREATE TABLE staff_sessions (
    token_hash TEXT PRIMARY KEY,
    staff_id   BIGINT NOT NULL REFERENCES staff (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Set on logout and when the account is removed.
    ended_at   BIGINT
);
CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id);

-- The audit trail: one row per thing that happened, never changed or removed.
-- actor_kind: patient, manageLink, waitlistLink, staff (actor_name says who)
-- or system; action: an AuditAction of the protocol, in camelCase.
CREATE TABLE audit (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            BIGINT NOT NULL,
    actor_kind    TEXT NOT NULL,
    actor_name    TEXT,
    address       TEXT,
    action        TEXT NOT NULL,
    slot_id       TEXT,
    other_slot_id TEXT,
    booking_id    BIGINT,
    entry_id      BIGINT,
    detail        TEXT
);
CREATE INDEX audit_by_at ON audit (at);
CREATE INDEX audit_by_slot ON audit (slot_id, id);
CREATE INDEX audit_by_booking ON audit (booking_id, id);

-- Set when staff mark the patient as not having come.
ALTER TABLE bookings ADD COLUMN no_show_at BIGINT;
-- Set when the patient's name and phone were erased (by the retention job or
-- on the patient's request).
ALTER TABLE bookings ADD COLUMN erased_at BIGINT;
ALTER TABLE waitlist ADD COLUMN erased_at BIGINT;
