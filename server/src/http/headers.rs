//! Headers every response carries, so that a browser treats the page safely: a
//! Content-Security-Policy the pages work under (the inline loader scripts of
//! the patient page and of the staff console's page allowed by hash, WASM
//! allowed to compile, nothing from elsewhere), no framing,
//! no type sniffing, and no `Referer`, so that a manage link in the address bar
//! never leaks to anybody.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use sha2::Digest;

use crate::AppState;

/// The policy, less the hashes of the inline scripts.
const POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{scripts}; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// How often the server looks whether the page was rebuilt.
const RECHECK: Duration = Duration::from_secs(2);

/// The policy for the built pages, made again when either page's `index.html`
/// changes (the pages were rebuilt while the server ran).
#[derive(Debug)]
pub(crate) struct Csp {
    /// The patient page's `index.html` and the staff console's.
    pages: [PathBuf; 2],
    made: Mutex<Made>,
}

#[derive(Debug)]
struct Made {
    /// When the pages were last looked at, and their times of change then.
    checked: Option<(Instant, [Option<SystemTime>; 2])>,
    value: HeaderValue,
}

impl Csp {
    pub(crate) fn new(static_dir: &Path) -> Self {
        let value = HeaderValue::from_str(&policy(&[])).expect("the policy is ASCII");
        let pages = [static_dir.join("index.html"), static_dir.join(super::files::STAFF).join("index.html")];
        Self { pages, made: Mutex::new(Made { checked: None, value }) }
    }

    fn value(&self) -> HeaderValue {
        let mut made = self.made.lock().unwrap_or_else(|e| e.into_inner());
        if made.checked.is_some_and(|(at, _)| at.elapsed() < RECHECK) {
            return made.value.clone();
        }
        // At most every few seconds, however many requests come: a look at
        // the files' times, and a new policy only when one changed.
        let modified =
            self.pages.each_ref().map(|page| std::fs::metadata(page).and_then(|m| m.modified()).ok());
        if made.checked.is_none_or(|(_, before)| before != modified) {
            let html = self.pages.each_ref().map(|page| std::fs::read_to_string(page).unwrap_or_default());
            made.value = HeaderValue::from_str(&policy(&html)).expect("the policy is ASCII");
        }
        made.checked = Some((Instant::now(), modified));
        made.value.clone()
    }
}

/// The policy that allows exactly the inline scripts of the pages `html`, one
/// policy for both, as each page's scripts are the server's own.
fn policy(html: &[String]) -> String {
    let mut scripts = String::new();
    for script in html.iter().flat_map(|page| inline_scripts(page)) {
        let digest = sha2::Sha256::digest(script.as_bytes());
        let source = format!(" 'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest));
        if !scripts.contains(&source) {
            scripts.push_str(&source);
        }
    }
    POLICY.replace("{scripts}", &scripts)
}

/// The bodies of the `<script>` elements of `html` that have no `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, rest) = rest.split_once('>')?;
        let (body, _) = rest.split_once("</script>")?;
        (!attributes.contains("src=")).then_some(body)
    })
}

/// Adds the headers to every response.
pub(crate) async fn add(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, state.csp.value());
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_each_inline_script_by_its_hash_and_nothing_else() {
        let html = r#"<script type="module">import init from '/a.js'; init();</script>
<script src="/b.js"></script><script>x()</script>"#;
        let policy = policy(&[html.to_owned()]);
        let hash = |s: &str| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(s));
        assert!(policy.contains(&format!("'sha256-{}'", hash("import init from '/a.js'; init();"))));
        assert!(policy.contains(&format!("'sha256-{}'", hash("x()"))));
        assert_eq!(policy.matches("'sha256-").count(), 2, "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline"));
    }

    #[test]
    fn the_policy_allows_the_scripts_of_both_pages_once_each() {
        let patient = "<script type=\"module\">import init from '/a.js';</script>".to_owned();
        let staff = "<script type=\"module\">import init from '/staff/a.js';</script>".to_owned();
        let hash = |s: &str| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(s));

        let both = policy(&[patient.clone(), staff]);

        assert!(both.contains(&format!("'sha256-{}'", hash("import init from '/a.js';"))), "{both}");
        assert!(both.contains(&format!("'sha256-{}'", hash("import init from '/staff/a.js';"))), "{both}");
        assert_eq!(both.matches("'sha256-").count(), 2, "{both}");
        let twice = policy(&[patient.clone(), patient]);
        assert_eq!(twice.matches("'sha256-").count(), 1, "the same script is named once: {twice}");
        let unbuilt = policy(&[String::new(), String::new()]);
        assert_eq!(unbuilt.matches("'sha256-").count(), 0, "{unbuilt}");
    }
}
