//! What an erasure leaves in the SQLite files: nothing of the patient's name
//! and phone, neither in the database file (deleted content is overwritten)
//! nor in its write-ahead log (emptied after the erasure), while the server
//! runs and after it stops.

use std::path::Path;

use protocol::Patient;

use super::*;

/// Whether any file of the SQLite database `booking.db` in `dir` holds one of
/// `needles`: the file's name and the needle found, if so.
fn found_in_files(dir: &Path, needles: &[&str]) -> Option<(String, String)> {
    for file in ["booking.db", "booking.db-wal", "booking.db-journal"] {
        let Ok(bytes) = std::fs::read(dir.join(file)) else { continue };
        for needle in needles {
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                return Some((file.to_owned(), (*needle).to_owned()));
            }
        }
    }
    None
}

#[tokio::test]
async fn an_erased_patient_is_in_no_file_of_the_database_while_it_runs_and_after() {
    let app = spawn_app().await;
    let who = Patient { name: "Zinaida Unforgettable".into(), phone: "+7 912 000-11-22".into() };
    let needles = ["Zinaida Unforgettable", "9120001122", "912 000-11-22"];
    let (mut page, _) = app.connect_with_state().await;
    let (code, _) = book(&mut page, &slot("therapist-20261125-0900"), who).await;
    let dir = app.data_dir.clone();
    assert!(found_in_files(dir.path(), &needles).is_some(), "the booking is written before it is erased");

    let mut desk = console(&app, ADMIN).await;
    let message = erase_message(&mut desk, &code);
    assert_eq!(act(&mut desk, message).await, Ok(()));
    assert_eq!(found_in_files(dir.path(), &needles), None, "while the server runs");

    drop((page, desk));
    let dir = app.stop().await;
    assert_eq!(found_in_files(dir.path(), &needles), None, "after it stopped");
}
