//! The booking dialog: the patient's details, then the outcome in plain words.
//! The details are checked by the rule the server uses (`Patient::normalized`)
//! before anything is sent. The robot check runs while the form is open; a
//! patient who confirms before it is done sees it finish. The hold's time left
//! shows, with a "more time" action; Escape closes the dialog, and the focus
//! goes back to the slot that opened it.

use leptos::html;
use leptos::prelude::*;
use protocol::{BookingCode, BookingFailure, ManageToken, Patient, PatientProblem, SlotId};

use super::receipt::Receipt;
use super::{focus, focus_slot, trap_tab};
use crate::booking::{Booking, Hold, HoldNote};
use crate::i18n::{Locale, t, td_string, use_i18n};
use crate::pow::Pow;
use crate::say::{Say, hold_note_text, patient_problem, refusal};
use crate::{Ctx, request_id, solver};

/// Which slot, with whom, when — in words, in `locale`.
pub(crate) fn describe(ctx: Ctx, slot: &SlotId, locale: Locale) -> String {
    ctx.layout.with(|l| {
        l.describe(slot)
            .map(|(day, time, doctor)| {
                td_string!(
                    locale,
                    slot_what,
                    day = day,
                    time = time,
                    doctor = doctor.name.clone(),
                    specialty = doctor.specialty.clone()
                )
                .to_string()
            })
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
    Failed(SlotId, Say),
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
            Booking::Failed { slot, problem } => Self::Failed(slot, problem),
        }
    }
}

