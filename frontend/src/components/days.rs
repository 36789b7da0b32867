//! Tabs for the bookable days, each with its number of free slots.

use leptos::prelude::*;
use protocol::SlotStatus;

use crate::Ctx;

/// One tab per day; the chosen day's slots are shown below.
#[component]
pub(crate) fn DayTabs() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let days = move || {
        ctx.layout.with(|l| l.days.iter().map(|d| (d.key.clone(), d.label.clone())).collect::<Vec<_>>())
    };
    view! {
        <nav class="days" role="tablist" aria-label="Choose a day">
            <For
                each=days
                key=|(key, _)| key.clone()
                children=move |(key, label)| {
                    let selected = {
                        let key = key.clone();
                        move || ctx.day.with(|d| d.as_deref() == Some(key.as_str()))
                    };
                    let free = {
                        let key = key.clone();
                        move || {
                            let now = ctx.now.get();
                            ctx.layout.with(|l| {
                                ctx.board.with(|b| {
                                    l.day(&key).map_or(0, |d| {
                                        d.columns
                                            .iter()
                                            .flatten()
                                            .filter(|c| c.start_ms > now && b.status(&c.id) == Some(SlotStatus::Free))
                                            .count()
                                    })
                                })
                            })
                        }
                    };
                    let choose = {
                        let key = key.clone();
                        move |_| ctx.day.set(Some(key.clone()))
                    };
                    view! {
                        <button type="button" role="tab" class="tab" data-day=key
                            aria-selected=move || selected().to_string() on:click=choose>
                            <span class="tab-day">{label}</span>
                            <span class="tab-free">{move || match free() { 0 => "full".to_owned(), n => format!("{n} free") }}</span>
                        </button>
                    }
                }
            />
        </nav>
    }
}
