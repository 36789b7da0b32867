//! The protocol and client crates as a program outside this workspace gets them:
//! `cargo package` makes their packages, and a fresh Cargo project that depends
//! on `booking-client` and `booking-protocol` (by version, the packages patched
//! in as an unpublished crate is) builds on their unpacked contents, runs the
//! protocol package's own tests, and books on a real server.
//!
//! Neither crate is ever published (`publish = false`), so no registry knows
//! `booking-protocol`, and `cargo package` cannot verify `booking-client` by
//! itself: its verification, like its lock file, resolves the dependency from
//! crates.io. (Cargo puts the other packages being packaged in a registry
//! overlay for this, but only those that may be published.) This test does the
//! verifying instead, and more of it: the packages are built as a dependency
//! is, from nothing but what they hold.
//!
//! Everything is built offline, with what the workspace's own build fetched,
//! into `target/outside-user`: apart from the workspace's build directory, whose
//! lock the running `cargo test` may hold.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use protocol::{ServerMessage, SlotStatus};
use server::{Limits, Server, Settings};

/// The program an integrator might write: it decodes a frame, and given a
/// server's address, follows the schedule, books the first free slot and waits
/// to see its own booking arrive as an update.
const MAIN_RS: &str = r##"//! A program outside the booking workspace, on its packaged crates.

use booking_client::protocol::{Patient, ServerMessage, Slot, SlotStatus};
use booking_client::{BookingReply, Followed, Follower};

#[tokio::main]
async fn main() {
    let frame = r#"{"type": "resumed", "payload": {"version": 43}}"#;
    let message: ServerMessage = serde_json::from_str(frame).expect("a protocol message");
    println!("decoded {message:?}");

    let url = std::env::args().nth(1).expect("the server's /ws address");
    let mut follower = Follower::connect(&[url.as_str()]).await.expect("connects");
    let schedule = follower.schedule();
    println!("slots {}", schedule.slots.len());
    // Slots starting within the clinic's minimum notice can no longer be booked.
    let notice = chrono::Duration::minutes(i64::from(schedule.clinic.min_notice_minutes) + 1);
    let bookable = |slot: &&Slot| slot.status == SlotStatus::Free && slot.start > chrono::Utc::now() + notice;
    let free = schedule.slots.iter().find(bookable);
    let slot_id = free.expect("a free slot").id.clone();
    let patient = Patient { name: "Outside User".into(), phone: "+7 912 000-00-01".into() };
    match follower.client().book(slot_id.clone(), patient).await.expect("an answer") {
        BookingReply::Booked { code, .. } => println!("booked {} code {code}", slot_id.0),
        BookingReply::Refused(why) => panic!("refused: {why:?}"),
    }
    loop {
        if let Followed::Changed(slot) = follower.next().await.expect("follows") {
            if slot.id == slot_id && slot.status == SlotStatus::Booked {
                println!("saw {} booked at version {}", slot.id.0, follower.version());
                return;
            }
        }
    }
}
"##;

#[tokio::test(flavor = "multi_thread")]
async fn a_program_outside_the_workspace_builds_on_the_packaged_crates_and_books() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("the root").to_path_buf();
    let target = root.join("target/outside-user");
    let outside = tempfile::tempdir().expect("a temporary directory");

    let packaged = tokio::task::spawn_blocking({
        let (root, target, outside) = (root.clone(), target.clone(), outside.path().to_path_buf());
        move || package_and_build(&root, &target, &outside)
    })
    .await
    .expect("packaging ran");

    let url = start_server().await;
    let url_again = url.clone();
    let program = packaged.join("debug/clinic-integration");
    let run = tokio::task::spawn_blocking(move || Command::new(program).arg(url).output())
        .await
        .expect("the program ran")
        .expect("the program starts");
    let stdout = succeeded("the outside program", &run);

    assert!(stdout.contains("decoded Resumed { version: 43 }"), "{stdout}");
    assert!(stdout.lines().any(|line| line.starts_with("slots ") && line != "slots 0"), "{stdout}");
    let booked = stdout.lines().find_map(|line| line.strip_prefix("booked ")).expect("it booked");
    let (slot, code) = booked.split_once(" code ").expect("a slot and a code");
    assert!(!code.is_empty(), "{stdout}");
    assert!(stdout.contains(&format!("saw {slot} booked at version ")), "{stdout}");

    let mut client = client::Client::connect(&url_again).await.expect("connects");
    let ServerMessage::InitialState(schedule) = client.recv().await.expect("a message") else {
        panic!("the schedule comes first");
    };
    let booked = schedule.slots.iter().find(|s| s.id.0 == slot).expect("the slot booked is in the schedule");
    assert_eq!(booked.status, SlotStatus::Booked, "the server has the booking");
}

