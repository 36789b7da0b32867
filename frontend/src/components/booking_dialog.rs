//! The booking dialog: the patient's details, then the outcome in plain words.
//! The details are checked by the rule the server uses (`Patient::normalized`)
//! before anything is sent. The robot check runs while the form is open; a
//! patient who confirms before it is done sees it finish.

use leptos::html;
use leptos::prelude::*;
use protocol::{BookingCode, BookingFailure, ManageToken, Patient, PatientProblem, SlotId};

use crate::booking::{Booking, Hold, patient_problem, refusal};
use crate::pages::manage_url;
use crate::pow::Pow;
use crate::{Ctx, solver};

/// Which slot, with whom, when — in words.
pub(crate) fn describe(ctx: Ctx, slot: &SlotId) -> String {
    ctx.layout.with_untracked(|l| {
        l.describe(slot)
            .map(|(day, time, doctor)| format!("{day} at {time} with {} ({})", doctor.name, doctor.specialty))
            .unwrap_or_default()
    })
}

/// What the dialog shows. The form stays one screen while its hold, the robot
/// check and the sending change, so that those never rebuild the fields the
/// patient is typing in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Screen {
    Closed,
    Form(SlotId),
    Booked(SlotId, BookingCode, Option<ManageToken>),
    Taken(SlotId, BookingFailure),
    Failed(SlotId, String),
}

impl Screen {
    fn of(booking: &Booking) -> Self {
        match booking.clone() {
            Booking::Closed => Self::Closed,
            Booking::Form { slot, .. } | Booking::Waiting { slot, .. } | Booking::Sending { slot, .. } => {
                Self::Form(slot)
            }
            Booking::Booked { slot, code, token } => Self::Booked(slot, code, token),
            Booking::Taken { slot, reason } => Self::Taken(slot, reason),
            Booking::Failed { slot, message } => Self::Failed(slot, message),
        }
    }
}

