-- The schedule on PostgreSQL: the same tables and rules as on SQLite, for several
-- server instances sharing one database. Instants are Unix seconds (UTC).

-- The schedule version. Every write transaction updates this one row first, which
-- makes the writers of all instances take turns, so versions follow commit order.
CREATE TABLE schedule_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO schedule_version (id, version) VALUES (1, 0);

CREATE TABLE slots (
    id        TEXT PRIMARY KEY,
    doctor_id TEXT NOT NULL,
    start_at  BIGINT NOT NULL,
    end_at    BIGINT NOT NULL
);
CREATE INDEX slots_by_start ON slots (start_at);

CREATE TABLE bookings (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slot_id       TEXT NOT NULL REFERENCES slots (id),
    code          TEXT NOT NULL UNIQUE,
    -- SHA-256 (hex) of the booking's manage-link secret; the secret itself is never stored.
    manage_hash   TEXT UNIQUE,
    patient_name  TEXT NOT NULL,
    patient_phone TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    -- Set when the booking stops holding its slot; the record stays for the clinic.
    cancelled_at  BIGINT
);

-- The rule that makes double booking impossible, whichever instance books: one
-- active booking per slot.
CREATE UNIQUE INDEX one_active_booking_per_slot ON bookings (slot_id) WHERE cancelled_at IS NULL;
-- Finding the booking a retried request already made.
CREATE INDEX bookings_by_request ON bookings (request_id, slot_id);

-- A slot somebody is filling in the booking form for, until `expires_at`. The
-- holder names the instance and the connection.
CREATE TABLE holds (
    slot_id    TEXT PRIMARY KEY REFERENCES slots (id),
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- A slot staff took out of the schedule.
CREATE TABLE blocks (
    slot_id    TEXT PRIMARY KEY REFERENCES slots (id),
    blocked_at BIGINT NOT NULL
);

-- The log of committed changes, one row per version, which instances read to
-- apply each other's changes in order. A NULL slot means the whole schedule
-- changed (a reset, a new day).
CREATE TABLE changes (
    version      BIGINT PRIMARY KEY,
    slot_id      TEXT,
    status       TEXT NOT NULL,
    holder       TEXT,
    hold_expires BIGINT,
    booking_id   BIGINT
);
