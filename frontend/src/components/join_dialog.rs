//! Joining a doctor's waitlist: the button at the foot of each doctor's column
//! (prominent when the doctor has no free time left in the days shown), and the
//! dialog that asks for the days, hours and details. The details are checked by
//! the rule the server uses (`Patient::normalized`), the window by the rules of
//! `waitlist::window`, before anything is sent; the robot check runs while the
//! form is open, as for a booking. Escape closes the dialog, and the focus goes
//! back to the button that opened it; once joined, the page moves to the
//! entry's own link.

use leptos::html;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use protocol::{DoctorId, Patient, PatientProblem, WaitToken};

use super::window_fields::{WindowFields, field_id};
use super::{focus, focus_marked, trap_tab};
use crate::i18n::{t, td_string, use_i18n};
use crate::join::Join;
use crate::pages::{Page, wait_path};
use crate::say::{Say, patient_problem};
use crate::waitlist::window::{Bounds, WindowInput, WindowProblem};
use crate::{Ctx, solver};

/// The doctor's name and specialty, as the page shows them.
fn doctor_words(ctx: Ctx, doctor: &DoctorId) -> String {
    ctx.layout.with(|l| {
        l.doctors
            .iter()
            .find(|d| &d.id == doctor)
            .map(|d| format!("{} · {}", d.name, d.specialty))
            .unwrap_or_default()
    })
}

/// How long an offer is held, to the nearest minute (one at least), for the
/// texts that say so.
pub(crate) fn offer_minutes(ctx: Ctx) -> u32 {
    let seconds = ctx.board.with(|b| b.schedule().map_or(0, |s| s.clinic.offer_seconds));
    (seconds.saturating_add(30) / 60).max(1)
}

/// The join button of one doctor's column, and the link to the entry this
/// browser joined for that doctor, if any. On the booking page only.
#[component]
pub(crate) fn JoinButton(
    /// The doctor of the column.
    doctor: DoctorId,
    /// The doctor's name, for the button's accessible name.
    name: Signal<String>,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    if expect_context::<Page>() != Page::Book {
        return ().into_any();
    }
    let index = {
        let doctor = doctor.clone();
        move || ctx.layout.with(|l| l.doctors.iter().position(|d| d.id == doctor))
    };
    // The doctor has no time left that a patient could book online.
    let full = Memo::new(move |_| {
        let now = ctx.now.get();
        let Some(i) = index() else { return false };
        ctx.layout.with(|l| ctx.board.with(|b| !l.doctor_bookable(i, b, now)))
    });
    let mine = {
        let doctor = doctor.clone();
        move || ctx.waits.with(|w| w.iter().find(|w| w.doctor == doctor).map(|w| wait_path(&w.token)))
    };
    let note_id = format!("waitlist-note-{}", doctor.0);
    let open = {
        let doctor = doctor.clone();
        move |_| {
            ctx.join.update(|j| j.open(doctor.clone()));
            // The robot check runs while the patient fills in the form.
            solver::prepare(ctx);
        }
    };
    let doctor_attr = doctor.0.clone();
    let note = note_id.clone();
    view! {
        <div class="waitlist-foot" class:full=move || full.get()>
            <Show when=move || full.get()>
                <p class="waitlist-note" id=note.clone()>{t!(i18n, no_free_doctor)}</p>
            </Show>
            {move || mine().map(|href| view! {
                <p><a href=href data-waitlist-mine=doctor.0.clone()
                    aria-label=move || td_string!(i18n.get_locale(), your_wait_name, doctor = name.get()).to_string()>
                    {t!(i18n, your_wait)}
                </a></p>
            })}
            <button type="button" data-waitlist-join=doctor_attr
                class=move || if full.get() { "primary" } else { "secondary small" }
                aria-describedby=move || full.get().then(|| note_id.clone())
                aria-label=move || td_string!(i18n.get_locale(), join_waitlist_name, doctor = name.get()).to_string()
                disabled=move || !ctx.live() on:click=open>
                {t!(i18n, join_waitlist)}
            </button>
        </div>
    }
    .into_any()
}

/// What the dialog shows. The form stays one screen while the robot check and
/// the sending go on, so that they never rebuild the fields being typed in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Screen {
    Closed,
    Form(DoctorId),
    Joined(WaitToken),
    Failed(DoctorId, Say),
}

