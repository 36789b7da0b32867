//! The admins' section of the staff console: the staff accounts (adding and
//! removing them) and erasing one booking's patient details on request.

use leptos::prelude::*;
use protocol::StaffRole;

use super::console::{Ask, Console};
use crate::i18n::{t, t_string, use_i18n};
use crate::say::Say;
use crate::say::staff::{account_problem, role};
use crate::staff::admin::{AccountProblem, AdminAct};
use crate::{Ctx, language, request_id, time};

/// What the last change said, in the section of the change (`erase` or the
/// accounts): a polite status when done, an alert when not.
#[component]
fn Said(
    /// Whether this is the erasure's section.
    erase: bool,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let about_erasure = |say: Say| {
        matches!(
            say,
            Say::AdminDone(AdminAct::Erase)
                | Say::AdminRefused(AdminAct::Erase, _)
                | Say::AdminRejected(AdminAct::Erase)
        )
    };
    let said = move || {
        let (ok, say) = ctx.admin.with(|a| a.said)?;
        (about_erasure(say) == erase).then(|| (ok, say.text(i18n.get_locale())))
    };
    view! {
        <div class="said" id=if erase { "erase-said" } else { "admin-said" }>
            {move || said().map(|(ok, text)| if ok {
                view! { <p class="done" role="status">{text}</p> }.into_any()
            } else {
                view! { <p class="problem" role="alert">{text}</p> }.into_any()
            })}
        </div>
    }
}

/// The staff accounts and the erasure form.
#[component]
pub(crate) fn StaffAccounts() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let console = expect_context::<Console>();
    let i18n = use_i18n();
    Effect::new(move |_| {
        if ctx.live() {
            let ask = ctx.admin.try_update(|a| a.load(request_id()));
            if let Some(ask) = ask {
                ctx.connection.send(ask);
            }
        }
    });
    let me = move || ctx.staff.with(|s| s.me.as_ref().map(|m| m.name.clone())).unwrap_or_default();
    let busy = move || ctx.admin.with(|a| a.busy()) || !ctx.live();
    let rows = move || {
        let l = i18n.get_locale();
        let zone = ctx.layout.with(|l| l.time_zone.clone());
        let me = me();
        ctx.admin
            .with(|a| a.accounts.clone())
            .into_iter()
            .map(|account| {
                let ms = account.created_at.timestamp_millis();
                let created =
                    format!("{} {}", time::day_label(ms, &zone, language::intl(l)), time::time_label(ms, &zone));
                let name = account.name.clone();
                let label = t_string!(i18n, remove_account_name, name = name.clone()).to_string();
                let remove = {
                    let name = name.clone();
                    move |_| {
                        let opener = format!("button.remove-account[data-name='{name}']");
                        console.ask.set(Some((Ask::Remove(name.clone()), opener)));
                    }
                };
                let you = (name == me).then(|| view! { " " <span class="hint">{t!(i18n, you)}</span> });
                let (row_name, button_name) = (name.clone(), name.clone());
                view! {
                    <tr data-name=row_name>
                        <th scope="row">{name.clone()}{you}</th>
                        <td>{role(account.role, l)}</td>
                        <td>{created}</td>
                        <td>
                            <button type="button" class="secondary small remove-account" data-name=button_name
                                aria-label=label disabled=busy on:click=remove>{t!(i18n, remove_account)}</button>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <section class="card" id="staff-accounts" aria-labelledby="accounts-title">
            <h2 id="accounts-title">{t!(i18n, accounts_title)}</h2>
            <Show when=move || !ctx.admin.with(|a| a.loaded)>
                <p class="hint" role="status">{t!(i18n, accounts_loading)}</p>
            </Show>
            <div class="table-wrap">
                <table class="accounts-table" aria-labelledby="accounts-title">
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, col_name)}</th>
                            <th scope="col">{t!(i18n, col_role)}</th>
                            <th scope="col">{t!(i18n, col_created)}</th>
                            <th scope="col"><span class="visually-hidden">{t!(i18n, col_actions)}</span></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <Said erase=false/>
            <AddAccount/>
        </section>
        <Erase/>
    }
}

