//! The chosen day: a column per doctor with the slots as buttons. Slots that
//! have begun fold into one line. One slot is in the Tab order at a time; the
//! arrow keys move within a doctor's column and across to the neighbouring
//! doctors, Home and End to a column's ends.

use leptos::prelude::*;
use protocol::SlotStatus;

use super::focus_slot;
use super::join_dialog::JoinButton;
use crate::booking::Booking;
use crate::i18n::{Locale, t, t_string, td_string, use_i18n};
use crate::layout::Cell;
use crate::manage::Step;
use crate::pages::Page;
use crate::{Ctx, request_id, solver, time};

/// The doctors' columns for the chosen day.
#[component]
pub(crate) fn ScheduleGrid() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    // The day's columns without the slots that have begun; rebuilt when the
    // layout, the day or the minute changes, while each slot follows its own
    // state below.
    let columns = Memo::new(move |_| {
        let day = ctx.day.get();
        let now = ctx.now.get();
        ctx.layout.with(|l| {
            let Some(day) = day.and_then(|k| l.day(&k)) else { return Vec::new() };
            l.doctors
                .iter()
                .cloned()
                .zip(
                    day.columns
                        .iter()
                        .map(|c| c.iter().filter(|c| c.start_ms > now).cloned().collect::<Vec<_>>()),
                )
                .collect::<Vec<_>>()
        })
    });
    let past = move || {
        let now = ctx.now.get();
        let day = ctx.day.get()?;
        ctx.layout.with(|l| l.day(&day)?.past_span(now).map(|(a, b)| (a.to_owned(), b.to_owned())))
    };
    let nothing_free = move || {
        let now = ctx.now.get();
        ctx.layout
            .with(|l| !l.days.is_empty() && ctx.board.with(|b| l.days.iter().all(|d| !l.bookable(d, b, now))))
    };
    // The chosen day in words, for every slot's name: found once per grid, not
    // once per slot.
    let day_name = Signal::derive(move || {
        let day = ctx.day.get();
        ctx.layout.with(|l| day.and_then(|k| l.day(&k).map(|d| d.long.clone()))).unwrap_or_default()
    });
    // The slot in the Tab order: the one last focused when it is still shown,
    // else the first shown.
    let current = move || {
        let cursor = ctx.cursor.get();
        columns.with(|cols| {
            let shown = || cols.iter().flat_map(|(_, cells)| cells.iter());
            cursor
                .filter(|c| shown().any(|cell| &cell.id == c))
                .or_else(|| shown().next().map(|c| c.id.clone()))
        })
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        // The keys move between slots only: a column's other buttons, such as
        // its waitlist's, keep them.
        let on_slot = event_target::<web_sys::Element>(&ev).has_attribute("data-slot-id");
        let Some(at) = ctx.cursor.get_untracked().filter(|_| on_slot) else { return };
        let next = columns.with_untracked(|cols| {
            let col = cols.iter().position(|(_, cells)| cells.iter().any(|c| c.id == at))?;
            let cells = &cols[col].1;
            let row = cells.iter().position(|c| c.id == at)?;
            let start = cells[row].start_ms;
            let across = |step: isize| {
                let mut i = col as isize + step;
                while i >= 0 && (i as usize) < cols.len() {
                    let nearest = cols[i as usize].1.iter().min_by_key(|c| (c.start_ms - start).abs());
                    if let Some(cell) = nearest {
                        return Some(cell.id.clone());
                    }
                    i += step;
                }
                None
            };
            match ev.key().as_str() {
                "ArrowDown" => cells.get(row + 1).map(|c| c.id.clone()),
                "ArrowUp" => row.checked_sub(1).map(|r| cells[r].id.clone()),
                "Home" => cells.first().map(|c| c.id.clone()),
                "End" => cells.last().map(|c| c.id.clone()),
                "ArrowRight" => across(1),
                "ArrowLeft" => across(-1),
                _ => None,
            }
        });
        if let Some(next) = next {
            ev.prevent_default();
            focus_slot(&next);
            ctx.cursor.set(Some(next));
        }
    };
    view! {
        <Show when=nothing_free>
            <p class="card empty-schedule" id="no-free-slots">{t!(i18n, no_free_days)}</p>
        </Show>
        <div class="grid" role="tabpanel" id="day-panel"
            aria-labelledby=move || ctx.day.get().map(|k| format!("day-tab-{k}"))
            on:keydown=on_key>
            {move || past().map(|(from, to)| view! {
                <p class="past-fold" id="past-fold">{
                    if from == to {
                        t_string!(i18n, past_folded_single, time = from).to_string()
                    } else {
                        t_string!(i18n, past_folded, from = from, to = to).to_string()
                    }
                }</p>
            })}
            // Keyed by doctor and by slot, so that a slot that folds away or a
            // new language never leaves the focus on a button that now shows
            // another slot.
            <For
                each=move || columns.with(|c| c.iter().map(|(d, _)| d.id.clone()).collect::<Vec<_>>())
                key=|id| id.clone()
                children=move |doctor_id| {
                    let doctor = {
                        let doctor_id = doctor_id.clone();
                        Memo::new(move |_| {
                            columns.with(|c| {
                                c.iter().find(|(d, _)| d.id == doctor_id).map(|(d, _)| d.clone())
                            })
                        })
                    };
                    let cells = {
                        let doctor_id = doctor_id.clone();
                        move || {
                            columns.with(|c| {
                                c.iter().find(|(d, _)| d.id == doctor_id).map(|(_, cells)| cells.clone())
                            })
                            .unwrap_or_default()
                        }
                    };
                    let empty = {
                        let cells = cells.clone();
                        move || cells().is_empty()
                    };
                    // Whether the doctor sees patients this day at all, or only
                    // no longer.
                    let works = Signal::derive({
                        let doctor_id = doctor_id.clone();
                        move || {
                            let day = ctx.day.get();
                            ctx.layout.with(|l| {
                                let i = l.doctors.iter().position(|d| d.id == doctor_id)?;
                                Some(!day.and_then(|k| l.day(&k))?.columns.get(i)?.is_empty())
                            })
                            .unwrap_or(false)
                        }
                    });
                    let lang = {
                        let doctor_id = doctor_id.clone();
                        move || {
                            ctx.layout.with(|l| {
                                let i = l.doctors.iter().position(|d| d.id == doctor_id)?;
                                l.doctor_langs.get(i).cloned().flatten()
                            })
                        }
                    };
                    let join_doctor = doctor_id.clone();
                    let heading = format!("doctor-{doctor_id}");
                    let labelled_by = heading.clone();
                    let name = Signal::derive(move || doctor.with(|d| d.as_ref().map(|d| d.name.clone())).unwrap_or_default());
                    view! {
                        <section class="doctor" aria-labelledby=labelled_by>
                            <header class="doctor-head" lang=lang>
                                <h2 id=heading>{name}</h2>
                                <p class="specialty">{move || doctor.with(|d| d.as_ref().map(|d| d.specialty.clone()))}</p>
                            </header>
                            <Show when=empty.clone()>
                                <p class="empty">{move || if works.get() {
                                    t!(i18n, no_more_today).into_any()
                                } else {
                                    t!(i18n, no_appointments_day).into_any()
                                }}</p>
                            </Show>
                            <ul class="slots">
                                <For each=cells.clone() key=|cell| cell.id.clone() children=move |cell| {
                                    let id = cell.id.clone();
                                    let in_tab_order = Signal::derive(move || current().as_ref() == Some(&id));
                                    view! { <li><SlotButton cell=cell day=day_name doctor=name in_tab_order=in_tab_order/></li> }
                                }/>
                            </ul>
                            <JoinButton doctor=join_doctor name=name/>
                        </section>
                    }
                }
            />
        </div>
    }
}

