//! The waitlist link's page: where the entry stands (its status, days and
//! hours, and place in line), the offer made to it as it comes, and changing
//! the days and hours or leaving. A taken offer shows its booking code and
//! manage link as a booking made from the schedule does.

use leptos::prelude::*;
use protocol::WaitStatus;

use super::focus;
use super::join_dialog::offer_minutes;
use super::offer::{OfferBox, send};
use super::receipt::Receipt;
use super::window_fields::{WindowFields, field_id, window_text};
use crate::i18n::{t, td_string, use_i18n};
use crate::pages::wait_url;
use crate::say::{Say, place, wait_status};
use crate::waitlist::window::{Bounds, WindowInput, WindowProblem};
use crate::waitlist::{Step, Wait};
use crate::{Ctx, language, time};

/// Which card the page shows; the entry's own changes redraw within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Loading,
    NotFound,
    Unavailable(Say),
    Shown,
}

/// The waitlist entry behind the link in the address.
#[component]
pub(crate) fn WaitPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let kind = Memo::new(move |_| {
        ctx.wait.with(|w| match w.as_ref().map(|w| &w.state) {
            None | Some(Wait::Loading) => Kind::Loading,
            Some(Wait::NotFound) => Kind::NotFound,
            Some(Wait::Unavailable(say)) => Kind::Unavailable(*say),
            Some(Wait::Shown { .. }) => Kind::Shown,
        })
    });
    // An entry that is over is no longer linked from the schedule.
    Effect::new(move |_| {
        if let Some(token) = ctx.wait.with(|w| w.as_ref().filter(|w| w.over()).map(|w| w.token.clone())) {
            ctx.forget_wait(&token);
        }
    });
    view! {
        <section class="waitlist" id="waitlist">
            {move || match kind.get() {
                Kind::Loading => view! { <p class="card" id="wait-loading">{t!(i18n, wait_loading)}</p> }.into_any(),
                Kind::NotFound => view! {
                    <div class="card" id="wait-not-found">
                        <h2>{t!(i18n, wait_not_found_title)}</h2>
                        <p>{t!(i18n, wait_not_found)}</p>
                        <p><a href="/">{t!(i18n, footer_book)}</a></p>
                    </div>
                }
                .into_any(),
                Kind::Unavailable(say) => view! {
                    <div class="card" id="wait-unavailable">
                        <h2>{t!(i18n, wait_unavailable_title)}</h2>
                        <p class="problem" role="alert">{move || say.text(i18n.get_locale())}</p>
                    </div>
                }
                .into_any(),
                Kind::Shown => view! { <EntryCard/> }.into_any(),
            }}
        </section>
    }
}

fn set_step(ctx: Ctx, step: Step) {
    ctx.wait.update(|w| {
        if let Some(w) = w {
            w.step(step);
        }
    });
}

