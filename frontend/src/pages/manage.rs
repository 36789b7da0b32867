//! The manage page at `/manage#<secret>`: one booking, to see, move or cancel.
//! The secret is the part after `#`, which browsers never send to the server,
//! so it stays out of the server's and any proxy's logs.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::{Frame, Page, Schedule};
use crate::components::ManagePanel;
use crate::manage::ManageLink;
use crate::{Ctx, request_id};

/// The booking behind the secret in the address.
#[component]
pub(crate) fn ManagePage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let location = use_location();
    let own_path = location.pathname.get_untracked();
    // Another manage link typed into the address bar changes only the part
    // after `#`, which does not load the page again: each secret gets a link of
    // its own. Not yet connected, the lookup is not sent; the connection's
    // first schedule asks for it then. Leaving for another page changes the
    // address before this page is gone: that address's secret, if any, is not
    // a manage link's, and looking it up would count as a wrong one.
    Effect::new(move |_| {
        let token = location.hash.get().trim_start_matches('#').to_owned();
        if location.pathname.get() != own_path {
            return;
        }
        let lookup = ctx.manage.try_update(|m| m.insert(ManageLink::new(token)).lookup(request_id()));
        if let Some(lookup) = lookup {
            ctx.connection.send(lookup);
        }
    });
    on_cleanup(move || ctx.manage.set(None));
    // The schedule shows only while the patient chooses a new time.
    let picking = move || ctx.manage.with(|m| m.as_ref().is_some_and(ManageLink::picking));
    view! {
        <Frame page=Page::Manage>
            <ManagePanel/>
            <Show when=picking>
                <Schedule/>
            </Show>
        </Frame>
    }
}

/// The manage link of a booking, on this page's own address.
pub(crate) fn manage_url(token: &str) -> String {
    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    format!("{origin}/manage#{token}")
}
