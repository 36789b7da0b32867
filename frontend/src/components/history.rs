//! The audit trail at the staff console: the table of audit rows (when, who,
//! what, about what, from where), the history dialog of a booking or a slot,
//! and the last day's activity with its filter.

use leptos::html;
use leptos::prelude::*;
use protocol::{AuditEntry, SlotId};

use super::trap_tab;
use crate::i18n::{Locale, t, t_string, td_string, use_i18n};
use crate::say::staff::{action, actor};
use crate::staff::audit::{self, Filter, Subject, Who};
use crate::{Ctx, language, request_id, time};

/// A slot in words: its time, day and doctor, when the schedule shows it.
fn slot_words(ctx: Ctx, slot: &SlotId) -> String {
    ctx.layout.with(|l| {
        l.describe(slot)
            .map_or_else(|| slot.0.clone(), |(day, time, doctor)| format!("{time}, {day}, {}", doctor.name))
    })
}

/// What a row is about, in words.
fn about(ctx: Ctx, entry: &AuditEntry, l: Locale) -> String {
    let mut parts = Vec::new();
    if let Some(code) = &entry.booking_code {
        parts.push(code.clone());
    }
    if let Some(slot) = &entry.slot_id {
        parts.push(slot_words(ctx, slot));
    }
    if let Some(from) = &entry.other_slot_id {
        parts.push(td_string!(l, about_from_slot, slot = slot_words(ctx, from)).to_string());
    }
    if let Some(id) = entry.entry_id {
        parts.push(td_string!(l, about_entry, id = id).to_string());
    }
    if let Some(detail) = &entry.detail {
        parts.push(detail.clone());
    }
    parts.join(" · ")
}

/// Audit rows as a table, newest first.
#[component]
fn AuditTable(
    /// The rows.
    entries: Signal<Vec<AuditEntry>>,
    /// The id of the element naming the table.
    labelled_by: &'static str,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let rows = move || {
        let l = i18n.get_locale();
        let zone = ctx.layout.with(|l| l.time_zone.clone());
        entries
            .get()
            .into_iter()
            .map(|e| {
                let ms = e.at.timestamp_millis();
                let when = format!(
                    "{} {}",
                    time::day_label(ms, &zone, language::intl(l)),
                    time::time_label(ms, &zone)
                );
                view! {
                    <tr data-action=audit::action_key(e.action)>
                        <td class="when">{when}</td>
                        <td>{actor(&e.actor, l)}</td>
                        <td>{action(e.action, l)}</td>
                        <td>{about(ctx, &e, l)}</td>
                        <td class="mono">{e.address.clone().unwrap_or_default()}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="table-wrap">
            <table class="audit-table" aria-labelledby=labelled_by>
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, fact_when)}</th>
                        <th scope="col">{t!(i18n, col_who)}</th>
                        <th scope="col">{t!(i18n, col_what)}</th>
                        <th scope="col">{t!(i18n, col_about)}</th>
                        <th scope="col">{t!(i18n, col_from)}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// The history of a booking or a slot, in a modal dialog.
#[component]
pub(crate) fn HistoryDialog() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let dialog = NodeRef::<html::Div>::new();
    // The element that had the focus when the dialog opened gets it back.
    let opener = StoredValue::new_local(None::<web_sys::Element>);
    let open = Memo::new(move |_| ctx.audit.with(|a| a.history.is_some()));
    Effect::new(move |was: Option<bool>| {
        let now = open.get();
        if now && was != Some(true) {
            opener.set_value(document().active_element());
            super::focus("#history-close");
        }
        now
    });
    let close = move || {
        ctx.audit.update(|a| a.close());
        if let Some(el) =
            opener.get_value().and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
        {
            let _ = el.focus();
        }
    };
    let title = move || {
        let l = i18n.get_locale();
        ctx.audit.with(|a| {
            a.history.as_ref().map(|h| match &h.subject {
                Subject::Booking(code) => td_string!(l, history_booking, code = code.clone()).to_string(),
                Subject::Slot(slot) => td_string!(l, history_slot, slot = slot_words(ctx, slot)).to_string(),
            })
        })
    };
    let entries = Signal::derive(move || {
        ctx.audit.with(|a| a.history.as_ref().map(|h| h.rows.entries.clone()).unwrap_or_default())
    });
    let status = move || {
        ctx.audit.with(|a| {
            let rows = &a.history.as_ref()?.rows;
            Some(if let Some(said) = rows.said {
                said.text(i18n.get_locale())
            } else if !rows.loaded {
                t_string!(i18n, history_loading).to_string()
            } else if rows.entries.is_empty() {
                t_string!(i18n, history_empty).to_string()
            } else {
                t_string!(i18n, history_count, count = rows.entries.len()).to_string()
            })
        })
    };
    view! {
        <Show when=move || open.get()>
            <div class="backdrop">
                <div class="dialog wide" id="history-dialog" role="dialog" aria-modal="true" aria-labelledby="history-title"
                    node_ref=dialog
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
                        "Escape" => close(),
                        "Tab" => {
                            if let Some(dialog) = dialog.get() {
                                trap_tab(&ev, &dialog);
                            }
                        }
                        _ => {}
                    }>
                    <h2 id="history-title">{title}</h2>
                    <p class="hint" role="status" id="history-status">{status}</p>
                    <AuditTable entries=entries labelled_by="history-title"/>
                    <div class="actions">
                        <button type="button" class="secondary" id="history-close" on:click=move |_| close()>{t!(i18n, close)}</button>
                    </div>
                </div>
            </div>
        </Show>
    }
}