/// The modal dialog for booking one slot.
#[component]
pub(crate) fn BookingDialog() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let name = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    // What is wrong with the details typed, shown on the field it is about.
    let field_problem = RwSignal::new(None::<PatientProblem>);
    let name_input = NodeRef::<html::Input>::new();
    let phone_input = NodeRef::<html::Input>::new();

    let screen = Memo::new(move |_| ctx.booking.with(Screen::of));
    let close = move || {
        field_problem.set(None);
        if let Some(release) = ctx.booking.try_update(Booking::close).flatten() {
            ctx.connection.send(release);
        }
    };
    // Focus the first field whenever the form opens.
    Effect::new(move |_| {
        if matches!(screen.get(), Screen::Form(_))
            && let Some(input) = name_input.get()
        {
            let _ = input.focus();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = Patient { name: name.get_untracked(), phone: phone.get_untracked() };
        match typed.normalized() {
            Ok(patient) => {
                field_problem.set(None);
                solver::submit(ctx, patient);
            }
            Err(problem) => {
                field_problem.set(Some(problem));
                let field = match problem {
                    PatientProblem::Name => name_input,
                    PatientProblem::Phone => phone_input,
                };
                if let Some(input) = field.get_untracked() {
                    let _ = input.focus();
                }
            }
        }
    };
    let wrong = move |which: PatientProblem| field_problem.get() == Some(which);
    // Typing in the field a problem is about takes the problem away.
    let edit = move |which: PatientProblem, value: RwSignal<String>, text: String| {
        value.set(text);
        if field_problem.get_untracked() == Some(which) {
            field_problem.set(None);
        }
    };
    // Where the robot check is and how long the last one took, for people who
    // look into the page and for the browser tests; memos, so that the slices
    // of solving do not touch the page.
    let pow_phase = Memo::new(move |_| ctx.pow.with(Pow::phase));
    let pow_ms = Memo::new(move |_| ctx.pow.with(|p| p.solved_in_ms.map(|ms| ms.round() as u64)));
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            close();
        }
    };

    // The parts of the form that follow the booking's state.
    let waiting = Memo::new(move |_| ctx.booking.with(Booking::waiting));
    let sending = Memo::new(move |_| ctx.booking.with(|b| matches!(b, Booking::Sending { .. })));
    let busy = move || waiting.get() || sending.get();
    let hold = Memo::new(move |_| ctx.booking.with(|b| b.hold().cloned()));
    let server_problem = Memo::new(move |_| {
        ctx.booking.with(|b| match b {
            Booking::Form { problem, .. } => problem.clone(),
            _ => None,
        })
    });
    let problem = move || server_problem.get();
    let hold_note = move || {
        // `now` ticks only every 20 seconds: it says when to redraw, the clock
        // says how long is left.
        let _tick = ctx.now.get();
        hold.with(|h| h.as_ref().and_then(|h| h.note(crate::time::now_ms())))
    };
    let hold_class = move || match hold.get() {
        Some(Hold::NotHeld { .. } | Hold::Ended) => "caution",
        _ => "hint",
    };
    let hold_kind = move || hold.with(|h| h.as_ref().map(Hold::kind));
    let button = move || match (waiting.get(), sending.get()) {
        // The line above the buttons says what is being checked.
        (true, _) => "Checking…",
        (_, true) => "Booking…",
        _ => "Confirm booking",
    };

    let body = move || {
        let screen = screen.get();
        let what = match &screen {
            Screen::Closed => String::new(),
            Screen::Form(slot)
            | Screen::Booked(slot, ..)
            | Screen::Taken(slot, _)
            | Screen::Failed(slot, _) => describe(ctx, slot),
        };
        match screen {
            Screen::Closed => ().into_any(),
            Screen::Form(_) => view! {
                <h2 id="dialog-title">"Book this appointment"</h2>
                <p class="what">{what}</p>
                <p class=hold_class id="hold-note" data-hold=hold_kind>{hold_note}</p>
                <form class="form" on:submit=submit novalidate>
                    <label for="patient-name">"Patient's full name"</label>
                    <input id="patient-name" name="name" autocomplete="name" required
                        node_ref=name_input disabled=busy
                        aria-invalid=move || wrong(PatientProblem::Name).to_string()
                        aria-describedby=move || wrong(PatientProblem::Name).then_some("name-problem")
                        prop:value=move || name.get()
                        on:input=move |ev| edit(PatientProblem::Name, name, event_target_value(&ev))/>
                    <Show when=move || wrong(PatientProblem::Name)>
                        <p class="field-problem" role="alert" id="name-problem">{patient_problem(PatientProblem::Name)}</p>
                    </Show>
                    <label for="patient-phone">"Phone number"</label>
                    <input id="patient-phone" name="phone" type="tel" inputmode="tel" autocomplete="tel"
                        required placeholder="+7 912 345-67-89" node_ref=phone_input disabled=busy
                        aria-invalid=move || wrong(PatientProblem::Phone).to_string()
                        aria-describedby=move || wrong(PatientProblem::Phone).then_some("phone-problem")
                        prop:value=move || phone.get()
                        on:input=move |ev| edit(PatientProblem::Phone, phone, event_target_value(&ev))/>
                    <Show when=move || wrong(PatientProblem::Phone)>
                        <p class="field-problem" role="alert" id="phone-problem">{patient_problem(PatientProblem::Phone)}</p>
                    </Show>
                    <p class="privacy">"Only the clinic sees these details."</p>
                    <Show when=move || problem().is_some()>
                        <p class="problem" role="alert" id="booking-problem">{problem}</p>
                    </Show>
                    <Show when=move || waiting.get()>
                        <p class="checking" role="status" id="robot-check">
                            <span class="spinner" aria-hidden="true"></span>
                            <span>"Checking you are not a robot… This takes a few seconds and needs nothing from you; your booking is sent as soon as it is done."</span>
                        </p>
                    </Show>
                    <div class="actions">
                        <button type="button" class="secondary" id="cancel-booking" on:click=move |_| close() disabled=move || sending.get()>"Cancel"</button>
                        <button type="submit" class="primary" id="confirm-booking" disabled=busy aria-busy=move || busy().to_string()>
                            {button}
                        </button>
                    </div>
                </form>
            }
            .into_any(),
            Screen::Booked(_, code, token) => {
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
            Screen::Taken(_, reason) => {
                let (title, text) = refusal(reason);
                view! {
                    <h2 id="dialog-title" class="bad-title">{title}</h2>
                    <p class="what">{what}</p>
                    <p class="taken" id="booking-taken" role="alert">{text}</p>
                    <div class="actions"><button type="button" class="primary" id="close-dialog" on:click=move |_| close()>"Choose another time"</button></div>
                }
                .into_any()
            }
            Screen::Failed(_, message) => view! {
                <h2 id="dialog-title" class="bad-title">"Booking not confirmed"</h2>
                <p class="what">{what}</p>
                <p class="problem" role="alert" id="booking-failed">{message}</p>
                <div class="actions"><button type="button" class="primary" id="close-dialog" on:click=move |_| close()>"Close"</button></div>
            }
            .into_any(),
        }
    };
    view! {
        <Show when=move || screen.with(|s| *s != Screen::Closed)>
            <div class="backdrop">
                <div class="dialog" id="booking-dialog" role="dialog" aria-modal="true" aria-labelledby="dialog-title"
                    data-pow=move || pow_phase.get() data-pow-ms=move || pow_ms.get().map(|ms| ms.to_string())
                    on:keydown=on_key>
                    {body}
                </div>
            </div>
        </Show>
    }
}
