//! The staff console's day agenda: every appointment of the chosen day in
//! time order across doctors, optionally of one doctor, with the patient,
//! where it stands, and the actions on it (cancel, no-show, history). It is
//! derived from the bookings the console keeps, so it changes live, and it
//! prints on its own (see the print rules in `style.css`).

use leptos::prelude::*;
use protocol::{BookingCode, DoctorId, SlotId};

use super::console::{Ask, Console};
use crate::i18n::{t, t_string, td_string, use_i18n};
use crate::say::staff::row_state;
use crate::staff::Action;
use crate::staff::agenda::{self, Row, RowState};
use crate::staff::audit::Subject;
use crate::{Ctx, request_id, time};

/// The agenda of one day.
#[component]
pub(crate) fn Agenda() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    // The day and doctor picked; until a day is picked, today's (or the next).
    let picked = RwSignal::new(None::<String>);
    let doctor = RwSignal::new(None::<DoctorId>);
    let day = Memo::new(move |_| {
        let picked = picked.get();
        let now = ctx.now.get();
        ctx.layout.with(|l| {
            if l.days.is_empty() {
                return None;
            }
            picked
                .filter(|k| l.day(k).is_some())
                .or_else(|| agenda::default_day(l, &time::day_key(now, &l.time_zone)))
        })
    });
    let rows = Memo::new(move |_| {
        let Some(day) = day.get() else { return Vec::new() };
        let (now, doctor) = (ctx.now.get(), doctor.get());
        ctx.layout.with(|l| ctx.staff.with(|s| agenda::rows(l, &s.bookings, &day, doctor.as_ref(), now)))
    });
    let caption = move || {
        let l = i18n.get_locale();
        let day = day.get();
        ctx.layout.with(|layout| {
            let day = day.and_then(|k| layout.day(&k).map(|d| d.long.clone())).unwrap_or_default();
            let doctors = doctor
                .get()
                .and_then(|id| layout.doctors.iter().find(|d| d.id == id).map(|d| d.name.clone()))
                .unwrap_or_else(|| td_string!(l, all_doctors).to_string());
            td_string!(l, agenda_caption, clinic = layout.clinic.clone(), day = day, doctors = doctors)
                .to_string()
        })
    };
    let count = move || rows.with(Vec::len);
    let print = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };
    let days = move || {
        ctx.layout.with(|l| {
            l.days
                .iter()
                .map(|d| {
                    let key = d.key.clone();
                    let chosen = key.clone();
                    view! { <option value=key prop:selected=move || day.get().as_deref() == Some(chosen.as_str())>{d.long.clone()}</option> }
                })
                .collect_view()
        })
    };
    let doctors = move || {
        ctx.layout.with(|l| {
            l.doctors
                .iter()
                .map(|d| {
                    let id = d.id.clone();
                    let chosen = id.clone();
                    view! { <option value=id.0 prop:selected=move || doctor.get().as_ref() == Some(&chosen)>{d.name.clone()}</option> }
                })
                .collect_view()
        })
    };
    view! {
        <section class="card agenda" id="agenda-section" aria-labelledby="agenda-title">
            <div class="console-head">
                <h2 id="agenda-title">{t!(i18n, view_agenda)}</h2>
                <button type="button" class="secondary no-print" id="agenda-print" on:click=print>{t!(i18n, print)}</button>
            </div>
            <div class="filters no-print">
                <div class="field">
                    <label for="agenda-day">{t!(i18n, agenda_day)}</label>
                    <select id="agenda-day" on:change=move |ev| picked.set(Some(event_target_value(&ev)))>{days}</select>
                </div>
                <div class="field">
                    <label for="agenda-doctor">{t!(i18n, agenda_doctor)}</label>
                    <select id="agenda-doctor" on:change=move |ev| {
                        let id = event_target_value(&ev);
                        doctor.set((!id.is_empty()).then_some(DoctorId(id)));
                    }>
                        <option value="" prop:selected=move || doctor.with(Option::is_none)>{t!(i18n, all_doctors)}</option>
                        {doctors}
                    </select>
                </div>
            </div>
            <p class="hint no-print" id="agenda-count" role="status">{move || if count() == 0 {
                t!(i18n, agenda_empty).into_any()
            } else {
                t!(i18n, agenda_count, count = count).into_any()
            }}</p>
            <div class="table-wrap">
                <table id="agenda" class="agenda-table" data-day=move || day.get()>
                    <caption>{caption}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, col_time)}</th>
                            <th scope="col">{t!(i18n, fact_doctor)}</th>
                            <th scope="col">{t!(i18n, fact_patient)}</th>
                            <th scope="col">{t!(i18n, fact_phone)}</th>
                            <th scope="col">{t!(i18n, fact_staff_code)}</th>
                            <th scope="col">{t!(i18n, col_state)}</th>
                            <th scope="col" class="no-print"><span class="visually-hidden">{t!(i18n, col_actions)}</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        // Keyed by booking, so that a row whose state changes keeps its
                        // buttons, and the focus on them.
                        <For each=move || rows.with(|rs| rs.iter().map(|r| (r.slot.clone(), r.code.clone())).collect::<Vec<_>>())
                            key=|k| k.clone()
                            children=move |(id, code)| view! { <AgendaRow id=id code=code rows=rows/> }/>
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// The class and `data-state` of a row's state.
fn state_name(state: RowState) -> &'static str {
    match state {
        RowState::Upcoming => "upcoming",
        RowState::Now => "now",
        RowState::Past => "past",
        RowState::NoShow => "no-show",
    }
}

