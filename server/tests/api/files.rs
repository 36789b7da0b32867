//! The built page's files over real HTTP: each sent as its brotli or gzip copy
//! as the client accepts, decoding to the very file; `Vary: Accept-Encoding`
//! on all of them; trunk's hashed assets kept for a year, everything else
//! revalidated, an unchanged file then answered `304`; the staff console's
//! page and its assets under `/staff`; and the security headers on all of it.

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::Path;

use base64::Engine as _;
use sha2::Digest as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::{Options, spawn_app, spawn_with};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const WASM: &str = "/frontend-0123456789abcdef_bg.wasm";
const SCRIPT: &str = "/frontend-0123456789abcdef.js";
/// Built without compressed copies, as `trunk serve` builds everything.
const STYLE: &str = "/style-fedcba987654321.css";
/// The page's one inline script, which its policy allows by hash.
const LOADER: &str = "import init from '/frontend-0123456789abcdef.js'; init();";
/// The staff console's script, built apart from the patient page's.
const STAFF_SCRIPT: &str = "/staff/frontend-fedcba9876543210.js";
/// The staff console's page's inline script.
const STAFF_LOADER: &str = "import init from '/staff/frontend-fedcba9876543210.js'; init();";

/// A built page in a temporary directory, as `cargo xtask frontend` leaves it.
fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let index =
        format!("<!doctype html><title>Booking page</title><script type=\"module\">{LOADER}</script>");
    // Something like code: repetitive enough to compress, varied enough that
    // a wrong decoding cannot pass for a right one.
    let wasm: Vec<u8> =
        (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 27) as u8 ^ (i % 7) as u8).collect();
    let script = "export function slot(id) { return document.getElementById(id); }\n".repeat(300);
    for (name, body) in
        [("index.html", index.as_bytes()), (&WASM[1..], &wasm), (&SCRIPT[1..], script.as_bytes())]
    {
        write(dir.path(), name, body);
        write(dir.path(), &format!("{name}.br"), &brotli(body));
        write(dir.path(), &format!("{name}.gz"), &gzip(body));
    }
    write(dir.path(), &STYLE[1..], "body { margin: 0; }\n".repeat(100).as_bytes());
    write(dir.path(), "robots.txt", b"User-agent: *\nDisallow: /manage\n");
    std::fs::create_dir(dir.path().join("staff")).unwrap();
    let staff_index =
        format!("<!doctype html><title>Staff console</title><script type=\"module\">{STAFF_LOADER}</script>");
    let staff_script = "export function agenda(day) { return day.bookings.length; }\n".repeat(300);
    for (name, body) in [("staff/index.html", staff_index), (&STAFF_SCRIPT[1..], staff_script)] {
        write(dir.path(), name, body.as_bytes());
        write(dir.path(), &format!("{name}.br"), &brotli(body.as_bytes()));
        write(dir.path(), &format!("{name}.gz"), &gzip(body.as_bytes()));
    }
    dir
}

fn write(dir: &Path, name: &str, body: &[u8]) {
    std::fs::write(dir.join(name), body).unwrap();
}

fn file(dir: &tempfile::TempDir, path: &str) -> Vec<u8> {
    std::fs::read(dir.path().join(path.trim_start_matches('/'))).unwrap()
}

fn brotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
    writer.write_all(body).unwrap();
    drop(writer);
    out
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(body).unwrap();
    encoder.finish().unwrap()
}

/// A response as it came over the socket.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body with its `Content-Encoding` undone.
    fn decoded(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self.header("content-encoding") {
            None => return self.body.clone(),
            Some("br") => {
                brotli::Decompressor::new(&self.body[..], 4096).read_to_end(&mut out).unwrap();
            }
            Some("gzip") => {
                flate2::read::GzDecoder::new(&self.body[..]).read_to_end(&mut out).unwrap();
            }
            Some(other) => panic!("an encoding nobody asked for: {other}"),
        }
        out
    }
}

/// A raw HTTP/1.1 request with the given headers.
async fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let end = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head");
    let head = String::from_utf8(response[..end].to_vec()).unwrap();
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let reply = Reply { status, headers, body: response[end + 4..].to_vec() };
    assert_ne!(reply.header("transfer-encoding"), Some("chunked"), "files are sent with their length");
    reply
}

async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    request(addr, "GET", path, headers).await
}