impl Screen {
    fn of(join: &Join) -> Self {
        match join.clone() {
            Join::Closed => Self::Closed,
            Join::Form { doctor, .. } | Join::Waiting { doctor, .. } | Join::Sending { doctor, .. } => {
                Self::Form(doctor)
            }
            Join::Joined { token, .. } => Self::Joined(token),
            Join::Failed { doctor, problem } => Self::Failed(doctor, problem),
        }
    }
}

/// The modal dialog for joining one doctor's waitlist.
#[component]
pub(crate) fn JoinDialog() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let navigate = use_navigate();
    let input = RwSignal::new(WindowInput::default());
    let window_problem = RwSignal::new(None::<WindowProblem>);
    let name = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let field_problem = RwSignal::new(None::<PatientProblem>);
    let dialog = NodeRef::<html::Div>::new();
    let bounds =
        Signal::derive(move || ctx.layout.with(|l| Bounds::of(l.days.iter().map(|d| d.key.as_str()))));

    let screen = Memo::new(move |_| ctx.join.with(Screen::of));
    let close = move || {
        let opener = ctx.join.with_untracked(|j| j.doctor().cloned());
        ctx.join.update(Join::close);
        if ctx.join.with_untracked(|j| *j == Join::Closed)
            && let Some(doctor) = opener
        {
            focus_marked("button[data-waitlist-join]", "data-waitlist-join", &doctor.0);
        }
    };
    Effect::new(move |previous: Option<Screen>| {
        let now = screen.get();
        let kind = |s: &Screen| std::mem::discriminant(s);
        if previous.as_ref().map(kind) != Some(kind(&now)) {
            match &now {
                Screen::Form(_) => {
                    // Every day the patient may choose, from the day in view.
                    let key = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
                    let bounds = bounds.get_untracked();
                    let from_day = ctx
                        .day
                        .with_untracked(|d| d.clone())
                        .or_else(|| bounds.map(|b| key(b.first)))
                        .unwrap_or_default();
                    let to_day = bounds.map(|b| key(b.last)).unwrap_or_default();
                    input.set(WindowInput { from_day, to_day, ..WindowInput::default() });
                    window_problem.set(None);
                    field_problem.set(None);
                    focus("#join-from-day");
                }
                // The entry's own page, whose address is its link; a join
                // answered while the patient was on another page is found at
                // the foot of the doctor's column instead.
                Screen::Joined(token) => {
                    ctx.join.set(Join::Closed);
                    if previous.is_some() {
                        navigate(&wait_path(token), Default::default());
                    }
                }
                Screen::Failed(..) => focus("#close-join-dialog"),
                Screen::Closed => {}
            }
        }
        now
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let window = match input.with_untracked(|i| i.read(bounds.get_untracked())) {
            Ok(window) => window,
            Err(problem) => {
                window_problem.set(Some(problem));
                focus(&format!("#{}", field_id("join", problem.field())));
                return;
            }
        };
        let typed = Patient { name: name.get_untracked(), phone: phone.get_untracked() };
        match typed.normalized() {
            Ok(patient) => {
                field_problem.set(None);
                solver::submit_join(ctx, window, patient);
            }
            Err(problem) => {
                field_problem.set(Some(problem));
                focus(match problem {
                    PatientProblem::Name => "#join-name",
                    PatientProblem::Phone => "#join-phone",
                });
            }
        }
    };
    let wrong = move |which: PatientProblem| field_problem.get() == Some(which);
    let edit = move |which: PatientProblem, value: RwSignal<String>, text: String| {
        value.set(text);
        if field_problem.get_untracked() == Some(which) {
            field_problem.set(None);
        }
    };
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
    let phase = Memo::new(move |_| ctx.join.with(Join::phase));
    let waiting = Memo::new(move |_| ctx.join.with(Join::waiting));
    let sending = Memo::new(move |_| ctx.join.with(|j| matches!(j, Join::Sending { .. })));
    let busy = Signal::derive(move || waiting.get() || sending.get());
    // Confirming disables the fields and buttons, the focused one too: the
    // focus goes to the dialog itself, so that it stays inside it.
    Effect::new(move |_| {
        if busy.get()
            && let Some(dialog) = dialog.get_untracked()
        {
            let _ = dialog.focus();
        }
    });
    let server_problem = Memo::new(move |_| {
        ctx.join.with(|j| match j {
            Join::Form { problem, .. } => *problem,
            _ => None,
        })
    });
    let problem = move || server_problem.get().map(|say| say.text(i18n.get_locale()));
    let button = move || match (waiting.get(), sending.get()) {
        (true, _) => t!(i18n, checking).into_any(),
        (_, true) => t!(i18n, joining).into_any(),
        _ => t!(i18n, confirm_join).into_any(),
    };
    let minutes = move || offer_minutes(ctx);
    let body = move || {
        match screen.get() {
        Screen::Closed | Screen::Joined(_) => ().into_any(),
        Screen::Form(doctor) => view! {
            <h2 id="join-title">{t!(i18n, join_title)}</h2>
            <p class="what" id="join-what">{doctor_words(ctx, &doctor)}</p>
            <p class="hint" id="join-explain">{move || t!(i18n, wait_explain, count = minutes)}</p>
            <form class="form" on:submit=submit novalidate>
                <WindowFields prefix="join" input=input problem=window_problem bounds=bounds disabled=busy/>
                <label for="join-name">{t!(i18n, name_label)}</label>
                <input id="join-name" name="name" autocomplete="name" required disabled=move || busy.get()
                    aria-invalid=move || wrong(PatientProblem::Name).to_string()
                    aria-describedby=move || wrong(PatientProblem::Name).then_some("join-name-problem")
                    prop:value=move || name.get()
                    on:input=move |ev| edit(PatientProblem::Name, name, event_target_value(&ev))/>
                <Show when=move || wrong(PatientProblem::Name)>
                    <p class="field-problem" role="alert" id="join-name-problem">{move || patient_problem(PatientProblem::Name, i18n.get_locale())}</p>
                </Show>
                <label for="join-phone">{t!(i18n, phone_label)}</label>
                <input id="join-phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" required
                    placeholder="+7 912 345-67-89" disabled=move || busy.get()
                    aria-invalid=move || wrong(PatientProblem::Phone).to_string()
                    aria-describedby=move || wrong(PatientProblem::Phone).then_some("join-phone-problem")
                    prop:value=move || phone.get()
                    on:input=move |ev| edit(PatientProblem::Phone, phone, event_target_value(&ev))/>
                <Show when=move || wrong(PatientProblem::Phone)>
                    <p class="field-problem" role="alert" id="join-phone-problem">{move || patient_problem(PatientProblem::Phone, i18n.get_locale())}</p>
                </Show>
                <p class="privacy">{t!(i18n, privacy)}</p>
                <Show when=move || problem().is_some()>
                    <p class="problem" role="alert" id="join-problem">{problem}</p>
                </Show>
                <Show when=move || waiting.get()>
                    <p class="checking" role="status" id="join-robot-check">
                        <span class="spinner" aria-hidden="true"></span>
                        <span>{t!(i18n, join_robot_checking)}</span>
                    </p>
                </Show>
                <div class="actions">
                    <button type="button" class="secondary" id="cancel-join" on:click=move |_| close() disabled=move || sending.get()>{t!(i18n, cancel)}</button>
                    <button type="submit" class="primary" id="confirm-join" disabled=move || busy.get() aria-busy=move || busy.get().to_string()>
                        {button}
                    </button>
                </div>
            </form>
        }
        .into_any(),
        Screen::Failed(doctor, problem) => view! {
            <h2 id="join-title" class="bad-title">{t!(i18n, join_failed_title)}</h2>
            <p class="what" id="join-what">{doctor_words(ctx, &doctor)}</p>
            <p class="problem" role="alert" id="join-failed">{move || problem.text(i18n.get_locale())}</p>
            <div class="actions"><button type="button" class="primary" id="close-join-dialog" on:click=move |_| close()>{t!(i18n, close)}</button></div>
        }
        .into_any(),
    }
    };
    view! {
        <Show when=move || matches!(screen.get(), Screen::Form(_) | Screen::Failed(..))>
            <div class="backdrop">
                <div class="dialog" id="join-dialog" role="dialog" aria-modal="true" aria-labelledby="join-title"
                    aria-describedby="join-what" tabindex="-1" node_ref=dialog data-join=move || phase.get()
                    on:keydown=on_key>
                    {body}
                </div>
            </div>
        </Show>
    }
}
