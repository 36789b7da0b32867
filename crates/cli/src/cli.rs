//! The command line: every command, its arguments and its help with examples.

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

/// The help's closing part: examples and the exit codes.
const AFTER_HELP: &str = "\
Examples:
  booking watch http://127.0.0.1:8080/
  booking book http://127.0.0.1:8080/ therapist-20261125-0930 --name 'Anna Petrova' --phone '+7 912 345-67-89'
  booking show 'http://127.0.0.1:8080/manage#9f2c…'
  BOOKING_STAFF_PASSWORD=… booking staff --url http://127.0.0.1:8080/ --name rita today

Every command takes --json: one JSON object on stdout (`watch`: one per line).

Exit codes:
  0  done
  1  refused by the server (the reason is printed: the slot is already booked, …)
  2  usage error (a wrong argument, a malformed link or address, no password)
  3  cannot connect to the server, or the connection was lost
  4  login refused (a wrong name or password) or not allowed for this account
  5  the server failed, or answered what this program does not understand";

/// The clinic's live schedule, bookings and staff work, from a terminal.
#[derive(Debug, Parser)]
#[command(name = "booking", version, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    /// Print JSON for scripts: one object, or one per line for `watch`. A
    /// failure is `{"ok":false,"reason":…,"message":…}` on stdout.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// The language of the clinic's and doctors' names, as a BCP 47 tag (`en`,
    /// `ru`); the clinic's own language when it has no names in this one.
    #[arg(long, global = true, env = "BOOKING_LANG", default_value = "en")]
    pub(crate) lang: String,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Show the live schedule by day and doctor, updated as it changes.
    ///
    /// On a terminal the view is redrawn in place, with colours: free green,
    /// held yellow, booked red, blocked grey, past dim. Piped, it prints the
    /// schedule once and then a line per change. A dropped connection is made
    /// again and resumed from the version held, as the page does.
    #[command(after_help = "\
Examples:
  booking watch http://127.0.0.1:8080/
  booking watch ws://127.0.0.1:8080/ws --doctor therapist --days 2
  booking watch --json http://127.0.0.1:8080/ | jq -c 'select(.event == \"update\")'

With --json, the first line is {\"event\":\"schedule\",…} (the schedule, as the server
sends it), then {\"event\":\"update\",\"version\":…,\"slot\":{…}} for every change and
{\"event\":\"link\",\"state\":\"reconnecting\"|\"live\",\"version\":…} when the connection
drops or is back.")]
    Watch(WatchArgs),
    /// Book a slot: prints the booking code and the manage link.
    ///
    /// The server's proof-of-work challenge is solved first, as the page does.
    #[command(after_help = "\
Examples:
  booking book http://127.0.0.1:8080/ therapist-20261125-0930 --name 'Anna Petrova' --phone '+7 912 345-67-89'
  booking book --json http://127.0.0.1:8080/ dentist-20261126-1030 --name Ivan --phone 89031112233

Slot ids are those `booking watch` shows (and `booking watch --json` gives).")]
    Book(BookArgs),
    /// Show the booking behind a manage link.
    #[command(after_help = "Example:\n  booking show 'http://127.0.0.1:8080/manage#9f2c…'")]
    Show {
        /// The booking's manage link, as `book` printed it.
        link: String,
    },
    /// Cancel the booking behind a manage link.
    #[command(after_help = "Example:\n  booking cancel 'http://127.0.0.1:8080/manage#9f2c…'")]
    Cancel {
        /// The booking's manage link, as `book` printed it.
        link: String,
    },
    /// Move the booking behind a manage link to another free slot.
    #[command(
        after_help = "Example:\n  booking move 'http://127.0.0.1:8080/manage#9f2c…' therapist-20261126-1000"
    )]
    Move {
        /// The booking's manage link, as `book` printed it.
        link: String,
        /// The free slot to move to.
        slot: String,
    },
    /// Staff work: the day's bookings with patients, cancelling, blocking,
    /// ending holds and the audit trail.
    ///
    /// The password comes from BOOKING_STAFF_PASSWORD, or the first line of
    /// stdin with --password-stdin, or is asked for at the terminal; never
    /// from the command line, where other users of the machine could read it.
    #[command(after_help = "\
