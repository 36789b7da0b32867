//! The chosen day: a column per doctor with the slots as buttons.

use leptos::prelude::*;
use protocol::SlotStatus;

use crate::Ctx;
use crate::layout::Cell;
use crate::state::Booking;

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
    Booked,
    Mine,
    Past,
}

impl Look {
    fn name(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Booked => "booked",
            Self::Mine => "mine",
            Self::Past => "past",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Free => "Free",
            Self::Booked => "Booked",
            Self::Mine => "Yours ✓",
            Self::Past => "Past",
        }
    }
}

/// One slot: free ones open the booking dialog, your own show their code.
#[component]
fn SlotButton(cell: Cell, doctor: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let id = cell.id.clone();
    let look = {
        let id = id.clone();
        move || {
            let past = cell.start_ms <= ctx.now.get();
            ctx.board.with(|b| match b.status(&id) {
                _ if b.is_mine(&id) => Look::Mine,
                Some(SlotStatus::Booked) | None => Look::Booked,
                Some(SlotStatus::Free) if past => Look::Past,
                Some(SlotStatus::Free) => Look::Free,
            })
        }
    };
    let flashing = {
        let id = id.clone();
        move || ctx.flash.with(|f| f.contains(&id))
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
        move |_| {
            let code = ctx.board.with_untracked(|b| b.mine.get(&id).cloned());
            match code {
                Some(code) => ctx.booking.set(Booking::Booked { slot: id.clone(), code }),
                None => ctx.booking.update(|b| b.open(id.clone())),
            }
        }
    };
    view! {
        <button type="button" class=class data-slot-id=id.0.clone() data-status=move || look_status().name()
            disabled=move || { let l = look_disabled(); !(l == Look::Mine || (l == Look::Free && ctx.live())) }
            aria-label=aria on:click=open>
            <span class="time">{cell.time}</span>
            <span class="state">{move || look_label().label()}</span>
        </button>
    }
}
