//! The `server staff` commands: staff accounts managed from the server's own
//! machine, which is how the first admin is made. Each opens the database as
//! the server does (applying its migrations), does one thing, and says what
//! it did on standard output; a refusal is an error with its reason.

use std::io::{BufRead, IsTerminal, Write};

use chrono::Utc;

use super::{Refusal, Staff};
use crate::audit::Origin;
use crate::config::StaffCommand;
use crate::store::SqlStore;
use crate::{Error, Result};

/// Runs one `server staff` command on the database at `database_url`,
/// writing what it says to `out`.
pub async fn run(database_url: &str, command: &StaffCommand, out: &mut impl Write) -> Result<()> {
    let store = SqlStore::open(database_url).await?;
    let staff = Staff::new(&store);
    let done = carry_out(&staff, command, out).await;
    store.close().await;
    done
}

async fn carry_out(staff: &Staff, command: &StaffCommand, out: &mut impl Write) -> Result<()> {
    // Changes made here are the server's own doing, from no client address.
    let origin = Origin::system();
    let now = Utc::now();
    match command {
        StaffCommand::Add { name, role, password_stdin } => {
            // A name that cannot be used is said before the password is asked.
            if !super::valid_name(name) {
                return Err(refused(Refusal::BadName, name));
            }
            let password = read_password(*password_stdin)?;
            let role = protocol::StaffRole::from(*role);
            staff.add(name, role, &password, now, &origin).await?.map_err(|r| refused(r, name))?;
            writeln!(out, "Added {name} ({}).", super::role_name(role))?;
        }
        StaffCommand::List => {
            let accounts = staff.list().await?;
            if accounts.is_empty() {
                writeln!(
                    out,
                    "No staff accounts. Make the first admin with: server staff add NAME --role admin"
                )?;
            }
            for account in accounts {
                let created = account.created_at.format("%Y-%m-%d %H:%M UTC");
                writeln!(out, "{:<24} {:<12} {created}", account.name, super::role_name(account.role))?;
            }
        }
        StaffCommand::Remove { name, force } => {
            staff.remove(name, now, &origin, *force).await?.map_err(|r| refused(r, name))?;
            writeln!(out, "Removed {name}; its sessions have ended.")?;
        }
        StaffCommand::Password { name, password_stdin } => {
            let password = read_password(*password_stdin)?;
            staff.set_password(name, &password, now, &origin).await?.map_err(|r| refused(r, name))?;
            writeln!(out, "Changed the password of {name}; its sessions have ended.")?;
        }
    }
    Ok(())
}

/// A refusal about the account `name`, as the command's error.
fn refused(refusal: Refusal, name: &str) -> Error {
    Error::Setting(format!("{name}: {refusal}"))
}

/// The new password: one line of standard input when it is not a terminal (or
/// when asked to), otherwise typed twice at a prompt that does not echo it.
fn read_password(from_stdin: bool) -> Result<String> {
    let stdin = std::io::stdin();
    if from_stdin || !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let password = rpassword::prompt_password("Password (at least 12 characters): ")?;
    let again = rpassword::prompt_password("The same password again: ")?;
    if password != again {
        return Err(Error::Setting("the two passwords differ; nothing was changed".into()));
    }
    Ok(password)
}