/// How one slot looks to this browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Look {
    Free,
    Held,
    Booked,
    Blocked,
    Mine,
    Past,
    TooSoon,
}

impl Look {
    fn name(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Held => "held",
            Self::Booked => "booked",
            Self::Blocked => "blocked",
            Self::Mine => "mine",
            Self::Past => "past",
            Self::TooSoon => "soon",
        }
    }

    /// The word on the button.
    fn label(self, l: Locale) -> &'static str {
        match self {
            Self::Free => td_string!(l, look_free),
            Self::Held => td_string!(l, look_held),
            Self::Booked => td_string!(l, look_booked),
            Self::Blocked => td_string!(l, look_blocked),
            Self::Mine => td_string!(l, look_mine),
            Self::Past => td_string!(l, look_past),
            Self::TooSoon => td_string!(l, look_soon),
        }
    }

    /// The state in the button's accessible name: words, not symbols.
    pub(crate) fn spoken(self, l: Locale) -> &'static str {
        match self {
            Self::Mine => td_string!(l, look_mine_name),
            Self::TooSoon => td_string!(l, look_soon_name),
            other => other.label(l),
        }
    }

    /// How a slot of `status` looks, starting at `start_ms`.
    pub(crate) fn of(ctx: Ctx, page: Page, id: &protocol::SlotId, start_ms: i64) -> Self {
        let now = ctx.now.get();
        let notice_ms = ctx.layout.with(|l| l.min_notice_minutes) as i64 * 60_000;
        ctx.board.with(|b| match b.status(id) {
            _ if b.is_mine(id) && page == Page::Book => Look::Mine,
            Some(SlotStatus::Booked) | None => Look::Booked,
            Some(SlotStatus::Held) => Look::Held,
            Some(SlotStatus::Blocked) => Look::Blocked,
            Some(SlotStatus::Free) if start_ms <= now => Look::Past,
            Some(SlotStatus::Free) if start_ms <= now + notice_ms => Look::TooSoon,
            Some(SlotStatus::Free) => Look::Free,
        })
    }
}

