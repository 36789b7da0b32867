//! What the page costs to load: the bytes a first visit transfers, as the
//! browser's Performance API counts them, printed per file and held under the
//! budget; a second visit, which takes the hashed assets from the cache
//! without asking; and the staff console's first visit, printed too, which
//! loads a build of its own that the patient page never fetches.

use anyhow::{Context, Result, ensure};
use e2e::{App, Driver, Session, require_browser};

use crate::DESKTOP;

/// The most a first visit may transfer, headers included: 450 KB.
const FIRST_VISIT_BUDGET: u64 = 450_000;

/// What a second visit may transfer: the page's revalidation and little else.
const SECOND_VISIT_BUDGET: u64 = 5_000;

/// One navigation or resource entry of the Performance API.
#[derive(Debug)]
struct Entry {
    path: String,
    /// Bytes over the network, headers included; 0 when it came from the cache.
    transfer: u64,
    /// The body as sent (compressed, when it was).
    encoded: u64,
    /// The body once decoded.
    decoded: u64,
}

/// The page's navigation and every resource it fetched. The WebSocket is not a
/// resource entry: its handshake and the schedule it brings are not counted.
async fn entries(page: &Session) -> Result<Vec<Entry>> {
    let found = page
        .browser
        .execute(
            "return [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
                 .map(e => [new URL(e.name).pathname, e.transferSize, e.encodedBodySize, e.decodedBodySize]);",
            vec![],
        )
        .await?;
    let rows: Vec<(String, u64, u64, u64)> = serde_json::from_value(found).context("performance entries")?;
    Ok(rows
        .into_iter()
        .map(|(path, transfer, encoded, decoded)| Entry { path, transfer, encoded, decoded })
        .collect())
}

/// Prints the entries of a visit, file by file, and returns their total.
fn print(visit: &str, entries: &[Entry]) -> u64 {
    let total = entries.iter().map(|e| e.transfer).sum();
    eprintln!("{visit}: {total} bytes transferred in {} requests", entries.len());
    for e in entries {
        eprintln!(
            "  {:<44} {:>8} transferred {:>8} encoded {:>8} decoded",
            e.path, e.transfer, e.encoded, e.decoded
        );
    }
    total
}

/// The page's script, WebAssembly and style, which trunk names by their hash.
fn is_hashed_asset(path: &str) -> bool {
    [".wasm", ".js", ".css"].iter().any(|ext| path.ends_with(ext))
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn a_first_visit_transfers_under_450_kb_and_a_second_takes_the_assets_from_the_cache() -> Result<()> {
    require_browser!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    // A fresh profile: nothing is cached yet.
    let page = driver.session(DESKTOP.0, DESKTOP.1).await?;

    page.open(&app).await?;
    page.wait_for("button.slot").await?;
    let first = entries(&page).await?;

    let total = print("first visit", &first);
    let mut client = app.client().await?;
    let schedule = client.recv_text().await?.len();
    eprintln!("  not counted: the WebSocket, whose first frame (the schedule) is {schedule} bytes");
    let wasm =
        first.iter().find(|e| e.path.ends_with(".wasm")).context("the page's WebAssembly was fetched")?;
    eprintln!("the WebAssembly: {} bytes, {} as sent", wasm.decoded, wasm.encoded);
    ensure!(first.iter().all(|e| e.transfer > 0), "a first visit takes nothing from a cache: {first:?}");
    ensure!(
        first.iter().filter(|e| e.path.ends_with(".wasm")).count() == 1,
        "the preloaded WebAssembly is fetched once: {first:?}"
    );
    ensure!(wasm.encoded < wasm.decoded / 2, "the WebAssembly comes compressed: {wasm:?}");
    ensure!(
        total < FIRST_VISIT_BUDGET,
        "the first visit transferred {total} bytes, over {FIRST_VISIT_BUDGET}"
    );

    // Again, in the same profile: the page is revalidated, its hashed assets
    // are taken from the cache without a request.
    page.open(&app).await?;
    page.wait_for("button.slot").await?;
    let second = entries(&page).await?;
    let again = print("second visit", &second);
    let assets: Vec<&Entry> = second.iter().filter(|e| is_hashed_asset(&e.path)).collect();
    ensure!(assets.len() == 3, "the script, the WebAssembly and the style: {second:?}");
    ensure!(assets.iter().all(|e| e.transfer == 0), "hashed assets come from the cache: {assets:?}");
    ensure!(again < SECOND_VISIT_BUDGET, "the second visit transferred {again} bytes");
    page.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and the built page (cargo xtask test runs it)"]
async fn the_staff_console_is_a_build_of_its_own_that_the_patient_page_never_fetches() -> Result<()> {
    require_browser!();
    let app = App::start().await?;
    let driver = Driver::start().await?;
    // Fresh profiles, one for each page: nothing is cached yet.
    let patient = driver.session(DESKTOP.0, DESKTOP.1).await?;
    let staff = driver.session(DESKTOP.0, DESKTOP.1).await?;

    patient.open(&app).await?;
    patient.wait_for("button.slot").await?;
    staff.open_at(&app, "staff").await?;
    staff.wait_for("#staff-name").await?;
    let patient_visit = entries(&patient).await?;
    let staff_visit = entries(&staff).await?;

    print("the staff console's first visit", &staff_visit);
    let wasm = |visit: &[Entry]| -> Result<(String, u64, u64)> {
        let found: Vec<&Entry> = visit.iter().filter(|e| e.path.ends_with(".wasm")).collect();
        ensure!(found.len() == 1, "one WebAssembly file: {visit:?}");
        Ok((found[0].path.clone(), found[0].decoded, found[0].encoded))
    };
    let (patient_wasm, patient_size, _) = wasm(&patient_visit)?;
    let (staff_wasm, staff_size, staff_sent) = wasm(&staff_visit)?;
    eprintln!("the staff console's WebAssembly: {staff_size} bytes, {staff_sent} as sent");
    eprintln!("the patient page's WebAssembly: {patient_size} bytes");
    ensure!(
        patient_visit.iter().all(|e| !e.path.starts_with("/staff")),
        "the patient page fetches nothing of the console: {patient_visit:?}"
    );
    let assets: Vec<&Entry> = staff_visit.iter().filter(|e| is_hashed_asset(&e.path)).collect();
    ensure!(assets.len() == 3, "the console's script, WebAssembly and style: {staff_visit:?}");
    ensure!(assets.iter().all(|e| e.path.starts_with("/staff/")), "the console's own build: {assets:?}");
    ensure!(patient_wasm != staff_wasm, "two builds: {patient_wasm}");
    ensure!(
        staff_size > patient_size + 100_000,
        "the console's build holds what the patient's leaves out: {staff_size} and {patient_size} bytes"
    );
    ensure!(staff_sent < staff_size / 2, "the console's WebAssembly comes compressed: {staff_sent}");
    patient.close().await?;
    staff.close().await?;
    Ok(())
}