/// The entry, what the patient may do with it, and what happened.
#[component]
fn EntryCard() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let entry = Memo::new(move |_| ctx.wait.with(|w| w.as_ref().and_then(|w| w.entry().cloned())));
    let step = Memo::new(move |_| {
        ctx.wait.with(|w| match w.as_ref().map(|w| &w.state) {
            Some(Wait::Shown { step, .. }) => step.clone(),
            _ => Step::Idle,
        })
    });
    let status = Memo::new(move |_| entry.with(|e| e.as_ref().map_or(WaitStatus::Waiting, |e| e.status)));
    let patient = move || entry.with(|e| e.as_ref().map(|e| e.patient.name.clone()));
    let status_name = move || match status.get() {
        WaitStatus::Waiting => "waiting",
        WaitStatus::Offered => "offered",
        WaitStatus::Booked => "booked",
        WaitStatus::Left => "left",
        WaitStatus::Removed => "removed",
        WaitStatus::Lapsed => "lapsed",
    };
    let badge = move || match status.get() {
        WaitStatus::Waiting => "badge wait",
        WaitStatus::Offered => "badge offer",
        WaitStatus::Booked => "badge ok",
        WaitStatus::Left | WaitStatus::Removed | WaitStatus::Lapsed => "badge bad",
    };
    let active = move || matches!(status.get(), WaitStatus::Waiting | WaitStatus::Offered);
    let doctor = move || {
        let id = entry.with(|e| e.as_ref().map(|e| e.doctor_id.clone()))?;
        ctx.layout
            .with(|l| l.doctors.iter().find(|d| d.id == id).map(|d| format!("{} · {}", d.name, d.specialty)))
    };
    let window = move || {
        let l = i18n.get_locale();
        entry.with(|e| e.as_ref().map(|e| window_text(&e.window, l, false)))
    };
    let joined = move || {
        let l = i18n.get_locale();
        let ms = entry.with(|e| e.as_ref().map(|e| e.joined_at.timestamp_millis()))?;
        let zone = ctx.layout.with(|l| l.time_zone.clone());
        let day = time::long_day_label(ms, &zone, language::intl(l));
        Some(td_string!(l, when_value, day = day, time = time::time_label(ms, &zone)).to_string())
    };
    let places =
        move || entry.with(|e| e.as_ref().and_then(|e| e.place)).map(|n| (n, place(n, i18n.get_locale())));
    let minutes = move || offer_minutes(ctx);
    let offered = move || {
        status.get() == WaitStatus::Offered && entry.with(|e| e.as_ref().is_some_and(|e| e.offer.is_some()))
    };
    // The booking a taken offer became: its code, and the manage link when
    // the server gave it now or this browser remembers it.
    let receipt = move || {
        let accepted = ctx.wait.with(|w| w.as_ref().and_then(|w| w.accepted.clone()));
        let (code, token) = match accepted {
            Some(a) => (a.code, a.token),
            None => {
                let code = entry.with(|e| e.as_ref().and_then(|e| e.booking_code.clone()))?;
                let token = ctx
                    .board
                    .with(|b| b.mine.values().find(|m| m.code == code).and_then(|m| m.token.clone()));
                (code, token)
            }
        };
        Some(view! { <Receipt code=code token=token/> })
    };
    let said = move || match step.get() {
        Step::Said(say) => Some(say.text(i18n.get_locale())),
        _ => None,
    };
    let token = ctx.wait.with_untracked(|w| w.as_ref().map(|w| w.token.clone())).unwrap_or_default();
    let link = wait_url(&token);

    // The change form's fields, kept while the entry changes around them.
    let input = RwSignal::new(WindowInput::default());
    let window_problem = RwSignal::new(None::<WindowProblem>);
    let bounds =
        Signal::derive(move || ctx.layout.with(|l| Bounds::of(l.days.iter().map(|d| d.key.as_str()))));
    let sending = Signal::derive(move || step.get() == Step::Sending);
    let start_change = move |_| {
        if let Some(window) = entry.with_untracked(|e| e.as_ref().map(|e| e.window)) {
            input.set(WindowInput::of(&window));
        }
        window_problem.set(None);
        set_step(ctx, Step::Changing { problem: None });
    };
    let cancel_change = move |_| {
        set_step(ctx, Step::Idle);
        focus("#start-change-window");
    };
    let save_change = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match input.with_untracked(|i| i.read(bounds.get_untracked())) {
            Ok(window) => send(ctx, |w, id| w.change(window, id)),
            Err(problem) => {
                window_problem.set(Some(problem));
                focus(&format!("#{}", field_id("change", problem.field())));
            }
        }
    };
    let change_problem = move || match step.get() {
        Step::Changing { problem: Some(say) } => Some(say.text(i18n.get_locale())),
        _ => None,
    };
    // The focus follows the step: into a form or question when it opens, and
    // to what was said, or to the booking, when an answer replaces the buttons.
    Effect::new(move |previous: Option<(Step, WaitStatus)>| {
        let (now, status) = (step.get(), status.get());
        let from_sending = previous.as_ref().is_some_and(|(s, _)| *s == Step::Sending);
        match &now {
            Step::Changing { problem: None } if previous.as_ref().is_some_and(|(s, _)| *s != now) => {
                focus(&format!("#{}", field_id("change", crate::waitlist::window::Field::FromDay)));
            }
            Step::ConfirmLeave => focus("#keep-place"),
            _ if from_sending && status == WaitStatus::Booked => focus("#wait-booked"),
            Step::Said(_) if from_sending => focus("#wait-said"),
            _ => {}
        }
        (now, status)
    });

    let actions = move || {
        match step.get() {
        Step::Changing { .. } if status.get() == WaitStatus::Waiting => view! {
            <form class="form confirm" id="change-window" on:submit=save_change novalidate>
                <WindowFields prefix="change" input=input problem=window_problem bounds=bounds disabled=sending/>
                <Show when=move || change_problem().is_some()>
                    <p class="problem" role="alert" id="change-problem">{change_problem}</p>
                </Show>
                <div class="actions">
                    <button type="button" class="secondary" id="cancel-change-window" on:click=cancel_change>{t!(i18n, back)}</button>
                    <button type="submit" class="primary" id="confirm-change-window">{t!(i18n, save_window)}</button>
                </div>
            </form>
        }
        .into_any(),
        Step::ConfirmLeave => view! {
            <div class="confirm" role="alertdialog" aria-labelledby="leave-question">
                <p id="leave-question">{t!(i18n, leave_question)}</p>
                <div class="actions">
                    <button type="button" class="secondary" id="keep-place"
                        on:click=move |_| { set_step(ctx, Step::Idle); focus("#start-leave"); }>{t!(i18n, keep_place)}</button>
                    <button type="button" class="danger" id="confirm-leave"
                        on:click=move |_| send(ctx, |w, id| w.leave(id))>{t!(i18n, yes_leave)}</button>
                </div>
            </div>
        }
        .into_any(),
        Step::Sending => view! { <p class="hint" role="status">{t!(i18n, working)}</p> }.into_any(),
        _ => view! {
            <div class="actions start">
                <Show when=move || status.get() == WaitStatus::Waiting>
                    <button type="button" class="secondary" id="start-change-window" disabled=move || !ctx.live()
                        on:click=start_change>{t!(i18n, change_window)}</button>
                </Show>
                <button type="button" class="secondary" id="start-leave" disabled=move || !ctx.live()
                    on:click=move |_| set_step(ctx, Step::ConfirmLeave)>{t!(i18n, leave_waitlist)}</button>
            </div>
        }
        .into_any(),
    }
    };

    view! {
        <div class="card wait-entry">
            <div class="appointment-head">
                <h2>{t!(i18n, wait_title)}</h2>
                <span class=badge id="wait-status" data-wait-status=status_name>
                    {move || wait_status(status.get(), i18n.get_locale())}
                </span>
            </div>
            {move || places().map(|(n, (place, ahead))| view! {
                <p class="place" id="wait-place" data-place=n>{place}</p>
                <p class="hint" id="wait-ahead">{ahead}</p>
            })}
            <dl class="facts">
                <dt>{t!(i18n, fact_doctor)}</dt><dd id="wait-doctor">{doctor}</dd>
                <dt>{t!(i18n, fact_window)}</dt><dd id="wait-window">{window}</dd>
                <dt>{t!(i18n, fact_patient)}</dt><dd>{patient}</dd>
                <dt>{t!(i18n, fact_joined)}</dt><dd>{joined}</dd>
            </dl>
            <Show when=move || status.get() == WaitStatus::Waiting>
                <p class="hint" id="wait-explain">{move || t!(i18n, wait_explain, count = minutes)}</p>
            </Show>
            <Show when=offered>
                <OfferBox/>
            </Show>
            {move || said().map(|text| view! { <p class="notice" id="wait-said" role="status" tabindex="-1">{text}</p> })}
            <Show when=move || status.get() == WaitStatus::Booked>
                <div class="wait-booked" id="wait-booked" tabindex="-1">
                    <p>{t!(i18n, wait_booked)}</p>
                    {receipt}
                </div>
            </Show>
            <Show when=move || matches!(status.get(), WaitStatus::Left | WaitStatus::Removed | WaitStatus::Lapsed)>
                <p id="wait-over">{move || match status.get() {
                    WaitStatus::Left => t!(i18n, wait_left).into_any(),
                    WaitStatus::Lapsed => t!(i18n, wait_lapsed).into_any(),
                    _ => t!(i18n, wait_removed).into_any(),
                }}</p>
                <p><a href="/">{t!(i18n, book_new)}</a></p>
            </Show>
            <Show when=active>
                {actions}
                <p class="code-label">{t!(i18n, wait_link_label)}</p>
                <p class="manage-link"><a id="wait-link" href=link.clone()>{link.clone()}</a></p>
                <p class="hint">{t!(i18n, wait_link_hint)}</p>
            </Show>
        </div>
    }
}
