//! The manage link's page: the appointment, and cancelling, moving or saving it.

use leptos::prelude::*;
use protocol::{BookingDetails, BookingStatus};
use wasm_bindgen::{JsCast, JsValue};

use super::booking_dialog::describe;
use crate::manage::{Manage, ManageLink, Step};
use crate::{Ctx, ics, request_id, time};

/// The appointment behind the link in the address.
#[component]
pub(crate) fn ManagePanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let state = move || ctx.manage.with(|m| m.as_ref().map(|m| m.state.clone()));
    view! {
        <section class="manage" id="manage" aria-live="polite">
            {move || match state() {
                None | Some(Manage::Loading) => view! { <p class="card">"Loading your appointment…"</p> }.into_any(),
                Some(Manage::NotFound) => view! {
                    <div class="card" id="manage-not-found">
                        <h2>"No appointment behind this link"</h2>
                        <p>"Check that you opened the whole link from your booking. You can also call the clinic with your booking code."</p>
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
    let slot = booking.slot.id.clone();
    let (doctor, specialty) = ctx.layout.with_untracked(|l| {
        l.doctors
            .iter()
            .find(|d| d.id == booking.slot.doctor_id)
            .map(|d| (d.name.clone(), d.specialty.clone()))
            .unwrap_or_default()
    });
    let zone = ctx.layout.with_untracked(|l| l.time_zone.clone());
    let ms = booking.slot.start.timestamp_millis();
    let when = format!("{} at {}", time::day_label(ms, &zone), time::time_label(ms, &zone));
    let active = booking.status == BookingStatus::Active;
    let calendar = booking.clone();
    let download = move |_| save_calendar(ctx, &calendar);
    let actions = match step.clone() {
        _ if !active => view! { <p><a href="/">"Book a new appointment"</a></p> }.into_any(),
        Step::ConfirmCancel => view! {
            <div class="confirm" role="alertdialog" aria-labelledby="cancel-question">
                <p id="cancel-question">"Cancel this appointment? The time becomes free for other patients."</p>
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| set_step(ctx, Step::Idle)>"Keep it"</button>
                    <button type="button" class="danger" id="confirm-cancel"
                        on:click=move |_| send(ctx, |m, id| m.cancel(id))>"Yes, cancel it"</button>
                </div>
            </div>
        }
        .into_any(),
        Step::Picking => view! {
            <div class="confirm">
                <p>"Choose a new time below; your current one stays yours until the move is done."</p>
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| set_step(ctx, Step::Idle)>"Back"</button>
                </div>
            </div>
        }
        .into_any(),
        Step::ConfirmMove { to } => {
            let target = describe(ctx, &to);
            view! {
                <div class="confirm" role="alertdialog" aria-labelledby="move-question">
                    <p id="move-question">"Move your appointment to " <strong>{target}</strong> "?"</p>
                    <div class="actions">
                        <button type="button" class="secondary" on:click=move |_| set_step(ctx, Step::Picking)>"Back"</button>
                        <button type="button" class="primary" id="confirm-move"
                            on:click=move |_| send(ctx, |m, id| m.reschedule(id))>"Move appointment"</button>
                    </div>
                </div>
            }
            .into_any()
        }
        Step::Waiting => view! { <p class="hint">"Working…"</p> }.into_any(),
        Step::Idle | Step::Said(_) => view! {
            <div class="actions start">
                <button type="button" class="secondary" id="download-ics" on:click=download>"Add to calendar (.ics)"</button>
                <button type="button" class="secondary" id="start-reschedule" disabled=move || !ctx.live()
                    on:click=move |_| set_step(ctx, Step::Picking)>"Reschedule"</button>
                <button type="button" class="danger" id="start-cancel" disabled=move || !ctx.live()
                    on:click=move |_| set_step(ctx, Step::ConfirmCancel)>"Cancel appointment"</button>
            </div>
        }
        .into_any(),
    };
    let said = match step {
        Step::Said(text) => Some(view! { <p class="notice" id="manage-said" role="status">{text}</p> }),
        _ => None,
    };
    view! {
        <div class="card appointment" data-slot-id=slot.0>
            <div class="appointment-head">
                <h2>"Your appointment"</h2>
                <span class=if active { "badge ok" } else { "badge bad" } id="manage-status">
                    {if active { "Confirmed" } else { "Cancelled" }}
                </span>
            </div>
            <dl class="facts">
                <dt>"When"</dt><dd id="manage-when">{when}</dd>
                <dt>"Doctor"</dt><dd>{doctor} " · " {specialty}</dd>
                <dt>"Patient"</dt><dd>{booking.patient.name}</dd>
                <dt>"Booking code"</dt><dd class="mono">{booking.code}</dd>
            </dl>
            {said}
            {actions}
        </div>
    }
}

/// Offers the appointment as an `.ics` file, made here so no secret goes into a URL.
fn save_calendar(ctx: Ctx, booking: &BookingDetails) {
    let (doctor, specialty, clinic) = ctx.layout.with_untracked(|l| {
        let d = l.doctors.iter().find(|d| d.id == booking.slot.doctor_id);
        (
            d.map(|d| d.name.clone()).unwrap_or_default(),
            d.map(|d| d.specialty.clone()).unwrap_or_default(),
            l.clinic.clone(),
        )
    });
    let now = chrono::DateTime::from_timestamp_millis(time::now_ms()).unwrap_or_default();
    let text = ics::calendar(
        &ics::Appointment {
            code: &booking.code,
            start: booking.slot.start,
            end: booking.slot.end,
            doctor: &doctor,
            specialty: &specialty,
            clinic: &clinic,
        },
        now,
    );
    let download = || -> Result<(), JsValue> {
        let parts = js_sys::Array::of1(&JsValue::from_str(&text));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("text/calendar;charset=utf-8");
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
        let url = web_sys::Url::create_object_url_with_blob(&blob)?;
        let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
        let link: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
        link.set_href(&url);
        link.set_download(&format!("appointment-{}.ics", booking.code));
        link.click();
        web_sys::Url::revoke_object_url(&url)
    };
    if download().is_err() {
        ctx.notice.set(Some("The calendar file could not be made in this browser.".into()));
    }
}