/// The modal dialog for booking one slot.
#[component]
pub(crate) fn BookingDialog() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let name = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    // What is wrong with the details typed, shown on the field it is about.
    let field_problem = RwSignal::new(None::<PatientProblem>);
    let name_input = NodeRef::<html::Input>::new();
    let phone_input = NodeRef::<html::Input>::new();
    let dialog = NodeRef::<html::Div>::new();

    let screen = Memo::new(move |_| ctx.booking.with(Screen::of));
    // Closing gives the focus back to the slot that opened the dialog.
    let close = move || {
        field_problem.set(None);
        let opener = ctx.booking.with_untracked(|b| b.slot().cloned());
        if let Some(release) = ctx.booking.try_update(Booking::close).flatten() {
            ctx.connection.send(release);
        }
        if ctx.booking.with_untracked(|b| *b == Booking::Closed)
            && let Some(slot) = opener
        {
            focus_slot(&slot);
        }
    };
    // The first field when the form opens; the way out when the outcome shows.
    Effect::new(move |previous: Option<Screen>| {
        let now = screen.get();
        let kind = |s: &Screen| std::mem::discriminant(s);
        if previous.as_ref().map(kind) != Some(kind(&now)) {
            match now {
                Screen::Form(_) => {
                    if let Some(input) = name_input.get() {
                        let _ = input.focus();
                    }
                }
                Screen::Closed => {}
                _ => focus("#close-dialog"),
            }
        }
        now
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
    let on_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            close();
        }
        "Tab" => {
            if let Some(dialog) = dialog.get_untracked() {
                trap_tab(&ev, &dialog);
            }
        }
        _ => {}
    };

    // The parts of the form that follow the booking's state.
    let waiting = Memo::new(move |_| ctx.booking.with(Booking::waiting));
    let sending = Memo::new(move |_| ctx.booking.with(|b| matches!(b, Booking::Sending { .. })));
    let busy = move || waiting.get() || sending.get();
    // Confirming disables the fields and buttons, the focused one too: the
    // focus goes to the dialog itself, so that it stays inside it.
    Effect::new(move |_| {
        if busy()
            && let Some(dialog) = dialog.get_untracked()
        {
            let _ = dialog.focus();
        }
    });
    let hold = Memo::new(move |_| ctx.booking.with(|b| b.hold().cloned()));
    let server_problem = Memo::new(move |_| {
        ctx.booking.with(|b| match b {
            Booking::Form { problem, .. } => *problem,
            _ => None,
        })
    });
    let problem = move || server_problem.get().map(|say| say.text(i18n.get_locale()));
    let hold_note = move || {
        // `now` ticks only every 20 seconds: it says when to redraw, the clock
        // says how long is left.
        let _tick = ctx.now.get();
        let l = i18n.get_locale();
        hold.with(|h| h.as_ref().and_then(|h| h.note(crate::time::now_ms()).map(|n| hold_note_text(n, h, l))))
    };
    let hold_class = move || match hold.get() {
        Some(Hold::NotHeld { .. } | Hold::Ended) => "caution",
        _ => "hint",
    };
    let hold_kind = move || hold.with(|h| h.as_ref().map(Hold::kind));
    // The time left is announced only when it matters: in the last minute, and
    // when the hold ends; not every minute while the patient types.
    let hold_live = move || {
        let _tick = ctx.now.get();
        let urgent = hold.with(|h| {
            h.as_ref()
                .and_then(|h| h.note(crate::time::now_ms()))
                .is_some_and(|n| !matches!(n, HoldNote::Minutes(_)))
        });
        if urgent { "polite" } else { "off" }
    };
    let extensions = move || ctx.board.with(|b| b.schedule().map_or(0, |s| s.clinic.hold_extensions));
    // The server allows `extensions` per hold; the page counts its own, for
    // the form open now.
    let extended = RwSignal::new(0_u32);
    Effect::new(move |_| {
        if !matches!(screen.get(), Screen::Form(_)) {
            extended.set(0);
        }
    });
    let can_extend = move || {
        extended.get() < extensions() && hold.with(|h| h.as_ref().is_some_and(Hold::extendable)) && !busy()
    };
    let extending = move || matches!(hold.get(), Some(Hold::Extending { .. }));
    let more_time = move |_| {
        if let Some(extend) = ctx.booking.try_update(|b| b.extend(request_id())).flatten() {
            extended.update(|n| *n += 1);
            ctx.connection.send(extend);
        }
    };
    let button = move || match (waiting.get(), sending.get()) {
        // The line above the buttons says what is being checked.
        (true, _) => t!(i18n, checking).into_any(),
        (_, true) => t!(i18n, booking_busy).into_any(),
        _ => t!(i18n, confirm_booking).into_any(),
    };

    let booked_status = move || match screen.get() {
        Screen::Booked(_, code, _) => td_string!(i18n.get_locale(), booked_status, code = code).to_string(),
        _ => String::new(),
    };

    let body = move || {
        let screen = screen.get();
        let l = i18n.get_locale();
        let what = match &screen {
            Screen::Closed => String::new(),
            Screen::Form(slot)
            | Screen::Booked(slot, ..)
            | Screen::Taken(slot, _)
            | Screen::Failed(slot, _) => describe(ctx, slot, l),
        };
        match screen {
            Screen::Closed => ().into_any(),
            Screen::Form(_) => view! {
                <h2 id="dialog-title">{t!(i18n, book_title)}</h2>
                <p class="what" id="dialog-what">{what}</p>
                <div class="hold-line">
                    <p class=hold_class id="hold-note" data-hold=hold_kind aria-live=hold_live>{hold_note}</p>
                    <Show when=can_extend>
                        <button type="button" class="secondary small" id="more-time" on:click=more_time
                            aria-disabled=move || extending().to_string()>
                            {t!(i18n, more_time)}
                        </button>
                    </Show>
                </div>
                <form class="form" on:submit=submit novalidate>
                    <label for="patient-name">{t!(i18n, name_label)}</label>
                    <input id="patient-name" name="name" autocomplete="name" required
                        node_ref=name_input disabled=busy
                        aria-invalid=move || wrong(PatientProblem::Name).to_string()
                        aria-describedby=move || wrong(PatientProblem::Name).then_some("name-problem")
                        prop:value=move || name.get()
                        on:input=move |ev| edit(PatientProblem::Name, name, event_target_value(&ev))/>
                    <Show when=move || wrong(PatientProblem::Name)>
                        <p class="field-problem" role="alert" id="name-problem">{move || patient_problem(PatientProblem::Name, i18n.get_locale())}</p>
                    </Show>
                    <label for="patient-phone">{t!(i18n, phone_label)}</label>
                    <input id="patient-phone" name="phone" type="tel" inputmode="tel" autocomplete="tel"
                        required placeholder="+7 912 345-67-89" node_ref=phone_input disabled=busy
                        aria-invalid=move || wrong(PatientProblem::Phone).to_string()
                        aria-describedby=move || wrong(PatientProblem::Phone).then_some("phone-problem")
                        prop:value=move || phone.get()
                        on:input=move |ev| edit(PatientProblem::Phone, phone, event_target_value(&ev))/>
                    <Show when=move || wrong(PatientProblem::Phone)>
                        <p class="field-problem" role="alert" id="phone-problem">{move || patient_problem(PatientProblem::Phone, i18n.get_locale())}</p>
                    </Show>
                    <p class="privacy">{t!(i18n, privacy)}</p>
                    <Show when=move || problem().is_some()>
                        <p class="problem" role="alert" id="booking-problem">{problem}</p>
                    </Show>
                    <Show when=move || waiting.get()>
                        <p class="checking" role="status" id="robot-check">
                            <span class="spinner" aria-hidden="true"></span>
                            <span>{t!(i18n, robot_checking)}</span>
                        </p>
                    </Show>
                    <div class="actions">
                        <button type="button" class="secondary" id="cancel-booking" on:click=move |_| close() disabled=move || sending.get()>{t!(i18n, cancel)}</button>
                        <button type="submit" class="primary" id="confirm-booking" disabled=busy aria-busy=move || busy().to_string()>
                            {button}
                        </button>
                    </div>
                </form>
            }
            .into_any(),
            Screen::Booked(_, code, token) => view! {
                <h2 id="dialog-title" class="ok-title">{t!(i18n, booked_title)}</h2>
                <p class="what" id="dialog-what">{what}</p>
                <Receipt code=code token=token/>
                <div class="actions"><button type="button" class="primary" id="close-dialog" on:click=move |_| close()>{t!(i18n, done)}</button></div>
            }
            .into_any(),
            Screen::Taken(_, reason) => {
                let (title, text) = refusal(reason, l);
                view! {
                    <h2 id="dialog-title" class="bad-title">{title}</h2>
                    <p class="what" id="dialog-what">{what}</p>
                    <p class="taken" id="booking-taken" role="alert">{text}</p>
                    <div class="actions"><button type="button" class="primary" id="close-dialog" on:click=move |_| close()>{t!(i18n, choose_another)}</button></div>
                }
                .into_any()
            }
            Screen::Failed(_, problem) => view! {
                <h2 id="dialog-title" class="bad-title">{t!(i18n, failed_title)}</h2>
                <p class="what" id="dialog-what">{what}</p>
                <p class="problem" role="alert" id="booking-failed">{problem.text(l)}</p>
                <div class="actions"><button type="button" class="primary" id="close-dialog" on:click=move |_| close()>{t!(i18n, close)}</button></div>
            }
            .into_any(),
        }
    };
    view! {
        <Show when=move || screen.with(|s| *s != Screen::Closed)>
            <div class="backdrop">
                <div class="dialog" id="booking-dialog" role="dialog" aria-modal="true" aria-labelledby="dialog-title"
                    aria-describedby="dialog-what" tabindex="-1" node_ref=dialog
                    data-pow=move || pow_phase.get() data-pow-ms=move || pow_ms.get().map(|ms| ms.to_string())
                    on:keydown=on_key>
                    // In the page from the dialog's start, so that screen readers
                    // announce the outcome when it is written in.
                    <p class="visually-hidden" role="status" id="dialog-status">{booked_status}</p>
                    {body}
                </div>
            </div>
        </Show>
    }
}
