//! The robot check in the browser: a challenge is asked for when the booking
//! dialog or the join-the-waitlist dialog opens and solved in short slices
//! between which the browser gets to draw and to take the patient's typing, so
//! that an honest patient, filling in the form meanwhile, waits for nothing. The
//! logic is in `pow`; this module supplies the clock, the pauses, and the
//! sending of whichever request waits for the check.

use leptos::prelude::*;
use protocol::{ClientMessage, Patient, WaitWindow};
use wasm_bindgen::JsValue;

use crate::booking::Booking;
use crate::join::Join;
use crate::pow::{ForBooking, Pow, Stepped};
use crate::say::Say;
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
    match ctx.pow.try_update(|p| p.start(clock_ms(), request_id())).flatten() {
        Some(challenge) => ask(ctx, challenge),
        None => true,
    }
}

/// Sends the `challenge` request that `Pow` made; `false` when the page is not
/// connected.
pub(crate) fn ask(ctx: Ctx, challenge: ClientMessage) -> bool {
    if ctx.connection.send(challenge) {
        return true;
    }
    // The request was never sent, so its answer will not come.
    ctx.pow.update(Pow::on_disconnect);
    false
}

/// Solves the challenge named `nonce` a slice at a time. It stops by itself when
/// the page moves on to another challenge.
pub(crate) fn solve(ctx: Ctx, nonce: String) {
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
                    carry_on(ctx);
                    break;
                }
                Stepped::Stale => {
                    carry_on(ctx);
                    break;
                }
                Stepped::Failed(problem) => {
                    ctx.booking.update(|b| b.on_pow_failed(problem));
                    ctx.join.update(|j| j.on_pow_failed(problem));
                    break;
                }
                Stepped::Stopped => break,
            }
        }
    });
}

/// After a challenge was solved, or dropped because it went stale: a waiting
/// booking or join goes out, or asks for a fresh challenge when the solution
/// came too late; an open form gets a fresh challenge started, so that the
/// patient does not wait for it after confirming. A closed dialog asks for
/// nothing, so that a page left open in the background does not keep solving.
fn carry_on(ctx: Ctx) {
    if ctx.booking.with_untracked(Booking::waiting) {
        send_waiting(ctx);
    } else if ctx.join.with_untracked(Join::waiting) {
        send_join_waiting(ctx);
    } else if ctx.booking.with_untracked(|b| matches!(b, Booking::Form { .. }))
        || ctx.join.with_untracked(Join::form)
    {
        // Not being connected is said when the patient confirms.
        prepare(ctx);
    }
}

/// Submits the booking form: sends the booking when the robot check is done,
/// and otherwise lets it wait for the check.
pub(crate) fn submit(ctx: Ctx, patient: Patient) {
    let proof = ctx.pow.try_update(|p| p.ready(clock_ms())).flatten();
    match ctx.booking.try_update(|b| b.submit(patient, proof, request_id())).flatten() {
        Some(book) => send_booking(ctx, book),
        // Waiting for the check (or nothing to send): make sure it is under way.
        None => send_waiting(ctx),
    }
}

/// Moves on a booking that waits for the robot check: sends it with a fresh
/// solution, or else makes sure a fresh challenge is on its way, so that the
/// patient never waits for a check that will not come.
fn send_waiting(ctx: Ctx) {
    if !ctx.booking.with_untracked(Booking::waiting) {
        return;
    }
    match ctx.pow.try_update(|p| p.for_booking(clock_ms(), request_id())) {
        Some(ForBooking::Send(proof)) => {
            if let Some(book) = ctx.booking.try_update(|b| b.on_proof(proof, request_id())).flatten() {
                send_booking(ctx, book);
            }
        }
        Some(ForBooking::Ask(challenge)) => {
            if !ask(ctx, challenge) {
                not_connected(ctx);
            }
        }
        Some(ForBooking::Wait) | None => {}
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
            *b = Booking::Failed { slot, problem: Say::NotConnected };
        }
    });
}

/// Submits the join form: sends the join when the robot check is done, and
/// otherwise lets it wait for the check.
pub(crate) fn submit_join(ctx: Ctx, window: WaitWindow, patient: Patient) {
    let proof = ctx.pow.try_update(|p| p.ready(clock_ms())).flatten();
    match ctx.join.try_update(|j| j.submit(window, patient, proof, request_id())).flatten() {
        Some(join) => send_join(ctx, join),
        None => send_join_waiting(ctx),
    }
}

/// Moves on a join that waits for the robot check, as `send_waiting` does a
/// booking.
fn send_join_waiting(ctx: Ctx) {
    if !ctx.join.with_untracked(Join::waiting) {
        return;
    }
    match ctx.pow.try_update(|p| p.for_booking(clock_ms(), request_id())) {
        Some(ForBooking::Send(proof)) => {
            if let Some(join) = ctx.join.try_update(|j| j.on_proof(proof, request_id())).flatten() {
                send_join(ctx, join);
            }
        }
        Some(ForBooking::Ask(challenge)) => {
            if !ask(ctx, challenge) {
                join_not_connected(ctx);
            }
        }
        Some(ForBooking::Wait) | None => {}
    }
}

fn send_join(ctx: Ctx, join: ClientMessage) {
    if !ctx.connection.send(join) {
        join_not_connected(ctx);
    }
}

fn join_not_connected(ctx: Ctx) {
    ctx.join.update(|j| {
        if let Some(doctor) = j.doctor().cloned() {
            *j = Join::Failed { doctor, problem: Say::NotConnected };
        }
    });
}
