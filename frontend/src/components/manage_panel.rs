//! The manage link's page: the appointment, and cancelling, moving or saving it.

use leptos::prelude::*;
use protocol::{BookingDetails, BookingStatus};
use wasm_bindgen::{JsCast, JsValue};

use super::booking_dialog::describe;
use crate::i18n::{Locale, t, td_string, use_i18n};
use crate::manage::{Manage, ManageLink, Step};
use crate::{Ctx, ics, language, request_id, time};

/// The appointment behind the link in the address.
#[component]
pub(crate) fn ManagePanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    // The card is drawn again in a new language or layout: it has no fields
    // to lose, and every word and name in it follows.
    let state = move || {
        let _language = i18n.get_locale();
        ctx.layout.track();
        ctx.manage.with(|m| m.as_ref().map(|m| m.state.clone()))
    };
    view! {
        <section class="manage" id="manage" aria-live="polite">
            {move || match state() {
                None | Some(Manage::Loading) => view! { <p class="card">{t!(i18n, manage_loading)}</p> }.into_any(),
                Some(Manage::NotFound) => view! {
                    <div class="card" id="manage-not-found">
                        <h2>{t!(i18n, manage_not_found_title)}</h2>
                        <p>{t!(i18n, manage_not_found)}</p>
                    </div>
                }
                .into_any(),
                Some(Manage::Shown { booking, step }) => view! { <Appointment booking=booking step=step/> }.into_any(),
            }}
        </section>
    }
}

/// Sends a request built by the manage link's logic.
fn send(ctx: Ctx, build: impl FnOnce(&mut ManageLink, String) -> Option<protocol::ClientMessage>) {
    if let Some(message) =
        ctx.manage.try_update(|m| m.as_mut().and_then(|m| build(m, request_id()))).flatten()
    {
        ctx.connection.send(message);
    }
}

fn set_step(ctx: Ctx, step: Step) {
    ctx.manage.update(|m| {
        if let Some(m) = m {
            m.step(step);
        }
    });
}

/// One appointment with its actions.
#[component]
fn Appointment(booking: BookingDetails, step: Step) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let l = i18n.get_locale();
    let slot = booking.slot.id.clone();
    let (doctor, specialty) = ctx.layout.with(|l| {
        l.doctors
            .iter()
            .find(|d| d.id == booking.slot.doctor_id)
            .map(|d| (d.name.clone(), d.specialty.clone()))
            .unwrap_or_default()
    });
    let zone = ctx.layout.with(|l| l.time_zone.clone());
    let ms = booking.slot.start.timestamp_millis();
    let day = time::long_day_label(ms, &zone, language::intl(l));
    let when = td_string!(l, when_value, day = day, time = time::time_label(ms, &zone)).to_string();
    let active = booking.status == BookingStatus::Active;
    let calendar = booking.clone();
    let download = move |_| save_calendar(ctx, &calendar, i18n.get_locale());
    let actions = match step.clone() {
        _ if !active => view! {
            <div class="actions start">
                <button type="button" class="secondary" id="download-cancel-ics" on:click=download>{t!(i18n, remove_from_calendar)}</button>
            </div>
            <p><a href="/">{t!(i18n, book_new)}</a></p>
        }
        .into_any(),
        Step::ConfirmCancel => view! {
            <div class="confirm" role="alertdialog" aria-labelledby="cancel-question">
                <p id="cancel-question">{t!(i18n, cancel_question)}</p>
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| set_step(ctx, Step::Idle)>{t!(i18n, keep_it)}</button>
                    <button type="button" class="danger" id="confirm-cancel"
                        on:click=move |_| send(ctx, |m, id| m.cancel(id))>{t!(i18n, yes_cancel)}</button>
                </div>
            </div>
        }
        .into_any(),
        Step::Picking => view! {
            <div class="confirm">
                <p>{t!(i18n, picking_hint)}</p>
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| set_step(ctx, Step::Idle)>{t!(i18n, back)}</button>
                </div>
            </div>
        }
        .into_any(),
        Step::ConfirmMove { to } => {
            let target = describe(ctx, &to, l);
            view! {
                <div class="confirm" role="alertdialog" aria-labelledby="move-question">
                    <p id="move-question">{t!(i18n, move_question, target = target)}</p>
                    <div class="actions">
                        <button type="button" class="secondary" on:click=move |_| set_step(ctx, Step::Picking)>{t!(i18n, back)}</button>
                        <button type="button" class="primary" id="confirm-move"
                            on:click=move |_| send(ctx, |m, id| m.reschedule(id))>{t!(i18n, move_appointment)}</button>
                    </div>
                </div>
            }
            .into_any()
        }
        Step::Waiting => view! { <p class="hint">{t!(i18n, working)}</p> }.into_any(),
        Step::Idle | Step::Said(_) => view! {
            <div class="actions start">
                <button type="button" class="secondary" id="download-ics" on:click=download>{t!(i18n, add_to_calendar)}</button>
                <button type="button" class="secondary" id="start-reschedule" disabled=move || !ctx.live()
                    on:click=move |_| set_step(ctx, Step::Picking)>{t!(i18n, reschedule)}</button>
                <button type="button" class="danger" id="start-cancel" disabled=move || !ctx.live()
                    on:click=move |_| set_step(ctx, Step::ConfirmCancel)>{t!(i18n, cancel_appointment)}</button>
            </div>
        }
        .into_any(),
    };
    let said = match step {
        Step::Said(say) => Some(
            view! { <p class="notice" id="manage-said" role="status">{move || say.text(i18n.get_locale())}</p> },
        ),
        _ => None,
    };
    view! {
        <div class="card appointment" data-slot-id=slot.0>
            <div class="appointment-head">
                <h2>{t!(i18n, your_appointment)}</h2>
                <span class=if active { "badge ok" } else { "badge bad" } id="manage-status">
                    {if active { t!(i18n, status_confirmed).into_any() } else { t!(i18n, status_cancelled).into_any() }}
                </span>
            </div>
            <dl class="facts">
                <dt>{t!(i18n, fact_when)}</dt><dd id="manage-when">{when}</dd>
                <dt>{t!(i18n, fact_doctor)}</dt><dd>{doctor} " · " {specialty}</dd>
                <dt>{t!(i18n, fact_patient)}</dt><dd>{booking.patient.name}</dd>
                <dt>{t!(i18n, fact_code)}</dt><dd class="mono">{booking.code}</dd>
            </dl>
            {said}
            {actions}
        </div>
    }
}

