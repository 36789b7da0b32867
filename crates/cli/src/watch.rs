//! `booking watch`: the live schedule in the terminal. On a terminal the view
//! is redrawn in place as changes arrive; piped, the schedule is printed once
//! and then a line per change; with `--json`, one object per line.

mod live;
mod view;

use std::io::{IsTerminal, Write};
use std::time::Duration;

use chrono::Utc;
use protocol::{Schedule, Slot};
use serde::Serialize;
use serde_json::json;

use crate::address::Server;
use crate::cli::WatchArgs;
use crate::failure::Failure;
use crate::output::Output;
use live::{Event, Link, Live};
use view::{Filter, Look};

/// How often a redrawn view is drawn again without a change, so that slots
/// turn `past` as time goes by.
const REFRESH: Duration = Duration::from_secs(30);

/// One line of `--json` output: the event's name, then its fields.
#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    event: &'a str,
    #[serde(flatten)]
    body: T,
}

/// Runs `watch` until interrupted, or until the server sends what cannot be
/// read.
pub(crate) async fn run(out: &Output, args: WatchArgs) -> Result<(), Failure> {
    let server = Server::parse(&args.url)?;
    let mut live = Live::connect(&server.ws).await?;
    let schedule = live.schedule().clone();
    let unknown: Vec<&String> =
        args.doctor.iter().filter(|id| !schedule.doctors.iter().any(|d| &d.id.0 == *id)).collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = schedule.doctors.iter().map(|d| d.id.0.as_str()).collect();
        return Err(Failure::Usage(format!(
            "No doctor {}: the doctors are {}.",
            unknown.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(", "),
            known.join(", ")
        )));
    }
    let mut screen = Screen {
        out,
        filter: Filter { doctors: args.doctor, days: args.days },
        compact: args.compact,
        redraw: !out.json && std::io::stdout().is_terminal(),
        link: Link::Live,
        schedule,
    };
    // The connection runs on its own task, so that the view can be redrawn
    // on a timer without interrupting a request half sent.
    let (sender, mut events) = tokio::sync::mpsc::channel(256);
    let follower = tokio::spawn(async move {
        loop {
            let seen = live.next().await.map(|event| (event, live.schedule().clone()));
            let failed = seen.is_err();
            if sender.send(seen).await.is_err() || failed {
                return;
            }
        }
    });
    screen.show_schedule();
    let mut refresh = tokio::time::interval(REFRESH);
    refresh.tick().await;
    let result = loop {
        tokio::select! {
            seen = events.recv() => match seen {
                Some(Ok((event, schedule))) => screen.show(event, schedule),
                Some(Err(failure)) => break Err(failure),
                None => break Ok(()),
            },
            _ = refresh.tick(), if screen.redraw => screen.draw(),
        }
    };
    follower.abort();
    result
}

/// The output of one `watch`, and what it shows.
struct Screen<'a> {
    out: &'a Output,
    filter: Filter,
    compact: bool,
    /// Whether the view is redrawn in place (on a terminal).
    redraw: bool,
    link: Link,
    schedule: Schedule,
}

impl Screen<'_> {
    fn look(&self) -> Look<'_> {
        Look { paint: self.out.paint, language: &self.out.language, compact: self.compact, now: Utc::now() }
    }

    fn show(&mut self, event: Event, schedule: Schedule) {
        self.schedule = schedule;
        match event {
            Event::Schedule => self.show_schedule(),
            Event::Changed(slot) => self.show_change(&slot),
            Event::Link(link) => {
                self.link = link;
                self.show_link();
            }
        }
    }

    fn show_schedule(&self) {
        if self.out.json {
            self.json("schedule", self.filter.apply(&self.schedule));
        } else if self.redraw {
            self.draw();
        } else {
            for line in view::render(&self.schedule, &self.filter, self.link, self.look()) {
                self.out.text(&line);
            }
        }
    }

    fn show_change(&self, slot: &Slot) {
        if !self.filter.shows(&self.schedule, slot) {
            return;
        }
        let version = self.schedule.version;
        if self.out.json {
            self.json("update", json!({ "version": version, "slot": slot }));
        } else if self.redraw {
            self.draw();
        } else {
            self.out.text(&view::change_line(&self.schedule, slot, version, self.look()));
        }
    }

    fn show_link(&self) {
        let version = self.schedule.version;
        if self.out.json {
            let state = match self.link {
                Link::Live => "live",
                Link::Reconnecting => "reconnecting",
            };
            self.json("link", json!({ "state": state, "version": version }));
        } else if self.redraw {
            self.draw();
        } else {
            self.out.text(&format!("link: {}", view::link_line(self.link, version, self.out.paint)));
        }
    }

    fn json(&self, event: &str, body: impl Serialize) {
        // Written straight from the struct, so that `event` comes first.
        match serde_json::to_string(&Line { event, body }) {
            Ok(line) => self.out.text(&line),
            Err(e) => eprintln!("booking: cannot encode an event: {e}"),
        }
    }

    /// Draws the view over the previous one: from the top left, each line
    /// cleared to its end, and what the last view had below cleared too.
    fn draw(&self) {
        let mut frame = String::from("\x1b[H");
        for line in view::render(&self.schedule, &self.filter, self.link, self.look()) {
            frame.push_str(&line);
            frame.push_str("\x1b[K\n");
        }
        frame.push_str("\x1b[J");
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(frame.as_bytes());
        let _ = stdout.flush();
    }
}
