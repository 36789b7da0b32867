//! Headers every response carries, so that a browser treats the page safely: a
//! Content-Security-Policy the page works under (its one inline loader script
//! allowed by hash, WASM allowed to compile, nothing from elsewhere), no framing,
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

/// The policy for the built page, made again when `index.html` changes (the
/// page was rebuilt while the server ran).
#[derive(Debug)]
pub(crate) struct Csp {
    index: PathBuf,
    made: Mutex<Made>,
}

#[derive(Debug)]
struct Made {
    /// When `index.html` was last looked at, and its time of change then.
    checked: Option<(Instant, Option<SystemTime>)>,
    value: HeaderValue,
}

impl Csp {
    pub(crate) fn new(static_dir: &Path) -> Self {
        let value = HeaderValue::from_str(&policy("")).expect("the policy is ASCII");
        Self { index: static_dir.join("index.html"), made: Mutex::new(Made { checked: None, value }) }
    }

    fn value(&self) -> HeaderValue {
        let mut made = self.made.lock().unwrap_or_else(|e| e.into_inner());
        if made.checked.is_some_and(|(at, _)| at.elapsed() < RECHECK) {
            return made.value.clone();
        }
        // At most every few seconds, however many requests come: a look at
        // the file's time, and a new policy only when it changed.
        let modified = std::fs::metadata(&self.index).and_then(|m| m.modified()).ok();
        if made.checked.is_none_or(|(_, before)| before != modified) {
            let html = std::fs::read_to_string(&self.index).unwrap_or_default();
            made.value = HeaderValue::from_str(&policy(&html)).expect("the policy is ASCII");
        }
        made.checked = Some((Instant::now(), modified));
        made.value.clone()
    }
}

/// The policy that allows exactly the inline scripts of `html`.
fn policy(html: &str) -> String {
    let scripts: String = inline_scripts(html)
        .map(|script| {
            let digest = sha2::Sha256::digest(script.as_bytes());
            format!(" 'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
        })
        .collect();
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
        let policy = policy(html);
        let hash = |s: &str| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(s));
        assert!(policy.contains(&format!("'sha256-{}'", hash("import init from '/a.js'; init();"))));
        assert!(policy.contains(&format!("'sha256-{}'", hash("x()"))));
        assert_eq!(policy.matches("'sha256-").count(), 2, "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline"));
    }
}