/// Offers the appointment as an `.ics` file, made here so no secret goes into a
/// URL: a request while it stands, its cancellation once it is cancelled.
fn save_calendar(ctx: Ctx, booking: &BookingDetails, locale: Locale) {
    let (doctor, specialty, clinic) = ctx.layout.with_untracked(|l| {
        let d = l.doctors.iter().find(|d| d.id == booking.slot.doctor_id);
        (
            d.map(|d| d.name.clone()).unwrap_or_default(),
            d.map(|d| d.specialty.clone()).unwrap_or_default(),
            l.clinic.clone(),
        )
    });
    let [summary, description] = calendar_words(booking, &doctor, &specialty, locale);
    let words = ics::Words { summary: &summary, location: &clinic, description: &description };
    let site = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    let appointment = ics::Appointment::of(booking, &site, &clinic, words);
    let now = chrono::DateTime::from_timestamp_millis(time::now_ms()).unwrap_or_default();
    let text = ics::calendar(&appointment, now);
    let download = || -> Result<(), JsValue> {
        let parts = js_sys::Array::of1(&JsValue::from_str(&text));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("text/calendar;charset=utf-8");
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
        let url = web_sys::Url::create_object_url_with_blob(&blob)?;
        let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
        let link: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
        link.set_href(&url);
        link.set_download(&appointment.file_name());
        link.click();
        web_sys::Url::revoke_object_url(&url)
    };
    if download().is_err() {
        ctx.notice.set(Some(crate::say::Say::CalendarFailed));
    }
}

/// The calendar file's title and description, the page's only words in it (the
/// location is the clinic's name).
fn calendar_words(booking: &BookingDetails, doctor: &str, specialty: &str, l: Locale) -> [String; 2] {
    let visit = format!("{specialty} – {doctor}");
    let summary = match booking.status {
        BookingStatus::Active => visit,
        BookingStatus::Cancelled => td_string!(l, calendar_cancelled, visit = visit).to_string(),
    };
    [summary, td_string!(l, calendar_description, code = booking.code.clone()).to_string()]
}
