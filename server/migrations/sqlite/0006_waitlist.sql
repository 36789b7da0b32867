-- The waitlist: patients waiting for a doctor within a window of the clinic's
-- local days and, optionally, start times. Offers go in the order of joining
-- (the id). The link's secret is kept only as its hash.
CREATE TABLE waitlist (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    doctor_id     TEXT NOT NULL,
    -- The window: local dates as YYYY-MM-DD (which sort as dates), start times
    -- as minutes after local midnight, NULL for "any".
    from_day      TEXT NOT NULL,
    to_day        TEXT NOT NULL,
    from_minute   INTEGER,
    to_minute     INTEGER,
    patient_name  TEXT NOT NULL,
    patient_phone TEXT NOT NULL,
    -- The phone's digits alone, for the limit of entries per phone number.
    phone_digits  TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    joined_at     INTEGER NOT NULL,
    -- waiting, booked (then booking_id says which), left, removed or lapsed.
    status        TEXT NOT NULL,
    -- How many offers to it ran out unanswered; at two it lapses.
    lapses        INTEGER NOT NULL DEFAULT 0,
    -- The nonce of the proof of work that paid for joining: a proof buys one
    -- join or one booking, on any instance.
    proof         TEXT UNIQUE,
    booking_id    INTEGER,
    ended_at      INTEGER
);
CREATE INDEX waitlist_waiting ON waitlist (doctor_id, id) WHERE status = 'waiting';
CREATE INDEX waitlist_by_phone ON waitlist (phone_digits) WHERE status = 'waiting';

-- Every offer made: a slot held for one entry (the hold itself is in holds, its
-- holder 'wait/<entry id>'). An entry is never offered the same slot twice.
CREATE TABLE offers (
    entry_id   INTEGER NOT NULL REFERENCES waitlist (id),
    slot_id    TEXT NOT NULL REFERENCES slots (id),
    offered_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (entry_id, slot_id)
);
CREATE INDEX holds_by_holder ON holds (holder);