/// The `<select>` value of a choice of who made a change.
fn who_value(who: &Who) -> String {
    match who {
        Who::Anyone => String::new(),
        Who::Patients => "patients".into(),
        Who::System => "system".into(),
        Who::Staff(name) => format!("staff:{name}"),
    }
}

fn who_of(value: &str) -> Who {
    match value {
        "patients" => Who::Patients,
        "system" => Who::System,
        other => other.strip_prefix("staff:").map_or(Who::Anyone, |name| Who::Staff(name.to_owned())),
    }
}

/// The last day's activity, with a filter.
#[component]
pub(crate) fn Activity() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let filter = RwSignal::new(Filter::default());
    let load = move || {
        let ask = ctx.audit.try_update(|a| a.load_activity(time::now_ms(), request_id()));
        if let Some(ask) = ask {
            ctx.connection.send(ask);
        }
    };
    // Loaded as the view opens, and again when the connection comes back.
    Effect::new(move |_| {
        if ctx.live() {
            load();
        }
    });
    let all = Memo::new(move |_| ctx.audit.with(|a| a.activity.entries.clone()));
    let shown = Signal::derive(move || filter.with(|f| all.with(|e| audit::filtered(e, f))));
    let names = move || all.with(|e| audit::staff_names(e));
    let status = move || {
        ctx.audit.with(|a| match a.activity.said {
            Some(said) => said.text(i18n.get_locale()),
            None if !a.activity.loaded => t_string!(i18n, activity_loading).to_string(),
            None => t_string!(i18n, activity_count, count = shown.with(Vec::len)).to_string(),
        })
    };
    let loading = move || ctx.audit.with(|a| a.activity.loading());
    view! {
        <section class="card" id="activity" aria-labelledby="activity-title"
            data-loaded=move || ctx.audit.with(|a| a.activity.loaded).to_string()>
            <div class="console-head">
                <h2 id="activity-title">{t!(i18n, activity_title)}</h2>
                <button type="button" class="secondary" id="activity-refresh" disabled=move || loading() || !ctx.live()
                    on:click=move |_| load()>{t!(i18n, refresh)}</button>
            </div>
            <div class="filters">
                <div class="field">
                    <label for="activity-action">{t!(i18n, activity_action)}</label>
                    <select id="activity-action" on:change=move |ev| {
                        let action = audit::action_of(&event_target_value(&ev));
                        filter.update(|f| f.action = action);
                    }>
                        <option value="">{t!(i18n, activity_all_actions)}</option>
                        {move || {
                            let l = i18n.get_locale();
                            audit::ACTIONS.iter().map(|a| view! {
                                <option value=audit::action_key(*a) prop:selected=move || filter.with(|f| f.action == Some(*a))>{action(*a, l)}</option>
                            }).collect_view()
                        }}
                    </select>
                </div>
                <div class="field">
                    <label for="activity-who">{t!(i18n, activity_who)}</label>
                    <select id="activity-who" on:change=move |ev| {
                        let who = who_of(&event_target_value(&ev));
                        filter.update(|f| f.who = who);
                    }>
                        <option value="">{t!(i18n, who_anyone)}</option>
                        <option value="patients">{t!(i18n, who_patients)}</option>
                        <option value="system">{t!(i18n, actor_system)}</option>
                        {move || names().into_iter().map(|name| {
                            let who = Who::Staff(name.clone());
                            let value = who_value(&who);
                            view! { <option value=value prop:selected=move || filter.with(|f| f.who == who)>{name}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="activity-text">{t!(i18n, activity_text)}</label>
                    <input id="activity-text" type="search" autocomplete="off"
                        prop:value=move || filter.with(|f| f.text.clone())
                        on:input=move |ev| { let text = event_target_value(&ev); filter.update(|f| f.text = text); }/>
                </div>
            </div>
            <p class="hint" role="status" id="activity-status">{status}</p>
            <AuditTable entries=shown labelled_by="activity-title"/>
        </section>
    }
}
