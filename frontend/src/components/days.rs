//! Tabs for the bookable days, each with its number of free slots. One tab is
//! in the Tab order at a time; the arrow keys, Home and End move between them.

use leptos::prelude::*;
use protocol::SlotStatus;

use super::focus;
use crate::Ctx;
use crate::i18n::{t_string, use_i18n};

/// One tab per day; the chosen day's slots are shown below.
#[component]
pub(crate) fn DayTabs() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let days = move || {
        ctx.layout.with(|l| {
            l.days.iter().map(|d| (d.key.clone(), d.label.clone(), d.long.clone())).collect::<Vec<_>>()
        })
    };
    // Arrow keys choose the neighbouring day and move the focus to its tab.
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let keys: Vec<String> = ctx.layout.with_untracked(|l| l.days.iter().map(|d| d.key.clone()).collect());
        let Some(at) = ctx.day.with_untracked(|d| d.as_ref().and_then(|k| keys.iter().position(|x| x == k)))
        else {
            return;
        };
        let to = match ev.key().as_str() {
            "ArrowRight" | "ArrowDown" => (at + 1).min(keys.len() - 1),
            "ArrowLeft" | "ArrowUp" => at.saturating_sub(1),
            "Home" => 0,
            "End" => keys.len() - 1,
            _ => return,
        };
        ev.prevent_default();
        ctx.day.set(Some(keys[to].clone()));
        focus(&format!("button.tab[data-day='{}']", keys[to]));
    };
    view! {
        <nav class="days" role="tablist" aria-label=move || t_string!(i18n, days_label) on:keydown=on_key>
            <For
                each=days
                key=|(key, label, _)| (key.clone(), label.clone())
                children=move |(key, label, long)| {
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
                    let over = {
                        let key = key.clone();
                        move || {
                            let now = ctx.now.get();
                            ctx.layout.with(|l| l.day(&key).is_some_and(|d| d.columns.iter().flatten().all(|c| c.start_ms <= now)))
                        }
                    };
                    let free_text = move || match free() {
                        0 if over() => t_string!(i18n, day_over).to_string(),
                        0 => t_string!(i18n, day_full).to_string(),
                        n => t_string!(i18n, free_slots, count = n).to_string(),
                    };
                    let selected_tab = selected.clone();
                    view! {
                        <button type="button" role="tab" class="tab" id=format!("day-tab-{key}") data-day=key
                            aria-controls="day-panel"
                            aria-selected=move || selected().to_string()
                            tabindex=move || if selected_tab() { "0" } else { "-1" }
                            title=long on:click=choose>
                            <span class="tab-day">{label}</span>
                            " "
                            <span class="tab-free">{free_text}</span>
                        </button>
                    }
                }
            />
        </nav>
    }
}