Examples:
  export BOOKING_URL=http://127.0.0.1:8080/ BOOKING_STAFF_NAME=rita
  read -rs BOOKING_STAFF_PASSWORD && export BOOKING_STAFF_PASSWORD
  booking staff today
  booking staff agenda --day 2026-11-25
  booking staff block therapist-20261125-1200
  booking staff history --code K7M2-QX4P
  pass show clinic/rita | booking staff --password-stdin cancel therapist-20261125-0930")]
    Staff(StaffArgs),
}

/// The arguments of `watch`.
#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// The server: its page's address (`http://host:port/`) or its WebSocket
    /// URL (`ws://host:port/ws`).
    pub(crate) url: String,
    /// Show only the first N days.
    #[arg(long, value_name = "N")]
    pub(crate) days: Option<usize>,
    /// Show only this doctor (by id; may be given more than once).
    #[arg(long, value_name = "ID")]
    pub(crate) doctor: Vec<String>,
    /// Show each slot's state without its id, for a narrow terminal.
    #[arg(long)]
    pub(crate) compact: bool,
}

/// The arguments of `book`.
#[derive(Debug, Args)]
pub(crate) struct BookArgs {
    /// The server: its page's address or its WebSocket URL.
    pub(crate) url: String,
    /// The slot to book, by id.
    pub(crate) slot: String,
    /// The patient's full name.
    #[arg(long)]
    pub(crate) name: String,
    /// A phone number the clinic can call.
    #[arg(long)]
    pub(crate) phone: String,
}

/// The arguments of `staff`.
#[derive(Debug, Args)]
pub(crate) struct StaffArgs {
    /// The server: its page's address or its WebSocket URL.
    #[arg(long, env = "BOOKING_URL")]
    pub(crate) url: String,
    /// The staff account's login name.
    #[arg(long, env = "BOOKING_STAFF_NAME")]
    pub(crate) name: String,
    /// Read the password from the first line of stdin.
    #[arg(long)]
    pub(crate) password_stdin: bool,
    #[command(subcommand)]
    pub(crate) command: StaffCommand,
}

/// A staff command.
#[derive(Debug, Subcommand)]
pub(crate) enum StaffCommand {
    /// Today's bookings with their patients.
    Today,
    /// One day's bookings with their patients (today's by default).
    Agenda {
        /// The clinic's local day, as YYYY-MM-DD.
        #[arg(long)]
        day: Option<NaiveDate>,
    },
    /// Cancel the booking of a slot.
    Cancel {
        /// The booked slot.
        slot: String,
    },
    /// Take a free slot out of the schedule.
    Block {
        /// The slot to block.
        slot: String,
    },
    /// Put a blocked slot back into the schedule.
    Unblock {
        /// The blocked slot.
        slot: String,
    },
    /// End whoever's hold of a slot; it turns free.
    EndHold {
        /// The held slot.
        slot: String,
    },
    /// The audit trail of a slot or a booking, newest first.
    History(HistoryArgs),
}

/// The arguments of `staff history`.
#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    #[command(flatten)]
    pub(crate) about: HistoryAbout,
    /// At most this many rows.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub(crate) limit: u32,
}

/// Whose history `staff history` shows: a slot's or a booking's.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct HistoryAbout {
    /// The rows about this slot.
    #[arg(long)]
    pub(crate) slot: Option<String>,
    /// The rows about this booking code.
    #[arg(long)]
    pub(crate) code: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn history_needs_a_slot_or_a_code_but_not_both() {
        let parse = |args: &[&str]| {
            let base = ["booking", "staff", "--url", "h:1", "--name", "rita", "history"];
            Cli::try_parse_from(base.iter().chain(args)).map(|_| ())
        };
        assert!(parse(&["--slot", "s", "--limit", "5"]).is_ok());
        assert!(parse(&["--code", "K"]).is_ok());
        assert!(parse(&[]).is_err());
        assert!(parse(&["--slot", "s", "--code", "K"]).is_err());
    }
}
