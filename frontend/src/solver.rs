//! The robot check in the browser: a challenge is asked for when the booking
//! dialog opens and solved in short slices between which the browser gets to
//! draw and to take the patient's typing, so that an honest patient, filling in
//! the form meanwhile, waits for nothing. The logic is in `pow`; this module
//! supplies the clock, the pauses, and the sending.

use leptos::prelude::*;
use protocol::{ClientMessage, Patient, ServerMessage};
use wasm_bindgen::JsValue;

use crate::booking::Booking;
use crate::pow::{Answered, Pow, Stepped};
use crate::{Ctx, request_id};

/// The page's own clock in milliseconds (`performance.now()`), which never jumps
/// when the computer's clock is set.
pub(crate) fn clock_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// Makes sure a solution is ready or on its way, asking the server for a
/// challenge when needed; `false` when one was needed and could not be asked
/// for (the page is not connected).
pub(crate) fn prepare(ctx: Ctx) -> bool {
    let Some(message) = ctx.pow.try_update(|p| p.start(clock_ms(), request_id())).flatten() else {
        return true;
    };
    if ctx.connection.send(message) {
        return true;
    }
    // The request was never sent, so its answer will not come.
    ctx.pow.update(Pow::on_disconnect);
    false
}

/// Takes a server reply; `true` when it was for the robot check.
pub(crate) fn on_reply(ctx: Ctx, reply: &ServerMessage) -> bool {
    let Some(answered) = ctx.pow.try_update(|p| p.on_reply(reply, clock_ms())).flatten() else {
        return false;
    };
    match answered {
        Answered::Solve { nonce } => solve(ctx, nonce),
        Answered::Failed { message } => ctx.booking.update(|b| b.on_pow_failed(&message)),
    }
    true
}

/// Solves the challenge named `nonce` a slice at a time. It stops by itself when
/// the page moves on to another challenge.
fn solve(ctx: Ctx, nonce: String) {
    leptos::task::spawn_local(async move {
        loop {
            match ctx.pow.try_update(|p| p.step(&nonce, clock_ms)).unwrap_or(Stepped::Stopped) {
                // A zero timeout lets the browser handle input and draw before
                // the next slice.
                Stepped::Continue => gloo_timers::future::TimeoutFuture::new(0).await,
                Stepped::Solved(ms) => {
                    web_sys::console::log_1(&JsValue::from_str(&format!(
                        "The check that you are not a robot took {ms:.0} ms."
                    )));
                    send_waiting(ctx);
                    break;
                }
                Stepped::Stopped => break,
            }
        }
    });
}

/// Submits the booking form: sends the booking when the robot check is done,
/// and otherwise lets it wait for the check.
pub(crate) fn submit(ctx: Ctx, patient: Patient) {
    let proof = ctx.pow.try_update(|p| p.ready(clock_ms())).flatten();
    match ctx.booking.try_update(|b| b.submit(patient, proof, request_id())).flatten() {
        Some(book) => send_booking(ctx, book),
        // Waiting for the check: make sure it is under way.
        None if ctx.booking.with_untracked(Booking::waiting) && !prepare(ctx) => not_connected(ctx),
        None => {}
    }
}

/// Sends the booking of a patient who confirmed before the check was done.
fn send_waiting(ctx: Ctx) {
    if !ctx.booking.with_untracked(Booking::waiting) {
        return;
    }
    let Some(proof) = ctx.pow.try_update(|p| p.ready(clock_ms())).flatten() else { return };
    if let Some(book) = ctx.booking.try_update(|b| b.on_proof(proof, request_id())).flatten() {
        send_booking(ctx, book);
    }
}

fn send_booking(ctx: Ctx, book: ClientMessage) {
    if !ctx.connection.send(book) {
        not_connected(ctx);
    }
}

fn not_connected(ctx: Ctx) {
    ctx.booking.update(|b| {
        if let Some(slot) = b.slot().cloned() {
            *b = Booking::Failed {
                slot,
                message: "Not connected, so nothing was sent. Please try again once the page is live.".into(),
            };
        }
    });
}