/// One appointment of the agenda.
#[component]
fn AgendaRow(id: SlotId, code: BookingCode, rows: Memo<Vec<Row>>) -> impl IntoView {
    let slot = id;
    let ctx = expect_context::<Ctx>();
    let console = expect_context::<Console>();
    let i18n = use_i18n();
    let row = {
        let slot = slot.clone();
        Memo::new(move |_| rows.with(|rs| rs.iter().find(|r| r.slot == slot).cloned()))
    };
    let field = move |f: fn(&Row) -> String| move || row.with(|r| r.as_ref().map(f).unwrap_or_default());
    let state = move || row.with(|r| r.as_ref().map_or(RowState::Upcoming, |r| r.state));
    let started = move || row.with(|r| r.as_ref().is_some_and(Row::started));
    let busy = {
        let slot = slot.clone();
        move || !ctx.live() || ctx.staff.with(|s| s.busy_with() == Some(&slot))
    };
    // The patient and the time, for the buttons' names.
    let named = move |_: ()| -> (String, String) {
        row.with(|r| r.as_ref().map(|r| (r.patient.name.clone(), r.time.clone()))).unwrap_or_default()
    };
    let cancel = {
        let (slot, code) = (slot.clone(), code.clone());
        move |_| {
            let patient = named(()).0;
            let opener = format!("button.cancel[data-code='{code}']");
            console.ask.set(Some((Ask::Cancel { slot: slot.clone(), patient }, opener)));
        }
    };
    let no_show = {
        let slot = slot.clone();
        move |_| {
            let action = if state() == RowState::NoShow { Action::UndoNoShow } else { Action::NoShow };
            let message = ctx.staff.try_update(|s| s.act(action, slot.clone(), request_id()));
            if let Some(message) = message {
                ctx.connection.send(message);
            }
        }
    };
    let history = {
        let code = code.clone();
        move |_| {
            let ask = ctx.audit.try_update(|a| a.open(Subject::Booking(code.clone()), request_id()));
            if let Some(ask) = ask {
                ctx.connection.send(ask);
            }
        }
    };
    let busy_no_show = busy.clone();
    let no_show_button = move || {
        started().then(|| {
            let undo = state() == RowState::NoShow;
            let label = move || {
                let (patient, time) = named(());
                if undo {
                    t_string!(i18n, undo_no_show_name, patient = patient, time = time).to_string()
                } else {
                    t_string!(i18n, no_show_name, patient = patient, time = time).to_string()
                }
            };
            view! {
                <button type="button" class="secondary small no-show" aria-label=label
                    disabled=busy_no_show.clone() on:click=no_show.clone()>
                    {if undo { t!(i18n, undo_no_show).into_any() } else { t!(i18n, mark_no_show).into_any() }}
                </button>
            }
        })
    };
    view! {
        <tr data-code=code.clone() data-state=move || state_name(state())>
            <th scope="row">{field(|r| r.time.clone())}</th>
            <td>{field(|r| r.doctor_name.clone())}</td>
            <td class="patient">{field(|r| r.patient.name.clone())}</td>
            <td><a href=move || format!("tel:{}", field(|r| r.patient.phone.clone())())>{field(|r| r.patient.phone.clone())}</a></td>
            <td class="mono">{code.clone()}</td>
            <td><span class=move || format!("state {}", state_name(state()))>{move || row_state(state(), i18n.get_locale())}</span></td>
            <td class="no-print"><div class="row-actions">
                <button type="button" class="secondary small cancel" data-code=code.clone() disabled=busy.clone()
                    aria-label=move || { let (patient, time) = named(()); t_string!(i18n, cancel_name, patient = patient, time = time).to_string() }
                    on:click=cancel>{t!(i18n, cancel_booking)}</button>
                {no_show_button}
                <button type="button" class="secondary small history" data-code=code.clone() disabled=move || !ctx.live()
                    aria-label=move || { let (patient, time) = named(()); t_string!(i18n, history_name, patient = patient, time = time).to_string() }
                    on:click=history>{t!(i18n, history)}</button>
            </div></td>
        </tr>
    }
}
