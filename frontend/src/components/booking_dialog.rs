//! The booking dialog: the patient's details, then the outcome in plain words.

use leptos::html;
use leptos::prelude::*;
use protocol::{BookingFailure, Patient, SlotId};

use crate::state::{Booking, Hold};
use crate::{Ctx, manage_url, request_id};

/// Which slot, with whom, when — in words.
pub(crate) fn describe(ctx: Ctx, slot: &SlotId) -> String {
    ctx.layout.with_untracked(|l| {
        l.describe(slot)
            .map(|(day, time, doctor)| format!("{day} at {time} with {} ({})", doctor.name, doctor.specialty))
            .unwrap_or_default()
    })
}

/// A first check of the details before anything is sent; the server checks again.
fn check(name: &str, phone: &str) -> Option<&'static str> {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    if name.trim().is_empty() {
        Some("Please enter the patient's name.")
    } else if !(5..=15).contains(&digits) {
        Some("Please enter a phone number the clinic can call, such as +7 912 345-67-89.")
    } else {
        None
    }
}

/// The modal dialog for booking one slot.
#[component]
pub(crate) fn BookingDialog() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let name = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let local_problem = RwSignal::new(None::<&'static str>);
    let name_input = NodeRef::<html::Input>::new();

    let open = move || ctx.booking.with(|b| *b != Booking::Closed);
    let close = move || {
        local_problem.set(None);
        if let Some(release) = ctx.booking.try_update(Booking::close).flatten() {
            ctx.connection.send(release);
        }
    };
    // Focus the first field whenever the form opens.
    Effect::new(move |_| {
        if matches!(ctx.booking.get(), Booking::Form { .. })
            && let Some(input) = name_input.get()
        {
            let _ = input.focus();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (n, p) = (name.get_untracked(), phone.get_untracked());
        if let Some(problem) = check(&n, &p) {
            local_problem.set(Some(problem));
            return;
        }
        local_problem.set(None);
        let patient = Patient { name: n.trim().to_owned(), phone: p.trim().to_owned() };
        let Some(message) = ctx.booking.try_update(|b| b.submit(patient, request_id())).flatten() else {
            return;
        };
        if !ctx.connection.send(message) {
            ctx.booking.update(|b| {
                if let Some(slot) = b.slot().cloned() {
                    *b = Booking::Failed {
                        slot,
                        message:
                            "Not connected, so nothing was sent. Please try again once the page is live."
                                .into(),
                    };
                }
            });
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            close();
        }
    };

    let body = move || {
        let state = ctx.booking.get();
        let what = state.slot().map(|s| describe(ctx, s)).unwrap_or_default();
        match state {
            Booking::Closed => ().into_any(),
            Booking::Form { .. } | Booking::Sending { .. } => {
                let sending = matches!(state, Booking::Sending { .. });
                let held_until = match &state {
                    Booking::Form { hold: Hold::Held { until_ms }, .. } if *until_ms > 0 => Some(*until_ms),
                    _ => None,
                };
                let server_problem = match state {
                    Booking::Form { problem, .. } => problem,
                    _ => None,
                };
                let hold_note = move || {
                    held_until.map(|until| {
                        // `now` ticks only every 20 seconds: it says when to redraw,
                        // the clock says how long is left (rounded up).
                        let _tick = ctx.now.get();
                        let left = (((until - crate::time::now_ms()).max(0) + 59_999) / 60_000).max(1);
                        format!("This time is held for you for about {left} minute{}.", if left == 1 { "" } else { "s" })
                    })
                };
                let problem = move || local_problem.get().map(str::to_owned).or_else(|| server_problem.clone());
                let shows_problem = problem.clone();
                view! {
                    <h2 id="dialog-title">"Book this appointment"</h2>
                    <p class="what">{what}</p>
                    <p class="hint" id="hold-note">{hold_note}</p>
                    <form class="form" on:submit=submit novalidate>
                        <label for="patient-name">"Patient's full name"</label>
                        <input id="patient-name" name="name" autocomplete="name" maxlength="100" required
                            node_ref=name_input disabled=sending
                            prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                        <label for="patient-phone">"Phone number"</label>
                        <input id="patient-phone" name="phone" type="tel" inputmode="tel" autocomplete="tel"
                            maxlength="32" required placeholder="+7 912 345-67-89" disabled=sending
                            prop:value=move || phone.get() on:input=move |ev| phone.set(event_target_value(&ev))/>
                        <p class="privacy">"Only the clinic sees these details."</p>
                        <Show when=move || shows_problem().is_some()>
                            <p class="problem" role="alert" id="booking-problem">{problem.clone()}</p>
                        </Show>
                        <div class="actions">
                            <button type="button" class="secondary" on:click=move |_| close() disabled=sending>"Cancel"</button>
                            <button type="submit" class="primary" id="confirm-booking" disabled=sending aria-busy=sending.to_string()>
                                {if sending { "Booking…" } else { "Confirm booking" }}
                            </button>
                        </div>
                    </form>
                }
                .into_any()
            }
            Booking::Booked { code, token, .. } => {
                let link = token.map(|t| manage_url(&t));
                view! {
                    <h2 id="dialog-title" class="ok-title">"✓ You're booked"</h2>
                    <p class="what">{what}</p>
                    <p class="code-label">"Your booking code"</p>
                    <p class="code" id="booking-code">{code}</p>
                    {link.map(|link| view! {
                        <p class="code-label">"Your private link to cancel or reschedule"</p>
                        <p class="manage-link"><a id="manage-link" href=link.clone()>{link.clone()}</a></p>
                        <p class="hint">"Keep it to yourself: whoever has it can change this appointment."</p>
                    })}
                    <p class="hint">"Quote the code to the clinic. This browser remembers both: your slot shows as “Yours”."</p>
                    <div class="actions"><button type="button" class="primary" id="close-dialog" on:click=move |_| close()>"Done"</button></div>
                }
                .into_any()
            }
            Booking::Taken { reason, .. } => {
                let (title, text) = match reason {
                    BookingFailure::AlreadyBooked => (
                        "✕ This slot was just taken",
                        "Someone else booked this slot a moment ago. Nothing was booked for you — please choose another time.",
                    ),
                    BookingFailure::Held => (
                        "✕ Someone else is booking this slot",
                        "Another patient is filling in the form for this time right now. Please choose another time.",
                    ),
                    other => ("✕ This slot cannot be booked", other.describe()),
                };
                view! {
                    <h2 id="dialog-title" class="bad-title">{title}</h2>
                    <p class="what">{what}</p>
                    <p class="taken" id="booking-taken" role="alert">{text}</p>
                    <div class="actions"><button type="button" class="primary" id="close-dialog" on:click=move |_| close()>"Choose another time"</button></div>
                }
                .into_any()
            }
            Booking::Failed { message, .. } => view! {
                <h2 id="dialog-title" class="bad-title">"Booking not confirmed"</h2>
                <p class="what">{what}</p>
                <p class="problem" role="alert" id="booking-failed">{message}</p>
                <div class="actions"><button type="button" class="primary" id="close-dialog" on:click=move |_| close()>"Close"</button></div>
            }
            .into_any(),
        }
    };
    view! {
        <Show when=open>
            <div class="backdrop">
                <div class="dialog" id="booking-dialog" role="dialog" aria-modal="true" aria-labelledby="dialog-title" on:keydown=on_key>
                    {body}
                </div>
            </div>
        </Show>
    }
}