#[tokio::test]
async fn each_file_comes_in_the_encoding_the_client_prefers_and_decodes_to_the_file() {
    let dist = dist();
    let app = spawn_with(Options { static_dir: dist.path().into(), ..Options::default() }).await;
    let chromium = "gzip, deflate, br, zstd";
    let cases = [
        (Some("br"), Some("br")),
        (Some("gzip"), Some("gzip")),
        (Some(chromium), Some("br")),
        (Some("br;q=0.5, gzip"), Some("gzip")),
        (Some("br;q=0, gzip;q=0"), None),
        (Some("identity"), None),
        (None, None),
    ];
    for path in ["/", "/index.html", WASM, SCRIPT] {
        let name = if path == "/" { "index.html" } else { &path[1..] };
        let raw = file(&dist, name);
        for (accept, encoding) in cases {
            let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept-Encoding", a)).into_iter().collect();

            let reply = get(app.addr, path, &headers).await;

            let case = format!("{path} with Accept-Encoding {accept:?}");
            assert_eq!(reply.status, 200, "{case}");
            assert_eq!(reply.header("content-encoding"), encoding, "{case}");
            assert_eq!(reply.header("vary"), Some("accept-encoding"), "{case}");
            assert_eq!(reply.header("content-length"), Some(reply.body.len().to_string().as_str()), "{case}");
            assert_eq!(reply.decoded(), raw, "{case}: decodes to the file");
            let copy = match encoding {
                Some("br") => file(&dist, &format!("{name}.br")),
                Some(_) => file(&dist, &format!("{name}.gz")),
                None => raw.clone(),
            };
            assert_eq!(reply.body, copy, "{case}: the copy made at build time");
        }
    }
    let wasm = get(app.addr, WASM, &[("Accept-Encoding", chromium)]).await;
    assert_eq!(wasm.header("content-type"), Some("application/wasm"), "browsers compile it as it streams in");
    let page = get(app.addr, "/manage/abc", &[("Accept-Encoding", "br")]).await;
    assert_eq!((page.status, page.header("content-encoding")), (200, Some("br")), "deep links get the app");
    assert_eq!(page.decoded(), file(&dist, "index.html"));
}

#[tokio::test]
async fn a_file_without_compressed_copies_is_sent_as_it_is() {
    let dist = dist();
    let app = spawn_with(Options { static_dir: dist.path().into(), ..Options::default() }).await;

    let reply = get(app.addr, STYLE, &[("Accept-Encoding", "gzip, deflate, br, zstd")]).await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-encoding"), None);
    assert_eq!(reply.header("vary"), Some("accept-encoding"));
    assert_eq!(reply.header("content-type"), Some("text/css"));
    assert_eq!(reply.body, file(&dist, STYLE));
}

#[tokio::test]
async fn hashed_assets_are_kept_for_a_year_and_everything_else_is_revalidated() {
    let dist = dist();
    let app = spawn_with(Options { static_dir: dist.path().into(), ..Options::default() }).await;

    for path in [WASM, SCRIPT, STYLE] {
        let reply = get(app.addr, path, &[("Accept-Encoding", "br")]).await;
        assert_eq!((reply.status, reply.header("cache-control")), (200, Some(IMMUTABLE)), "{path}");
    }
    // The page itself, any deep link into it, a file with a name of its own,
    // and a hashed name that no file has (the page answers it) are asked about
    // again before each use.
    let missing = "/frontend-00000000deadbeef.js";
    for path in ["/", "/index.html", "/manage/abc", "/staff", "/robots.txt", missing] {
        let reply = get(app.addr, path, &[("Accept-Encoding", "br")]).await;
        assert_eq!((reply.status, reply.header("cache-control")), (200, Some("no-cache")), "{path}");
    }
    let answered = get(app.addr, missing, &[]).await;
    assert_eq!(answered.body, file(&dist, "index.html"), "a missing asset is answered by the page");

    let unbuilt = spawn_app().await;
    let reply = get(unbuilt.addr, "/", &[]).await;
    assert!(String::from_utf8_lossy(&reply.body).contains("cargo xtask"));
    assert_eq!(reply.header("cache-control"), Some("no-cache"), "the page is fetched once it is built");
}

