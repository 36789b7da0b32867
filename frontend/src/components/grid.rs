//! The chosen day: a column per doctor with the slots as buttons.

use leptos::prelude::*;
use protocol::SlotStatus;

use crate::booking::Booking;
use crate::layout::Cell;
use crate::manage::Step;
use crate::pages::Page;
use crate::{Ctx, request_id, solver};

/// The doctors' columns for the chosen day.
#[component]
pub(crate) fn ScheduleGrid() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // Reads only the layout and the chosen day, so it is rebuilt only when they
    // change; each slot follows its own state below.
    let columns = move || {
        let day = ctx.day.get();
        ctx.layout.with(|l| {
            day.and_then(|k| l.day(&k).cloned())
                .map(|d| l.doctors.iter().cloned().zip(d.columns).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    };
    view! {
        <div class="grid" role="tabpanel" aria-label="Appointments">
            {move || columns().into_iter().map(|(doctor, cells)| {
                let heading = format!("doctor-{}", doctor.id);
                let labelled_by = heading.clone();
                let empty = cells.is_empty();
                let name = doctor.name.clone();
                view! {
                    <section class="doctor" aria-labelledby=labelled_by>
                        <header class="doctor-head">
                            <h2 id=heading>{doctor.name}</h2>
                            <p class="specialty">{doctor.specialty}</p>
                        </header>
                        <Show when=move || empty>
                            <p class="empty">"No appointments this day."</p>
                        </Show>
                        <ul class="slots">
                            {cells.into_iter().map(|cell| view! { <li><SlotButton cell=cell doctor=name.clone()/></li> }).collect_view()}
                        </ul>
                    </section>
                }
            }).collect_view()}
        </div>
    }
}

/// How one slot looks to this browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Look {
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

    fn label(self) -> &'static str {
        match self {
            Self::Free => "Free",
            Self::Held => "Being booked",
            Self::Booked => "Booked",
            Self::Blocked => "Unavailable",
            Self::Mine => "Yours ✓",
            Self::Past => "Past",
            Self::TooSoon => "Call clinic",
        }
    }
}

/// One slot. On the booking page a free one opens the booking dialog and your
/// own shows its code; on a manage link a free one is a new time to move to; on
/// the staff console every slot opens its details.
#[component]
fn SlotButton(cell: Cell, doctor: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let page = expect_context::<Page>();
    let id = cell.id.clone();
    let look = {
        let id = id.clone();
        move || {
            let now = ctx.now.get();
            let notice_ms = ctx.layout.with(|l| l.min_notice_minutes) as i64 * 60_000;
            ctx.board.with(|b| match b.status(&id) {
                _ if b.is_mine(&id) && page == Page::Book => Look::Mine,
                Some(SlotStatus::Booked) | None => Look::Booked,
                Some(SlotStatus::Held) => Look::Held,
                Some(SlotStatus::Blocked) => Look::Blocked,
                Some(SlotStatus::Free) if cell.start_ms <= now => Look::Past,
                Some(SlotStatus::Free) if cell.start_ms <= now + notice_ms => Look::TooSoon,
                Some(SlotStatus::Free) => Look::Free,
            })
        }
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
    let look_class = look.clone();
    let class = move || {
        let flash = if flashing() { " flash" } else { "" };
        format!("slot {}{flash}", look_class().name())
    };
    let look_status = look.clone();
    let look_disabled = look.clone();
    let look_label = look.clone();
    let time = cell.time.clone();
    let aria = move || format!("{time} with {doctor}: {}", look().label());
    let open = {
        let id = id.clone();
        move |_| match page {
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
        }
    };
    let enabled = move |look: Look| match page {
        Page::Book => look == Look::Mine || (look == Look::Free && ctx.live()),
        Page::Manage => look == Look::Free && ctx.live(),
        Page::Staff => ctx.live() && look != Look::Past,
    };
    view! {
        <button type="button" class=class data-slot-id=id.0.clone() data-status=move || look_status().name()
            disabled=move || !enabled(look_disabled())
            aria-label=aria on:click=open>
            <span class="time">{cell.time}</span>
            <span class="state">{move || patient().unwrap_or_else(|| look_label().label().to_owned())}</span>
        </button>
    }
}

/// What the slot styles mean, in words.
#[component]
pub(crate) fn Legend() -> impl IntoView {
    view! {
        <ul class="legend" aria-label="Legend">
            <li><span class="swatch free"></span>"Free — select to book"</li>
            <li><span class="swatch held"></span>"Being booked"</li>
            <li><span class="swatch booked"></span>"Booked"</li>
            <li><span class="swatch blocked"></span>"Unavailable"</li>
            <li><span class="swatch mine"></span>"Your booking"</li>
            <li><span class="swatch past"></span>"Past"</li>
        </ul>
    }
}
