-- The log of committed changes, one row per schedule version: enough for a reader
-- that saw version N to follow the schedule from there without reading all of it.
-- A NULL slot means the whole schedule changed (a reset, a new day).

CREATE TABLE changes (
    version      INTEGER PRIMARY KEY NOT NULL,
    slot_id      TEXT,
    status       TEXT NOT NULL,
    holder       TEXT,
    hold_expires INTEGER,
    booking_id   INTEGER
);
