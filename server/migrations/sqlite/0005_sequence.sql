-- The revision of each booking, for the SEQUENCE of the calendar file a patient
-- keeps: 0 when booked, one more with every reschedule and with the cancel.
-- Bookings made before this release start at 0.
ALTER TABLE bookings ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
