//! The harness of the browser tests: the real server with the built page, driven
//! through chromedriver in headless Chromium, one fresh browser profile per session.
//!
//! The browser tests are `#[ignore]`d, so that a plain `cargo test` without
//! Chromium or a built page says it did not run them; `cargo xtask test` builds
//! the page, installs Chromium and runs them with `--include-ignored`. A browser
//! test that is run fails when what it needs is missing (see `require_browser!`):
//! it never passes without having run.
//!
//! The tests wait for what the page does, never for a time: each wait gives up
//! only after `PATIENCE`, so that a broken page fails a test rather than hanging
//! it, and the waits that measure how soon something showed print it.
//!
//! Beside this file: `axe` audits a page with axe-core, `keys` presses keys and
//! reads the focus and accessible names, and `others` acts as other patients
//! and staff through the protocol while a test looks at the page.

mod axe;
mod keys;
mod others;
mod shared;
mod staff;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use server::{Limits, Server, Settings};
use tokio::sync::{Mutex, MutexGuard, oneshot};
use tokio::task::JoinHandle;

pub use axe::{
    AXE_CORE_VERSION, Audit, Offender, Violation, WCAG_TAGS, assert_no_violations, axe_dir,
    axe_fetch_command, axe_script, describe_violations,
};
pub use keys::Focus;
pub use others::patient;
pub use shared::PostgresDatabase;
pub use staff::{ADMIN, ADMIN_PASSWORD, RECEPTIONISTS};

/// How long a test waits for something the page should do at once before it
/// fails. This guards against hanging only: it is far longer than anything
/// takes even on a busy 2-core machine, and no test asserts a latency.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// How long a test waits for a booking, which may wait for the robot check: at
/// the default cost that is a few seconds of solving in a browser.
const SOLVING: Duration = Duration::from_secs(60);

/// Browsers are heavy for a 2-core machine: one test drives them at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("crates/e2e is two levels down").into()
}

/// Where the tests write their screenshots (ignored by git).
pub fn screenshot_dir() -> PathBuf {
    root().join("target").join("screenshots")
}

fn dist() -> PathBuf {
    root().join("frontend").join("dist")
}

/// Whether the browser tests can run here; `Err` says what is missing.
pub fn prerequisites() -> Result<(), String> {
    // The staff console's page is built after the patient page, into its
    // folder (`/staff`): both are there once the build is complete.
    if !dist().join("index.html").exists() || !dist().join("staff").join("index.html").exists() {
        Err("the page is not built (run `cargo xtask frontend`)".to_owned())
    } else if Command::new("chromedriver").arg("--version").output().is_err() {
        Err("chromedriver is not installed (apt-get install chromium chromium-driver)".to_owned())
    } else {
        Ok(())
    }
}

/// Why a browser test that was asked to run cannot, for its failure message.
pub fn cannot_run(why: &str) -> String {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        format!("browser tests cannot run under CI: {why}")
    } else {
        format!(
            "this browser test cannot run here: {why}. `cargo xtask test` builds the page and installs Chromium"
        )
    }
}

/// Fails the calling test, saying what is missing, when the browser tests
/// cannot run here. Browser tests are `#[ignore]`d, so one that runs was asked
/// for (`--include-ignored`, as `cargo xtask test` and CI pass): passing
/// without having run would hide that nothing was tested.
#[macro_export]
macro_rules! require_browser {
    () => {
        if let Err(why) = $crate::prerequisites() {
            panic!("{}", $crate::cannot_run(&why));
        }
    };
}

