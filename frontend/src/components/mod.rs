//! The pieces of the page, and moving the focus between them. The staff
//! console's pieces are built only with the `staff` feature.

use leptos::prelude::*;

#[cfg(feature = "staff")]
mod agenda;
mod booking_dialog;
#[cfg(feature = "staff")]
mod confirm_dialog;
#[cfg(feature = "staff")]
mod console;
mod days;
mod grid;
mod header;
#[cfg(feature = "staff")]
mod history;
mod join_dialog;
mod manage_panel;
mod notices;
mod offer;
mod receipt;
#[cfg(feature = "staff")]
mod reset_dialog;
#[cfg(feature = "staff")]
mod staff_accounts;
#[cfg(feature = "staff")]
mod staff_panel;
#[cfg(feature = "staff")]
mod staff_waitlist;
mod wait_panel;
mod window_fields;

#[cfg(feature = "staff")]
pub(crate) use agenda::Agenda;
pub(crate) use booking_dialog::BookingDialog;
#[cfg(feature = "staff")]
pub(crate) use confirm_dialog::ConfirmDialog;
#[cfg(feature = "staff")]
pub(crate) use console::{Console, View};
pub(crate) use days::DayTabs;
pub(crate) use grid::{Legend, ScheduleGrid};
pub(crate) use header::Header;
#[cfg(feature = "staff")]
pub(crate) use history::{Activity, HistoryDialog};
pub(crate) use join_dialog::JoinDialog;
pub(crate) use manage_panel::ManagePanel;
pub(crate) use notices::{Notice, StaleBanner};
#[cfg(feature = "staff")]
pub(crate) use reset_dialog::ResetDialog;
#[cfg(feature = "staff")]
pub(crate) use staff_accounts::StaffAccounts;
#[cfg(feature = "staff")]
pub(crate) use staff_panel::{SlotDetails, StaffPanel};
#[cfg(feature = "staff")]
pub(crate) use staff_waitlist::StaffWaitlistPanel;
pub(crate) use wait_panel::WaitPanel;

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

/// Moves the focus to the button of slot `id`, once it is drawn.
pub(crate) fn focus_slot(id: &SlotId) {
    focus_marked("button.slot", "data-slot-id", &id.0);
}

/// Moves the focus to the first element matching `css` whose attribute `name`
/// is `value`, once it is drawn. The value is compared, never put into a
/// selector, so that any id works.
pub(crate) fn focus_marked(css: &'static str, name: &'static str, value: &str) {
    let value = value.to_owned();
    request_animation_frame(move || {
        let Ok(found) = document().query_selector_all(css) else { return };
        let element = (0..found.length())
            .filter_map(|i| found.item(i)?.dyn_into::<web_sys::Element>().ok())
            .find(|e| e.get_attribute(name).as_deref() == Some(value.as_str()));
        focus_element(element);
    });
}

/// Keeps Tab and Shift+Tab inside the dialog `dialog`, as a modal dialog must.
pub(crate) fn trap_tab(ev: &leptos::ev::KeyboardEvent, dialog: &web_sys::Element) {
    let Ok(list) = dialog.query_selector_all("button:not([disabled]), input:not([disabled]), a[href]") else {
        return;
    };
    let items: Vec<web_sys::HtmlElement> =
        (0..list.length()).filter_map(|i| list.item(i)?.dyn_into::<web_sys::HtmlElement>().ok()).collect();
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        // Nothing to move to while the form is busy: the focus stays put.
        ev.prevent_default();
        return;
    };
    let active = web_sys::window().and_then(|w| w.document()).and_then(|d| d.active_element());
    let at = |e: &web_sys::HtmlElement| {
        active.as_ref().is_some_and(|a| a == e.unchecked_ref::<web_sys::Element>())
    };
    let outside = active.as_ref().is_none_or(|a| !dialog.contains(Some(a.unchecked_ref())));
    if ev.shift_key() && (at(first) || outside) {
        ev.prevent_default();
        let _ = last.focus();
    } else if !ev.shift_key() && (at(last) || outside) {
        ev.prevent_default();
        let _ = first.focus();
    }
}

fn focus_element(element: Option<web_sys::Element>) {
    if let Some(element) = element.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = element.focus();
    }
}
