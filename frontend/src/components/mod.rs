//! The pieces of the page.

mod booking_dialog;
mod days;
mod grid;
mod header;
mod reset_dialog;

pub(crate) use booking_dialog::BookingDialog;
pub(crate) use days::DayTabs;
pub(crate) use grid::ScheduleGrid;
pub(crate) use header::Header;
pub(crate) use reset_dialog::ResetDialog;