/// Polls `check` until it holds, and returns how long that took; fails, naming
/// `what`, after `PATIENCE`.
pub async fn eventually<F, Fut>(what: &str, mut check: F) -> Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let started = Instant::now();
    loop {
        if check().await? {
            return Ok(started.elapsed());
        }
        if started.elapsed() > PATIENCE {
            bail!("gave up after {PATIENCE:?} waiting until {what}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The booking server, in this process, on a fresh database.
pub struct App {
    /// Where it listens.
    pub addr: SocketAddr,
    limits: Limits,
    data: Arc<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<server::Result<()>>>,
}

impl App {
    /// Starts a server with the real clock and the default limits on a fresh
    /// database. Every browser of the tests comes from 127.0.0.1, so the limits
    /// per address apply to all of them together.
    pub async fn start() -> Result<Self> {
        Self::start_with(Limits::default()).await
    }

    /// Starts a server with other limits, for a test that needs one widened.
    pub async fn start_with(limits: Limits) -> Result<Self> {
        let data = Arc::new(tempfile::tempdir()?);
        Self::start_on(data, "127.0.0.1:0".parse()?, limits).await
    }

    async fn start_on(data: Arc<tempfile::TempDir>, listen: SocketAddr, limits: Limits) -> Result<Self> {
        let settings = Settings {
            listen,
            static_dir: dist(),
            limits,
            ..Settings::local(format!("sqlite://{}/booking.db", data.path().display()))
        };
        Self::start_settings(data, settings).await
    }

    async fn start_settings(data: Arc<tempfile::TempDir>, settings: Settings) -> Result<Self> {
        let (listen, limits) = (settings.listen, settings.limits);
        let server = Server::bind(settings).await?;
        staff::make_staff(&server.state()).await?;
        let addr = if listen.port() == 0 { server.local_addr() } else { listen };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        Ok(Self { addr, limits, data, stop: Some(stop), task: Some(task) })
    }

    /// The page's address.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// A protocol client of this server.
    pub async fn client(&self) -> Result<client::Client> {
        Ok(client::Client::connect(&format!("ws://{}/ws", self.addr)).await?)
    }

    /// Stops the server gracefully (open pages see their socket close).
    pub async fn stop(&mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await??;
        }
        Ok(())
    }

    /// Starts the server again on the same address and database.
    pub async fn restart(&mut self) -> Result<()> {
        self.stop().await?;
        let again = Self::start_on(self.data.clone(), self.addr, self.limits).await?;
        *self = again;
        Ok(())
    }
}

/// A chromedriver process, ended on drop, and the lock that keeps browser tests
/// from running side by side.
pub struct Driver {
    process: Child,
    port: u16,
    _turn: MutexGuard<'static, ()>,
}

impl Driver {
    /// Waits for this test's turn and starts chromedriver.
    pub async fn start() -> Result<Self> {
        let turn = ONE_AT_A_TIME.lock().await;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let process = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting chromedriver")?;
        let deadline = Instant::now() + PATIENCE;
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if Instant::now() > deadline {
                bail!("chromedriver did not start listening");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Self { process, port, _turn: turn })
    }

    /// A new browser session with its own empty profile, `width` pixels wide.
    pub async fn session(&self, width: u32, height: u32) -> Result<Session> {
        let profile = tempfile::tempdir()?;
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            "--hide-scrollbars",
            &format!("--window-size={width},{height}"),
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "chrome".into());
        let mut options = serde_json::json!({ "binary": chromium_binary(), "args": args });
        // Desktop Chromium will not make a window narrower than 500 px; phone
        // widths need the device emulation.
        if width < 500 {
            options["mobileEmulation"] = serde_json::json!({ "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0 } });
        }
        caps.insert("goog:chromeOptions".into(), options);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let browser = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .context("opening a browser session")?;
        Ok(Session { browser, _profile: profile })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn chromium_binary() -> &'static str {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("/usr/bin/chromium")
}

/// One browser window with its own profile.
pub struct Session {
    /// The WebDriver client.
    pub browser: Client,
    _profile: tempfile::TempDir,
}

impl Session {
    /// Opens the page and waits until it is live.
    pub async fn open(&self, app: &App) -> Result<()> {
        self.open_at(app, "").await
    }

    /// Opens a path of the app, such as `staff`, and waits until it is live.
    pub async fn open_at(&self, app: &App, path: &str) -> Result<()> {
        self.browser.goto(&format!("{}{path}", app.url())).await?;
        self.wait_live().await
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.wait_for(css).await?.click().await?;
        Ok(())
    }

    /// The text of the element matching `css`, once it is there.
    pub async fn text(&self, css: &str) -> Result<String> {
        Ok(self.wait_for(css).await?.text().await?)
    }

    /// Waits until the connection indicator says live.
    pub async fn wait_live(&self) -> Result<()> {
        self.wait_for("#connection[data-state='live']").await?;
        Ok(())
    }

    /// Waits for an element matching `css`.
    pub async fn wait_for(&self, css: &str) -> Result<Element> {
        self.wait_for_at_most(css, PATIENCE).await
    }

    /// Waits for an element matching `css` that shows only after the robot
    /// check is solved, such as the answer to a booking or a join.
    pub async fn wait_solved(&self, css: &str) -> Result<Element> {
        self.wait_for_at_most(css, SOLVING).await
    }

    async fn wait_for_at_most(&self, css: &str, timeout: Duration) -> Result<Element> {
        self.browser
            .wait()
            .at_most(timeout)
            .every(Duration::from_millis(20))
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for {css}"))
    }

    /// Chooses the first day with a few free slots (late in the day, today may
    /// have one left, and several tests book a second on the same day), else
    /// the first with any, and returns that day's key and its first free slot.
    pub async fn first_free_slot(&self) -> Result<(String, String)> {
        match self.day_with_free_slots(3).await {
            Ok(found) => Ok(found),
            Err(_) => self.day_with_free_slots(1).await.context("no free slot on any day"),
        }
    }

    /// The key of the day shown.
    pub async fn chosen_day(&self) -> Result<String> {
        let tab = self.browser.find(Locator::Css(".tab[aria-selected='true']")).await?;
        tab.attr("data-day").await?.context("tab without day")
    }

    /// Shows the given day.
    pub async fn choose_day(&self, day: &str) -> Result<()> {
        self.browser.find(Locator::Css(&format!(".tab[data-day='{day}']"))).await?.click().await?;
        Ok(())
    }

    /// The slot's `data-status` as the page shows it now.
    pub async fn slot_status(&self, slot: &str) -> Result<String> {
        let button = self.browser.find(Locator::Css(&slot_css(slot))).await?;
        button.attr("data-status").await?.context("slot without status")
    }

    /// Logs in to the staff console at `/staff` as `name` with `password`.
    pub async fn staff_login(&self, app: &App, name: &str, password: &str) -> Result<()> {
        self.open_at(app, "staff").await?;
        self.wait_for("#staff-name").await?.send_keys(name).await?;
        self.browser.find(Locator::Css("#staff-password")).await?.send_keys(password).await?;
        self.click("#staff-login").await
    }

    /// Waits until the slot shows `status`; prints and returns how long that took.
    pub async fn wait_slot_status(&self, slot: &str, status: &str) -> Result<Duration> {
        let took = eventually(&format!("slot {slot} shows {status}"), || async {
            Ok(self.slot_status(slot).await.ok().as_deref() == Some(status))
        })
        .await?;
        eprintln!("slot {slot} showed {status} after {took:?}");
        Ok(took)
    }

    /// Opens the booking dialog of `slot` and fills in the patient's details.
    pub async fn fill_booking(&self, slot: &str, name: &str, phone: &str) -> Result<()> {
        self.browser.find(Locator::Css(&slot_css(slot))).await?.click().await?;
        self.fill_details(name, phone).await
    }

    /// Fills in the open booking form.
    pub async fn fill_details(&self, name: &str, phone: &str) -> Result<()> {
        self.wait_for("#patient-name").await?.send_keys(name).await?;
        self.browser.find(Locator::Css("#patient-phone")).await?.send_keys(phone).await?;
        Ok(())
    }

    /// Clicks "Confirm booking".
    pub async fn confirm(&self) -> Result<()> {
        self.browser.find(Locator::Css("#confirm-booking")).await?.click().await?;
        Ok(())
    }

    /// Waits for the booking dialog to show the booking code, and returns it.
    /// The robot check may still be running when the patient confirms, so this
    /// waits longer than a reply from the server takes.
    pub async fn wait_booked(&self) -> Result<String> {
        Ok(self.wait_for_at_most("#booking-code", SOLVING).await?.text().await?)
    }

    /// How long the page's last robot check took, in milliseconds, as the
    /// booking dialog says in `data-pow-ms`.
    pub async fn pow_ms(&self) -> Result<u64> {
        let dialog = self.wait_for_at_most("#booking-dialog[data-pow-ms]", SOLVING).await?;
        let ms = dialog.attr("data-pow-ms").await?.context("data-pow-ms")?;
        Ok(ms.parse()?)
    }

    /// Starts recording the page's Content-Security-Policy violations (see
    /// `csp_violations`). Scripts run through WebDriver are not bound by the
    /// policy, so this works under it.
    pub async fn watch_csp(&self) -> Result<()> {
        self.browser
            .execute(
                "window.cspViolations = [];
                 document.addEventListener('securitypolicyviolation', e =>
                     window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));",
                vec![],
            )
            .await?;
        Ok(())
    }

    /// The violations recorded since `watch_csp`.
    pub async fn csp_violations(&self) -> Result<Vec<String>> {
        let found = self.browser.execute("return window.cspViolations || [];", vec![]).await?;
        Ok(serde_json::from_value(found)?)
    }

    /// The Content-Security-Policy the page was served with, read by the page
    /// itself from a request to its own address.
    pub async fn served_csp(&self) -> Result<String> {
        let found = self
            .browser
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch('/').then(r => done(r.headers.get('content-security-policy') || ''), () => done(''));",
                vec![],
            )
            .await?;
        Ok(found.as_str().unwrap_or_default().to_owned())
    }

    /// Writes a screenshot to `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, self.browser.screenshot().await?)?;
        Ok(path)
    }

    /// Ends the browser session.
    pub async fn close(self) -> Result<()> {
        self.browser.close().await?;
        Ok(())
    }
}

/// Two browser sessions on the page, both showing the day of the same free slot.
pub async fn two_sessions_on_one_slot(driver: &Driver, app: &App) -> Result<(Session, Session, String)> {
    let first = driver.session(1280, 900).await?;
    let second = driver.session(1280, 900).await?;
    first.open(app).await?;
    second.open(app).await?;
    let (day, slot) = first.first_free_slot().await?;
    second.choose_day(&day).await?;
    Ok((first, second, slot))
}

/// The CSS selector of one slot's button.
pub fn slot_css(slot: &str) -> String {
    format!("button.slot[data-slot-id='{slot}']")
}