/// One slot. On the booking page a free one opens the booking dialog and your
/// own shows its code; on a manage link a free one is a new time to move to; on
/// the staff console every slot opens its details. One that cannot be used
/// stays focusable, so that its state can be read, but does nothing.
#[component]
fn SlotButton(
    cell: Cell,
    day: Signal<String>,
    doctor: Signal<String>,
    in_tab_order: Signal<bool>,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let page = expect_context::<Page>();
    let id = cell.id.clone();
    let look = {
        let id = id.clone();
        move || Look::of(ctx, page, &id, cell.start_ms)
    };
    let flashing = {
        let id = id.clone();
        move || ctx.flash.with(|f| f.contains(&id))
    };
    let patient = {
        let id = id.clone();
        move || {
            (page == Page::Staff)
                .then(|| ctx.staff.with(|s| s.bookings.get(&id).map(|b| b.patient.name.clone())))
                .flatten()
        }
    };
    let held_until = {
        let id = id.clone();
        move || {
            let zone = ctx.layout.with(|l| l.time_zone.clone());
            ctx.board.with(|b| b.held_until(&id)).map(|ms| time::time_label(ms, &zone))
        }
    };
    // The words on the button: the patient on the staff console, else the state.
    let shown = {
        let look = look.clone();
        let patient = patient.clone();
        let held_until = held_until.clone();
        move |l: Locale| {
            patient().unwrap_or_else(|| match (look(), held_until()) {
                (Look::Held, Some(until)) => td_string!(l, look_held_short, time = until).to_string(),
                (look, _) => look.label(l).to_owned(),
            })
        }
    };
    let look_class = look.clone();
    let class = move || {
        let flash = if flashing() { " flash" } else { "" };
        format!("slot {}{flash}", look_class().name())
    };
    let look_status = look.clone();
    let look_disabled = look.clone();
    let time = cell.time.clone();
    // The name starts with the words on the button, as the button shows them
    // (WCAG 2.5.3), then says the day and the doctor, and the state in full
    // where the button abbreviates it.
    let held_until_name = held_until.clone();
    let patient_name = patient.clone();
    let shown_name = shown.clone();
    let aria = move || {
        let l = i18n.get_locale();
        let (look, until) = (look(), held_until_name());
        let shown = shown_name(l);
        let state = match (look, until) {
            (Look::Held, Some(until)) => td_string!(l, look_held_until, time = until).to_string(),
            (look, _) => look.spoken(l).to_owned(),
        };
        let day = day.get();
        let (time, doctor) = (time.clone(), doctor.get());
        if state == shown && patient_name().is_none() {
            td_string!(l, slot_name, time = time, shown = shown, day = day, doctor = doctor).to_string()
        } else {
            td_string!(
                l,
                slot_name_more,
                time = time,
                shown = shown,
                day = day,
                doctor = doctor,
                state = state
            )
            .to_string()
        }
    };
    let enabled = move |look: Look| match page {
        Page::Book => look == Look::Mine || (look == Look::Free && ctx.live()),
        Page::Manage => look == Look::Free && ctx.live(),
        Page::Staff => ctx.live() && look != Look::Past,
        // The waitlist page shows no schedule.
        Page::Wait => false,
    };
    let look_open = look_disabled.clone();
    let open = {
        let id = id.clone();
        move |_| {
            ctx.cursor.set(Some(id.clone()));
            if !enabled(look_open()) {
                return;
            }
            match page {
                Page::Book => {
                    let mine = ctx.board.with_untracked(|b| b.mine.get(&id).cloned());
                    match mine {
                        Some(mine) => ctx.booking.set(Booking::Booked {
                            slot: id.clone(),
                            code: mine.code,
                            token: mine.token,
                        }),
                        None => {
                            if let Some(hold) =
                                ctx.booking.try_update(|b| b.open(id.clone(), request_id())).flatten()
                            {
                                ctx.connection.send(hold);
                                // The robot check runs while the patient fills in the form.
                                solver::prepare(ctx);
                            }
                        }
                    }
                }
                Page::Manage => ctx.manage.update(|m| {
                    if let Some(m) = m {
                        m.step(Step::ConfirmMove { to: id.clone() });
                    }
                }),
                Page::Staff => ctx.staff.update(|s| s.selected = Some(id.clone())),
                Page::Wait => {}
            }
        }
    };
    let focused = {
        let id = id.clone();
        move |_| ctx.cursor.set(Some(id.clone()))
    };
    view! {
        <button type="button" class=class data-slot-id=id.0.clone() data-status=move || look_status().name()
            aria-disabled=move || (!enabled(look_disabled())).to_string()
            tabindex=move || if in_tab_order.get() { "0" } else { "-1" }
            aria-label=aria on:click=open on:focus=focused>
            <span class="time">{cell.time}</span>
            // A space, so that the button's text reads "09:00 Free", as its name does.
            " "
            <span class="state">{move || shown(i18n.get_locale())}</span>
        </button>
    }
}

/// What the slot styles mean, in words.
#[component]
pub(crate) fn Legend() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ul class="legend" aria-label=move || t_string!(i18n, legend)>
            <li><span class="swatch free"></span>{t!(i18n, legend_free)}</li>
            <li><span class="swatch held"></span>{t!(i18n, legend_held)}</li>
            <li><span class="swatch booked"></span>{t!(i18n, legend_booked)}</li>
            <li><span class="swatch blocked"></span>{t!(i18n, legend_blocked)}</li>
            <li><span class="swatch mine"></span>{t!(i18n, legend_mine)}</li>
        </ul>
    }
}
