//! The page in a real headless Chromium against the real server: live updates
//! between two sessions, holds, the race for one slot, reconnecting after a
//! restart, the manage link and its calendar files, the staff console and
//! reset, the robot check and the limits on holds, and screenshots at desktop
//! and phone widths.

mod accessibility;
mod agenda;
mod calendar;
mod checks;
mod keyboard;
mod manage;
mod schedule;
mod slot_names;
mod staff;
mod waitlist;
mod waitlist_access;
mod weight;

/// A desktop window, in pixels.
const DESKTOP: (u32, u32) = (1280, 900);
/// A phone's screen, in pixels.
const PHONE: (u32, u32) = (375, 812);
