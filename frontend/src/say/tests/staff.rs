//! Tests of the staff console's words: every kind of change in the audit
//! trail, everyone who makes one, roles, where appointments stand, and the
//! problems and outcomes of an admin's changes, in both languages.

use protocol::{Actor, AuditAction, StaffRole};

use super::*;
use crate::say::staff as words;
use crate::staff::admin::AccountProblem;
use crate::staff::agenda::RowState;
use crate::staff::audit::ACTIONS;

#[test]
fn every_kind_of_change_has_words_of_its_own_in_both_languages() {
    for a in ACTIONS {
        assert_translated(&format!("{a:?}"), words::action(a, Locale::en), words::action(a, Locale::ru));
    }
    for l in LOCALES {
        let words: BTreeSet<&str> = ACTIONS.iter().map(|a| words::action(*a, l)).collect();
        assert_eq!(words.len(), ACTIONS.len(), "two kinds of change read the same in {l:?}");
    }
    assert_eq!(words::action(AuditAction::NoShow, Locale::en), "Marked as a no-show");
}

#[test]
fn everyone_who_makes_a_change_is_named_in_both_languages() {
    let actors = [
        Actor::Patient,
        Actor::ManageLink,
        Actor::WaitlistLink,
        Actor::Staff { name: "rita".into() },
        Actor::System,
    ];
    for actor in &actors {
        let (en, ru) = (words::actor(actor, Locale::en), words::actor(actor, Locale::ru));
        assert_translated(&format!("{actor:?}"), &en, &ru);
    }
    assert_eq!(words::actor(&Actor::ManageLink, Locale::en), "Patient via manage link");
    assert!(words::actor(&Actor::Staff { name: "rita".into() }, Locale::ru).contains("rita"));
    let words: BTreeSet<String> = actors.iter().map(|a| words::actor(a, Locale::ru)).collect();
    assert_eq!(words.len(), actors.len());
}

#[test]
fn roles_appointment_states_and_account_problems_have_words_in_both_languages() {
    for role in [StaffRole::Receptionist, StaffRole::Admin] {
        assert_translated(&format!("{role:?}"), words::role(role, Locale::en), words::role(role, Locale::ru));
    }
    for state in [RowState::Upcoming, RowState::Now, RowState::Past, RowState::NoShow] {
        let (en, ru) = (words::row_state(state, Locale::en), words::row_state(state, Locale::ru));
        assert_translated(&format!("{state:?}"), en, ru);
    }
    for problem in [AccountProblem::Name, AccountProblem::Password] {
        let (en, ru) =
            (words::account_problem(problem, Locale::en), words::account_problem(problem, Locale::ru));
        assert_translated(&format!("{problem:?}"), en, ru);
    }
    assert!(words::account_problem(AccountProblem::Password, Locale::en).contains("12"));
}

#[test]
fn a_refused_change_of_an_admin_says_the_servers_reason_for_that_change() {
    let l = Locale::en;
    let last_admin = Say::AdminRejected(AdminAct::Remove).text(l);
    assert!(last_admin.contains("last admin"), "{last_admin}");
    let exists = Say::AdminRejected(AdminAct::Add).text(l);
    assert!(exists.contains("already"), "{exists}");
    let unknown = Say::AdminRefused(AdminAct::Remove, BookingFailure::NotFound).text(l);
    assert_eq!(unknown, "No account has that name.");
    // A reason with nothing special to say about the change is said as usual.
    assert_eq!(
        Say::AdminRefused(AdminAct::Erase, BookingFailure::Past).text(l),
        failure(BookingFailure::Past, l)
    );
}

#[test]
fn the_names_of_the_agendas_buttons_start_with_the_words_they_show() {
    // WCAG 2.5.3: whoever says what they see must be able to name the button.
    for l in LOCALES {
        let (patient, time) = ("Anna", "09:00");
        let pairs = [
            (
                td_string!(l, cancel_booking).to_string(),
                td_string!(l, cancel_name, patient = patient, time = time),
            ),
            (
                td_string!(l, mark_no_show).to_string(),
                td_string!(l, no_show_name, patient = patient, time = time),
            ),
            (
                td_string!(l, undo_no_show).to_string(),
                td_string!(l, undo_no_show_name, patient = patient, time = time),
            ),
            (td_string!(l, history).to_string(), td_string!(l, history_name, patient = patient, time = time)),
        ];
        for (shown, name) in pairs {
            let name = name.to_string();
            assert!(
                name.starts_with(&shown) && name.contains(patient),
                "{l:?}: {name:?} does not start with {shown:?}"
            );
        }
        let remove = td_string!(l, remove_account_name, name = "rita").to_string();
        assert!(remove.to_lowercase().contains(&td_string!(l, remove_account).to_lowercase()), "{remove}");
    }
}
