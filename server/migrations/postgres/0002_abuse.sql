-- Defences against abusive clients.

-- The nonce of the proof of work a booking was paid with: each solution buys
-- one booking, whichever instance checks it.
ALTER TABLE bookings ADD COLUMN proof TEXT;
CREATE UNIQUE INDEX one_booking_per_proof ON bookings (proof) WHERE proof IS NOT NULL;

-- Request ids are no longer kept; the column now holds a hash of request id,
-- slot and patient (64 hex digits). Older rows lose their ids, so a retry of a
-- request made before this release is simply a new attempt.
UPDATE bookings SET request_id = '' WHERE length(request_id) <> 64;

-- Secrets the instances sharing this database must agree on (the key that
-- signs proof-of-work challenges), made once at the first start.
CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
