//! The waitlist page at `/wait#<secret>`: one waitlist entry, its place in
//! line and the offers made to it as they come. The secret is the part after
//! `#`, which browsers never send to the server, as on the manage page.

use leptos::prelude::*;

use super::{Frame, Page, on_secret_in_address};
use crate::components::WaitPanel;
use crate::waitlist::{Wait, WaitLink};
use crate::{Ctx, request_id};

/// The waitlist entry behind the secret in the address.
#[component]
pub(crate) fn WaitPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // Not yet connected, the watch is not sent; the connection's first
    // schedule asks for it then, and every later connection again.
    on_secret_in_address(move |token| {
        if token.is_empty() {
            let mut link = WaitLink::new(token);
            link.state = Wait::NotFound;
            ctx.wait.set(Some(link));
            return;
        }
        let watch = ctx.wait.try_update(|w| w.insert(WaitLink::new(token)).watch(request_id()));
        if let Some(watch) = watch {
            ctx.connection.send(watch);
        }
    });
    on_cleanup(move || ctx.wait.set(None));
    view! {
        <Frame page=Page::Wait>
            <WaitPanel/>
        </Frame>
    }
}

/// The address of a waitlist entry's page, on this site.
pub(crate) fn wait_path(token: &str) -> String {
    format!("/wait#{token}")
}

/// The waitlist link of an entry, in full, to keep.
pub(crate) fn wait_url(token: &str) -> String {
    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    format!("{origin}{}", wait_path(token))
}
