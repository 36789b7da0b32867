//! `booking`: the clinic's live schedule, bookings and the staff console's
//! requests from a terminal, for receptionists and for scripts (`--json`).
//! The exit code says what happened; `--help` lists them.

mod address;
mod cli;
mod connection;
mod failure;
mod manage;
mod output;
mod staff;
mod watch;

use std::process::ExitCode;

use clap::Parser;
use protocol::Patient;

use cli::{Cli, Command};
use failure::Failure;
use output::Output;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output::new(cli.json, cli.lang);
    let done = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(run(&out, cli.command)),
        Err(e) => Err(Failure::Server(format!("Cannot start: {e}."))),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            out.failure(&failure);
            ExitCode::from(failure.exit_code())
        }
    }
}

async fn run(out: &Output, command: Command) -> Result<(), Failure> {
    match command {
        Command::Watch(args) => watch::run(out, args).await,
        Command::Book(args) => {
            manage::book(out, &args.url, &args.slot, Patient { name: args.name, phone: args.phone }).await
        }
        Command::Show { link } => manage::show(out, &link).await,
        Command::Cancel { link } => manage::cancel(out, &link).await,
        Command::Move { link, slot } => manage::reschedule(out, &link, &slot).await,
        Command::Staff(args) => staff::run(out, args).await,
    }
}