/// The form that adds an account.
#[component]
fn AddAccount() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let admin_role = RwSignal::new(false);
    let problem = RwSignal::new(None::<AccountProblem>);
    let busy = move || ctx.admin.with(|a| a.busy()) || !ctx.live();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let role = if admin_role.get_untracked() { StaffRole::Admin } else { StaffRole::Receptionist };
        let (typed, secret) = (name.get_untracked().trim().to_owned(), password.get_untracked());
        match ctx.admin.try_update(|a| a.add(typed, role, secret, request_id())) {
            Some(Ok(message)) => {
                problem.set(None);
                if let Some(message) = message {
                    ctx.connection.send(message);
                    name.set(String::new());
                    password.set(String::new());
                }
            }
            Some(Err(wrong)) => {
                problem.set(Some(wrong));
                super::focus(if wrong == AccountProblem::Name {
                    "#new-staff-name"
                } else {
                    "#new-staff-password"
                });
            }
            None => {}
        }
    };
    let invalid = move |which: AccountProblem| move || (problem.get() == Some(which)).to_string();
    let described = move |which: AccountProblem, hint: &'static str, error: &'static str| {
        move || if problem.get() == Some(which) { format!("{hint} {error}") } else { hint.to_owned() }
    };
    let said = move |which: AccountProblem| {
        move || (problem.get() == Some(which)).then(|| account_problem(which, i18n.get_locale()))
    };
    view! {
        <form class="form narrow" id="add-staff-form" on:submit=submit novalidate aria-labelledby="add-account-title">
            <h3 id="add-account-title">{t!(i18n, add_account_title)}</h3>
            <label for="new-staff-name">{t!(i18n, staff_name_label)}</label>
            <input id="new-staff-name" type="text" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="64"
                aria-invalid=invalid(AccountProblem::Name)
                aria-describedby=described(AccountProblem::Name, "new-name-hint", "new-name-problem")
                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
            <p class="hint" id="new-name-hint">{t!(i18n, new_name_hint)}</p>
            <p class="field-problem" id="new-name-problem">{said(AccountProblem::Name)}</p>
            <label for="new-staff-role">{t!(i18n, col_role)}</label>
            <select id="new-staff-role" on:change=move |ev| admin_role.set(event_target_value(&ev) == "admin")>
                <option value="receptionist" prop:selected=move || !admin_role.get()>{move || role(StaffRole::Receptionist, i18n.get_locale())}</option>
                <option value="admin" prop:selected=move || admin_role.get()>{move || role(StaffRole::Admin, i18n.get_locale())}</option>
            </select>
            <label for="new-staff-password">{t!(i18n, staff_password_label)}</label>
            <input id="new-staff-password" type="password" autocomplete="new-password"
                aria-invalid=invalid(AccountProblem::Password)
                aria-describedby=described(AccountProblem::Password, "new-password-hint", "new-password-problem")
                prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
            <p class="hint" id="new-password-hint">{t!(i18n, new_password_hint)}</p>
            <p class="field-problem" id="new-password-problem">{said(AccountProblem::Password)}</p>
            <div class="actions start">
                <button type="submit" class="primary" id="add-staff" disabled=busy>{t!(i18n, add_account)}</button>
            </div>
        </form>
    }
}

/// Erasing one booking's patient details, after asking.
#[component]
fn Erase() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let console = expect_context::<Console>();
    let i18n = use_i18n();
    let code = RwSignal::new(String::new());
    let missing = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = code.get_untracked().trim().to_uppercase();
        missing.set(typed.is_empty());
        if typed.is_empty() {
            super::focus("#erase-code");
            return;
        }
        console.ask.set(Some((Ask::Erase(typed), "#erase-open".into())));
    };
    view! {
        <section class="card" id="erase" aria-labelledby="erase-title">
            <h2 id="erase-title">{t!(i18n, erase_title)}</h2>
            <p class="hint" id="erase-text">{t!(i18n, erase_text)}</p>
            <form class="form narrow" on:submit=submit novalidate>
                <label for="erase-code">{t!(i18n, fact_code)}</label>
                <input id="erase-code" type="text" class="mono" autocomplete="off" autocapitalize="characters" spellcheck="false"
                    aria-invalid=move || missing.get().to_string()
                    aria-describedby=move || if missing.get() { "erase-text erase-problem" } else { "erase-text" }
                    prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev))/>
                <Said erase=true/>
                <p class="field-problem" id="erase-problem">{move || missing.get().then_some(t!(i18n, erase_enter_code))}</p>
                <div class="actions start">
                    <button type="submit" class="danger" id="erase-open" disabled=move || ctx.admin.with(|a| a.busy()) || !ctx.live()>
                        {t!(i18n, erase_button)}
                    </button>
                </div>
            </form>
        </section>
    }
}