#[tokio::test]
async fn an_unchanged_file_is_answered_304_when_revalidated() {
    let dist = dist();
    let app = spawn_with(Options { static_dir: dist.path().into(), ..Options::default() }).await;

    for (path, policy) in [("/", "no-cache"), (SCRIPT, IMMUTABLE), (STYLE, IMMUTABLE)] {
        for accept in ["br", "gzip", "identity"] {
            let first = get(app.addr, path, &[("Accept-Encoding", accept)]).await;
            let modified = first.header("last-modified").expect("a Last-Modified to revalidate with");

            let again =
                get(app.addr, path, &[("Accept-Encoding", accept), ("If-Modified-Since", modified)]).await;

            let case = format!("{path} in {accept}");
            assert_eq!(again.status, 304, "{case}");
            assert!(again.body.is_empty(), "{case}");
            assert_eq!(again.header("cache-control"), Some(policy), "{case}");
            assert_eq!(again.header("vary"), Some("accept-encoding"), "{case}");
            let earlier = "Mon, 01 Jan 2024 00:00:00 GMT";
            let changed =
                get(app.addr, path, &[("Accept-Encoding", accept), ("If-Modified-Since", earlier)]).await;
            assert_eq!(changed.status, 200, "{case}: a copy from before the build is replaced");
        }
    }
}

#[tokio::test]
async fn the_compressed_page_keeps_its_security_headers() {
    let dist = dist();
    let app = spawn_with(Options { static_dir: dist.path().into(), ..Options::default() }).await;

    for accept in ["br", "gzip", "identity"] {
        let reply = get(app.addr, "/", &[("Accept-Encoding", accept)]).await;

        let policy = reply.header("content-security-policy").expect("a policy");
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(LOADER));
        assert!(policy.contains(&format!("'sha256-{hash}'")), "the loader is allowed in {accept}: {policy}");
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(reply.header("x-frame-options"), Some("DENY"));
    }
    let head = request(app.addr, "HEAD", WASM, &[("Accept-Encoding", "br")]).await;
    assert_eq!((head.status, head.header("content-encoding")), (200, Some("br")));
    assert_eq!(
        head.header("content-length"),
        Some(file(&dist, &format!("{WASM}.br")).len().to_string().as_str())
    );
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn the_staff_console_has_its_own_page_under_staff_with_its_assets_and_its_script_allowed() {
    let dist = dist();
    let app = spawn_with(Options { static_dir: dist.path().into(), ..Options::default() }).await;
    let loader = |script: &str| {
        format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script)))
    };

    for path in ["/staff", "/staff/", "/staff/index.html", "/staff/agenda?day=2"] {
        let reply = get(app.addr, path, &[("Accept-Encoding", "br")]).await;

        assert_eq!((reply.status, reply.header("content-encoding")), (200, Some("br")), "{path}");
        assert_eq!(reply.decoded(), file(&dist, "staff/index.html"), "{path}: the console's page");
        assert_eq!(reply.header("cache-control"), Some("no-cache"), "{path}");
        let policy = reply.header("content-security-policy").expect("a policy");
        assert!(policy.contains(&loader(STAFF_LOADER)), "{path}: its loader is allowed: {policy}");
    }
    let script = get(app.addr, STAFF_SCRIPT, &[("Accept-Encoding", "gzip")]).await;
    assert_eq!((script.status, script.header("content-encoding")), (200, Some("gzip")));
    assert_eq!(script.decoded(), file(&dist, STAFF_SCRIPT));
    assert_eq!(script.header("cache-control"), Some(IMMUTABLE), "a hashed asset of the console");
    // The patient page is not the console's, though the policy is the same.
    for path in ["/", "/staffroom", "/manage/staff"] {
        let reply = get(app.addr, path, &[]).await;
        assert_eq!(reply.body, file(&dist, "index.html"), "{path}: the patient page");
        let policy = reply.header("content-security-policy").expect("a policy");
        assert!(policy.contains(&loader(LOADER)) && policy.contains(&loader(STAFF_LOADER)), "{policy}");
    }
}

#[tokio::test]
async fn a_staff_console_not_built_says_so_and_the_patient_page_is_served_still() {
    let dist = dist();
    std::fs::remove_dir_all(dist.path().join("staff")).unwrap();
    let app = spawn_with(Options { static_dir: dist.path().into(), ..Options::default() }).await;

    for path in ["/staff", "/staff/agenda", STAFF_SCRIPT] {
        let reply = get(app.addr, path, &[("Accept-Encoding", "br")]).await;

        let body = String::from_utf8_lossy(&reply.body);
        assert_eq!(reply.status, 200, "{path}");
        assert!(body.contains("staff console") && body.contains("cargo xtask frontend"), "{path}: {body}");
        assert_eq!(reply.header("cache-control"), Some("no-cache"), "{path}: fetched once it is built");
    }
    let patient = get(app.addr, "/", &[]).await;
    assert_eq!(patient.body, file(&dist, "index.html"));
    let policy = patient.header("content-security-policy").expect("a policy");
    assert_eq!(policy.matches("'sha256-").count(), 1, "the patient page's loader only: {policy}");
}
