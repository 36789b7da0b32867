//! The staff console's waitlist: every patient waiting, doctor by doctor in the
//! order offers go to them, with their days and hours, when they joined, the
//! time held for them now if any, and a button to take them off the list.

use leptos::prelude::*;
use protocol::{DoctorId, StaffWaiting};

use super::window_fields::window_text;
use crate::i18n::{Locale, t, td_string, use_i18n};
use crate::{Ctx, language, request_id, solver, time};

/// The time held for a waiting patient, in words: the slot and until when.
fn offer_words(ctx: Ctx, entry: &StaffWaiting, l: Locale) -> Option<String> {
    let slot = entry.offered_slot.as_ref()?;
    let zone = ctx.layout.with(|l| l.time_zone.clone());
    let what = ctx.layout.with(|layout| {
        layout
            .describe(slot)
            .map(|(day, time, _)| td_string!(l, when_value, day = day, time = time).to_string())
    });
    let until = entry.offer_expires_at.map(|t| time::time_label(t.timestamp_millis(), &zone));
    Some(match (what, until) {
        (Some(what), Some(until)) => td_string!(l, staff_offer, slot = what, time = until).to_string(),
        (Some(what), None) => what,
        (None, _) => slot.0.clone(),
    })
}

/// The waitlist section of the logged-in console.
#[component]
pub(crate) fn StaffWaitlistPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let list = move || ctx.staff_waitlist.with(|s| s.entries.clone());
    let count = move || ctx.staff_waitlist.with(|s| s.entries.len());
    let loaded = move || ctx.staff_waitlist.with(|s| s.loaded);
    let loading = move || ctx.staff_waitlist.with(|s| s.loading());
    let said = move || ctx.staff_waitlist.with(|s| s.said).map(|say| say.text(i18n.get_locale()));
    let refresh = move |_| {
        let load = ctx.staff_waitlist.try_update(|s| s.load(solver::clock_ms(), request_id()));
        if let Some(load) = load {
            ctx.connection.send(load);
        }
    };
    // The doctors in the schedule's order, each with their entries in line
    // order; an entry of a doctor the schedule does not show comes last.
    let groups = move || {
        let entries = list();
        let mut doctors: Vec<(DoctorId, String)> = ctx.layout.with(|l| {
            l.doctors.iter().map(|d| (d.id.clone(), format!("{} · {}", d.name, d.specialty))).collect()
        });
        for e in &entries {
            if !doctors.iter().any(|(id, _)| *id == e.doctor_id) {
                doctors.push((e.doctor_id.clone(), e.doctor_id.0.clone()));
            }
        }
        doctors
            .into_iter()
            .filter_map(|(id, name)| {
                let mine: Vec<StaffWaiting> = entries.iter().filter(|e| e.doctor_id == id).cloned().collect();
                (!mine.is_empty()).then_some((id, name, mine))
            })
            .collect::<Vec<_>>()
    };
    let rows = move |entries: Vec<StaffWaiting>| {
        entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let l = i18n.get_locale();
                let zone = ctx.layout.with(|l| l.time_zone.clone());
                let joined_ms = e.joined_at.timestamp_millis();
                let joined = td_string!(
                    l,
                    when_value,
                    day = time::day_label(joined_ms, &zone, language::intl(l)),
                    time = time::time_label(joined_ms, &zone)
                )
                .to_string();
                let offer = offer_words(ctx, &e, l);
                let offered = offer.is_some();
                let id = e.id;
                let removing = move || ctx.staff_waitlist.with(|s| s.removing() == Some(id));
                let remove = move |_| {
                    let message = ctx.staff_waitlist.try_update(|s| s.remove(id, request_id())).flatten();
                    if let Some(message) = message {
                        ctx.connection.send(message);
                    }
                };
                let name = e.patient.name.clone();
                view! {
                    <tr data-waitlist-entry=id.to_string() data-offered=offered.to_string()>
                        <td class="num">{i + 1}</td>
                        <td>{e.patient.name.clone()}</td>
                        <td><a href=format!("tel:{}", e.patient.phone)>{e.patient.phone.clone()}</a></td>
                        <td>{window_text(&e.window, l, true)}</td>
                        <td>{joined}</td>
                        <td class:offered=offered>{offer.unwrap_or_else(|| td_string!(l, staff_no_offer).to_string())}</td>
                        <td>
                            <button type="button" class="secondary small" data-waitlist-remove=id.to_string()
                                disabled=move || removing() || !ctx.live()
                                aria-label=move || td_string!(i18n.get_locale(), remove_waiting_name, patient = name.clone()).to_string()
                                on:click=remove>
                                {move || if removing() { t!(i18n, removing).into_any() } else { t!(i18n, remove_waiting).into_any() }}
                            </button>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <section class="card staff-waitlist" id="staff-waitlist" aria-labelledby="staff-waitlist-title"
            data-loaded=move || loaded().to_string()>
            <div class="console-head">
                <div>
                    <h2 id="staff-waitlist-title">{t!(i18n, staff_waitlist)}</h2>
                    <p class="hint" id="staff-waitlist-count" role="status">{move || {
                        if !loaded() {
                            t!(i18n, staff_waitlist_loading).into_any()
                        } else if count() == 0 {
                            t!(i18n, staff_waitlist_empty).into_any()
                        } else {
                            t!(i18n, staff_waitlist_count, count = count).into_any()
                        }
                    }}</p>
                </div>
                <button type="button" class="secondary" id="staff-waitlist-refresh"
                    disabled=move || loading() || !ctx.live() on:click=refresh>{t!(i18n, refresh)}</button>
            </div>
            <Show when=move || said().is_some()>
                <p class="problem" role="alert" id="staff-waitlist-said">{said}</p>
            </Show>
            {move || groups().into_iter().map(|(doctor, name, entries)| {
                let heading = format!("waitlist-doctor-{}", doctor.0);
                view! {
                    <h3 id=heading.clone()>{name}</h3>
                    <div class="table-wrap">
                        <table class="waitlist-table" aria-labelledby=heading data-waitlist-doctor=doctor.0.clone()>
                            <thead>
                                <tr>
                                    <th scope="col">{t!(i18n, col_place)}</th>
                                    <th scope="col">{t!(i18n, fact_patient)}</th>
                                    <th scope="col">{t!(i18n, fact_phone)}</th>
                                    <th scope="col">{t!(i18n, fact_window)}</th>
                                    <th scope="col">{t!(i18n, fact_joined)}</th>
                                    <th scope="col">{t!(i18n, col_offer)}</th>
                                    <th scope="col"><span class="visually-hidden">{t!(i18n, col_actions)}</span></th>
                                </tr>
                            </thead>
                            <tbody>{rows(entries)}</tbody>
                        </table>
                    </div>
                }
            }).collect_view()}
        </section>
    }
}
