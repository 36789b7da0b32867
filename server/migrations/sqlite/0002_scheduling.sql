-- Manage links, idempotent retries, live holds and staff blocks.

-- SHA-256 (hex) of the booking's manage-link secret; the secret itself is never stored.
ALTER TABLE bookings ADD COLUMN manage_hash TEXT;
CREATE UNIQUE INDEX bookings_by_manage_hash ON bookings (manage_hash);

-- Finding the booking a retried request already made.
CREATE INDEX bookings_by_request ON bookings (request_id, slot_id);

-- A slot somebody is filling in the booking form for, until `expires_at`.
CREATE TABLE holds (
    slot_id    TEXT PRIMARY KEY NOT NULL REFERENCES slots (id),
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

-- A slot staff took out of the schedule.
CREATE TABLE blocks (
    slot_id    TEXT PRIMARY KEY NOT NULL REFERENCES slots (id),
    blocked_at INTEGER NOT NULL
);
