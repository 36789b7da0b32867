//! The manage page at `/manage#<secret>`: one booking, to see, move or cancel.
//! The secret is the part after `#`, which browsers never send to the server,
//! so it stays out of the server's and any proxy's logs.

use leptos::prelude::*;

use super::{Frame, Page, Schedule, on_secret_in_address};
use crate::components::ManagePanel;
use crate::manage::ManageLink;
use crate::{Ctx, request_id};

/// The booking behind the secret in the address.
#[component]
pub(crate) fn ManagePage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // Not yet connected, the lookup is not sent; the connection's first
    // schedule asks for it then.
    on_secret_in_address(move |token| {
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
