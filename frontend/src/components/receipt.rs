//! What a patient keeps of a booking made: the code to quote and the private
//! manage link, shown alike after booking a slot and after taking a time the
//! waitlist offered.

use leptos::prelude::*;
use protocol::{BookingCode, ManageToken};

use crate::i18n::{t, use_i18n};
use crate::pages::manage_url;

/// The booking code and, when the server gave one, the manage link.
#[component]
pub(crate) fn Receipt(
    /// The code to quote to the clinic.
    code: BookingCode,
    /// The manage link's secret.
    token: Option<ManageToken>,
) -> impl IntoView {
    let i18n = use_i18n();
    let link = token.map(|t| manage_url(&t));
    view! {
        <p class="code-label">{t!(i18n, code_label)}</p>
        <p class="code" id="booking-code">{code}</p>
        {link.map(|link| view! {
            <p class="code-label">{t!(i18n, link_label)}</p>
            <p class="manage-link"><a id="manage-link" href=link.clone()>{link.clone()}</a></p>
            <p class="hint">{t!(i18n, link_hint)}</p>
        })}
        <p class="hint">{t!(i18n, code_hint)}</p>
    }
}
