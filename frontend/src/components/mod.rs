//! The pieces of the page, and moving the focus between them.

use leptos::prelude::*;

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

use protocol::SlotId;
use wasm_bindgen::JsCast;

/// Moves the focus to the first element matching `css`, once it is drawn.
pub(crate) fn focus(css: &str) {
    let css = css.to_owned();
    request_animation_frame(move || {
        let element = document().query_selector(&css).ok().flatten();
        focus_element(element);
    });
}

/// Moves the focus to the button of slot `id`, once it is drawn. The id is
/// compared, never put into a selector, so that any id works.
pub(crate) fn focus_slot(id: &SlotId) {
    let id = id.0.clone();
    request_animation_frame(move || {
        let Ok(buttons) = document().query_selector_all("button.slot") else { return };
        let button = (0..buttons.length())
            .filter_map(|i| buttons.item(i)?.dyn_into::<web_sys::Element>().ok())
            .find(|b| b.get_attribute("data-slot-id").as_deref() == Some(id.as_str()));
        focus_element(button);
    });
}

fn focus_element(element: Option<web_sys::Element>) {
    if let Some(element) = element.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = element.focus();
    }
}