/// Packages both crates, unpacks them into `outside`, runs the protocol
/// package's tests and builds the outside program; gives the program's target
/// directory.
fn package_and_build(root: &Path, target: &Path, outside: &Path) -> PathBuf {
    // `--allow-dirty`: the tree is packaged as it is, edits not yet committed
    // included, as the rest of the suite tests it.
    let package = cargo(root, target)
        .args(["package", "-p", "booking-protocol", "-p", "booking-client", "--allow-dirty"])
        .args(["--no-verify", "--exclude-lockfile"])
        .output()
        .expect("cargo runs");
    succeeded("cargo package", &package);

    for name in ["booking-protocol", "booking-client"] {
        let tarball = target.join(format!("package/{name}-0.1.0.crate"));
        let unpack =
            Command::new("tar").arg("xzf").arg(&tarball).arg("-C").arg(outside).output().expect("tar runs");
        succeeded("tar", &unpack);
    }

    // The golden tests read the README beside them: the package must hold both.
    // They build with the workspace's versions of everything, all of them
    // fetched already (as does the program below).
    let lock = root.join("Cargo.lock");
    std::fs::copy(&lock, outside.join("booking-protocol-0.1.0/Cargo.lock")).unwrap();
    let protocol = outside.join("booking-protocol-0.1.0/Cargo.toml");
    let golden = cargo(outside, target).args(["test", "--manifest-path"]).arg(&protocol).output().unwrap();
    let report = succeeded("the packaged protocol's tests", &golden);
    let report = report + &String::from_utf8_lossy(&golden.stderr);
    assert!(report.contains("Running tests/golden.rs"), "the golden tests ran:\n{report}");

    let project = outside.join("clinic-integration");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(project.join("Cargo.toml"), MANIFEST).unwrap();
    std::fs::write(project.join("src/main.rs"), MAIN_RS).unwrap();
    std::fs::copy(&lock, project.join("Cargo.lock")).unwrap();
    let program_target = target.join("program");
    let build = cargo(&project, &program_target).arg("build").output().expect("cargo runs");
    succeeded("building the outside program", &build);
    program_target
}

/// The outside program's manifest: its own workspace, the crates by version as
/// from a registry, and the unpacked packages patched in for them.
const MANIFEST: &str = r#"[package]
name = "clinic-integration"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
booking-client = "0.1"
booking-protocol = "0.1"
chrono = { version = "0.4", default-features = false, features = ["clock"] }
serde_json = "1"
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }

[patch.crates-io]
booking-client = { path = "../booking-client-0.1.0" }
booking-protocol = { path = "../booking-protocol-0.1.0" }

[workspace]
"#;

/// `cargo`, offline, in `dir`, building into `target`.
fn cargo(dir: &Path, target: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(dir).env("CARGO_TARGET_DIR", target).arg("--offline");
    command
}

/// The standard output of a command that must have succeeded.
fn succeeded(what: &str, output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{what} failed ({}):\n{stdout}\n{stderr}", output.status);
    stdout
}

/// A server for the demo clinic on a fresh database, with a proof of work that
/// costs nothing (the program is built unoptimized); gives its `/ws` address.
async fn start_server() -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database = format!("sqlite://{}/booking.db", dir.path().display());
    let limits = Limits { challenge_work: 1, ..Limits::default() };
    let server = Server::bind(Settings { limits, ..Settings::local(database) }).await.expect("starts");
    let url = format!("ws://{}/ws", server.local_addr());
    tokio::spawn(async move {
        let _dir = dir;
        server.run(std::future::pending()).await
    });
    url
}
