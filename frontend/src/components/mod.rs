//! The pieces of the page.

mod booking_dialog;
mod days;
mod grid;
mod header;
mod manage_panel;
mod notices;
mod reset_dialog;
mod staff_panel;

pub(crate) use booking_dialog::BookingDialog;
pub(crate) use days::DayTabs;
pub(crate) use grid::{Legend, ScheduleGrid};
pub(crate) use header::Header;
pub(crate) use manage_panel::ManagePanel;
pub(crate) use notices::{Notice, StaleBanner};
pub(crate) use reset_dialog::ResetDialog;
pub(crate) use staff_panel::StaffPanel;
