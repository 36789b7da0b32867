-- The schedule: slots generated from the clinic configuration, the bookings made on
-- them, and the schedule version. Instants are Unix seconds (UTC).

CREATE TABLE schedule_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO schedule_version (id, version) VALUES (1, 0);

CREATE TABLE slots (
    id        TEXT PRIMARY KEY NOT NULL,
    doctor_id TEXT NOT NULL,
    start_at  INTEGER NOT NULL,
    end_at    INTEGER NOT NULL
);
CREATE INDEX slots_by_start ON slots (start_at);

CREATE TABLE bookings (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    slot_id       TEXT NOT NULL REFERENCES slots (id),
    code          TEXT NOT NULL UNIQUE,
    patient_name  TEXT NOT NULL,
    patient_phone TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    -- Set when the booking stops holding its slot (a reset clears the schedule this
    -- way, keeping the record for the clinic).
    cancelled_at  INTEGER
);

-- The rule that makes double booking impossible: one active booking per slot.
CREATE UNIQUE INDEX one_active_booking_per_slot ON bookings (slot_id) WHERE cancelled_at IS NULL;
