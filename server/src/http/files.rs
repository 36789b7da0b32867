//! The built page's files, light to fetch: each is sent as the brotli or gzip
//! copy beside it (`name.br`, `name.gz`, which `cargo xtask frontend` writes
//! after the build) when the client accepts that encoding, and as it is
//! otherwise, or when there is no such copy (a `trunk serve` build makes none).
//! The assets trunk names by their content's hash never change under their
//! name, so browsers keep them for a year without asking again; `index.html`
//! and every other path must be revalidated, which costs a `304` when nothing
//! changed, so that a rebuilt page reaches everybody at their next visit.
//!
//! There are two pages, built apart so that patients never download the staff
//! console: the patient page at the top of the folder, and the console's in
//! its `staff` folder, which answers `/staff` and every path under it.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::AppState;

/// What a page's addresses show when it has not been built; `{page}` names it.
const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Booking</title>\
<h1>The booking server is running</h1>\
<p>{page} has not been built. Build it with <code>cargo xtask frontend</code> \
(or run everything with <code>cargo xtask run</code>) and reload.</p>\
<p>The schedule is at <a href=/api/schedule>/api/schedule</a>; the live feed at <code>/ws</code>.</p>";

/// For an asset whose name holds its content's hash: kept for a year, never
/// revalidated (a new build names its assets anew).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// For everything else: kept, but asked about again before each use.
const REVALIDATE: &str = "no-cache";

/// The fewest hex digits taken for a content hash in a file name. Trunk writes
/// its 64-bit hashes without leading zeros, so a real one is shorter than this
/// about once in a million builds (and is then merely revalidated), while a
/// word of the names people give files is never this long in hex letters.
const HASH_DIGITS: std::ops::RangeInclusive<usize> = 12..=16;

/// The staff console's page: its folder in the built frontend, and the path
/// it answers, itself and everything under it.
pub(crate) const STAFF: &str = "staff";

/// Files of the built frontend; any other path gets its page's `index.html`,
/// so that links into the single-page apps work.
pub(crate) async fn frontend(State(state): State<AppState>, request: Request<Body>) -> Response {
    serve(&state.static_dir, request).await
}

/// The `index.html` that answers `path` when no file does, and the page's
/// name for people.
fn page_for(dir: &Path, path: &str) -> (PathBuf, &'static str) {
    let staff = path.strip_prefix('/').and_then(|p| p.strip_prefix(STAFF));
    if staff.is_some_and(|rest| rest.is_empty() || rest.starts_with('/')) {
        (dir.join(STAFF).join("index.html"), "The staff console's page")
    } else {
        (dir.join("index.html"), "The web page")
    }
}

async fn serve(dir: &Path, request: Request<Body>) -> Response {
    let (index, page) = page_for(dir, request.uri().path());
    if !tokio::fs::try_exists(&index).await.unwrap_or(false) {
        let mut response = Html(NOT_BUILT.replace("{page}", page)).into_response();
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
        return response;
    }
    let hashed = is_hashed(request.uri().path());
    // The request again, for `index.html` when the path names no file: a GET
    // or HEAD has no body to lose.
    let mut again = Request::new(Body::empty());
    *again.method_mut() = request.method().clone();
    *again.uri_mut() = request.uri().clone();
    *again.headers_mut() = request.headers().clone();

    // A folder is no file: `/staff` is answered by its page below, never
    // redirected to `/staff/`.
    let files =
        ServeDir::new(dir).append_index_html_on_directories(false).precompressed_br().precompressed_gzip();
    let mut response = match files.oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    };
    let mut found = true;
    if response.status() == StatusCode::NOT_FOUND {
        found = false;
        let page = ServeFile::new(index).precompressed_br().precompressed_gzip();
        response = match page.oneshot(again).await {
            Ok(response) => response.into_response(),
            Err(never) => match never {},
        };
    }
    let status = response.status();
    let immutable = found && hashed && (status.is_success() || status == StatusCode::NOT_MODIFIED);
    let headers = response.headers_mut();
    // The same path may be sent in another encoding to another client, so a
    // cache between must keep them apart.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let policy = if immutable { IMMUTABLE } else { REVALIDATE };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}

/// Whether the last segment of `path` is named like trunk's hashed assets:
/// `name-<hex hash>.ext`, or `name-<hex hash>_bg.wasm` for the WebAssembly.
fn is_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let Some((_, after)) = file.rsplit_once('-') else {
        return false;
    };
    let digits = after.bytes().take_while(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')).count();
    let rest = &after[digits..];
    HASH_DIGITS.contains(&digits) && (rest.starts_with('.') || rest.starts_with("_bg."))
}

#[cfg(test)]
mod tests {
    use super::{is_hashed, page_for};

    #[test]
    fn the_staff_console_answers_its_own_path_and_those_under_it() {
        let dir = std::path::Path::new("/dist");
        for staff in ["/staff", "/staff/", "/staff/agenda", "/staff/index.html"] {
            assert_eq!(page_for(dir, staff).0, dir.join("staff/index.html"), "{staff}");
        }
        for patient in ["/", "/manage", "/wait", "/staffroom", "/stafff/x", "/manage/staff", "staff"] {
            assert_eq!(page_for(dir, patient).0, dir.join("index.html"), "{patient}");
        }
    }

    #[test]
    fn trunks_hashed_asset_names_are_told_from_other_names() {
        for hashed in [
            "/frontend-f308e5f59b58cff4_bg.wasm",
            "/frontend-f308e5f59b58cff4.js",
            "/style-60b2544f22750e30.css",
            // A hash with a leading zero is written one digit shorter.
            "/frontend-d661e20a9f32b30.js",
            "/assets/my-app-0123456789abcdef.css",
        ] {
            assert!(is_hashed(hashed), "{hashed}");
        }
        for plain in [
            "/",
            "/index.html",
            "/style.css",
            "/favicon.ico",
            "/manage",
            "/my-facade.css",
            "/frontend-f308e5f59b58cff4",
            "/frontend-F308E5F59B58CFF4.js",
            "/frontend-f308e5f59b58cff4x.js",
            "/frontend-f308e5f59b58cff4.js/",
            "/frontend-f308e5f59b58cff4_x.js",
            "/style-60b2544f22750e30aa1.css",
        ] {
            assert!(!is_hashed(plain), "{plain}");
        }
    }
}
