//! The `server staff` commands, run as the real binary on a temporary SQLite
//! database: what they say, their exit codes, and that an account they make
//! can log in to a server on that database.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use super::*;
use crate::common::{log_in, spawn_on, test_now};

/// Runs `server staff ARGS` on the database at `url`, with `stdin` as its
/// standard input.
fn staff_command(url: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("staff")
        .args(args)
        .env("DATABASE_URL", url)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server binary runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// What a run said on standard output, when it succeeded.
fn succeeded(output: &Output) -> String {
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{said}{}", String::from_utf8_lossy(&output.stderr));
    said
}

/// What a run said on standard error, when it failed.
fn failed(output: &Output) -> String {
    assert!(!output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn the_staff_commands_add_list_and_remove_accounts_and_say_why_they_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(dir.path());

    let said = succeeded(&staff_command(&url, &["list"], ""));
    assert!(said.contains("server staff add NAME --role admin"), "{said}");
    let said = succeeded(&staff_command(&url, &["add", "ada", "--role", "admin"], "ada-password-12\n"));
    assert_eq!(said.trim(), "Added ada (admin).");
    let said =
        succeeded(&staff_command(&url, &["add", "rita", "--role", "receptionist"], "rita-password-12\n"));
    assert_eq!(said.trim(), "Added rita (receptionist).");

    assert!(
        failed(&staff_command(&url, &["add", "ada", "--role", "admin"], "other-password-12\n"))
            .contains("exists already")
    );
    assert!(
        failed(&staff_command(&url, &["add", "bob", "--role", "admin"], "short\n"))
            .contains("at least 12 characters")
    );
    assert!(
        failed(&staff_command(&url, &["add", "bob smith", "--role", "admin"], "")).contains("login name")
    );
    assert!(failed(&staff_command(&url, &["add", "bob", "--role", "owner"], "")).contains("owner"));

    let listed = succeeded(&staff_command(&url, &["list"], ""));
    let lines: Vec<Vec<&str>> = listed.lines().map(|line| line.split_whitespace().collect()).collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert_eq!(lines[0][..2], ["ada", "admin"]);
    assert_eq!(lines[1][..2], ["rita", "receptionist"]);

    let said = succeeded(&staff_command(&url, &["password", "rita"], "rita-new-password\n"));
    assert!(said.contains("rita"), "{said}");
    assert!(
        failed(&staff_command(&url, &["password", "nobody"], "long-enough-password\n"))
            .contains("no account")
    );
    assert!(failed(&staff_command(&url, &["remove", "nobody"], "")).contains("no account"));
    assert!(failed(&staff_command(&url, &["remove", "ada"], "")).contains("last admin"));

    // A server on this database lets them in with what the commands set.
    let app = spawn_on(&url, Arc::new(Mutex::new(test_now())), Options::default()).await;
    let (mut ada, _) = app.connect_with_state().await;
    log_in(&mut ada, ("ada", "ada-password-12")).await;
    let (mut rita, _) = app.connect_with_state().await;
    log_in(&mut rita, ("rita", "rita-new-password")).await;
    let refused = rita.staff_login("rita", "rita-password-12").await;
    assert!(matches!(refused, Err(client::Error::Server { code: ErrorCode::Forbidden, .. })), "{refused:?}");

    // Removing an account from the command line ends its live console.
    succeeded(&staff_command(&url, &["remove", "ada", "--force"], ""));
    let added = audit_rows_at(&url, AuditAction::StaffAdded).await;
    let details: Vec<_> =
        added.iter().filter(|row| row.actor == Actor::System).filter_map(|row| row.detail.clone()).collect();
    assert_eq!(details[details.len() - 2..], ["rita as receptionist".to_owned(), "ada as admin".to_owned()]);
    let refused = ada.staff_accounts().await;
    assert!(matches!(refused, Err(client::Error::Server { code: ErrorCode::Forbidden, .. })), "{refused:?}");
    staff_ended(&mut ada).await;
}

#[test]
fn a_server_without_staff_says_how_to_make_the_first_admin() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("BOOKING_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", database_url(dir.path()))
        .env("BOOKING_STATIC_DIR", dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server binary runs");
    let log = std::io::BufReader::new(server.stdout.take().unwrap());
    let warning = log.lines().map_while(Result::ok).find(|line| line.contains("no staff account"));
    let _ = server.kill();
    let _ = server.wait();
    let warning = warning.expect("a warning about the missing staff");
    assert!(warning.contains("server staff add NAME --role admin"), "{warning}");
}
