//! Builds the page with trunk, offline, in release mode (the `wasm-release`
//! profile, which the html files name), twice: the patient page into
//! `frontend/dist`, and the staff console's page, with the `staff` feature,
//! into `frontend/dist/staff`, which the server serves at `/staff`. Then it
//! writes a brotli and a gzip copy beside each file worth compressing in both,
//! which the server sends to the browsers that take them.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

/// Where trunk writes the page (`Trunk.toml`).
const DIST: &str = "frontend/dist";

/// Where the staff console's page goes, and the address the server serves it
/// at, which its html names its assets under.
const STAFF_DIST: &str = "frontend/dist/staff";
const STAFF_URL: &str = "/staff/";

/// The kinds of file that shrink when compressed; images and fonts are
/// compressed already.
const COMPRESSIBLE: &[&str] = &["css", "html", "js", "json", "map", "mjs", "svg", "txt", "wasm", "xml"];

pub(crate) fn run(sh: &Shell) -> Result<()> {
    crate::setup::run(sh)?;
    // The patient page first: trunk empties the folder it writes to, and the
    // console's folder is inside it. The second build shares the target
    // directory, where the dependencies are built once for both.
    // (`--offline` takes an optional value, so it is given one: a bare one
    // would take the html file for it.)
    let started = Instant::now();
    cmd!(sh, "trunk build --release --offline=true").run()?;
    let patient = started.elapsed();
    let started = Instant::now();
    cmd!(sh, "trunk build frontend/staff.html --release --offline=true --dist {STAFF_DIST} --public-url {STAFF_URL}")
        .run()?;
    let staff = started.elapsed();
    eprintln!("built the patient page in {patient:.1?} and the staff console in {staff:.1?}");
    for file in precompress(&sh.current_dir().join(DIST))? {
        eprintln!("{file}");
    }
    Ok(())
}

/// One file and the sizes of its copies, for the build's output.
struct Compressed {
    name: String,
    raw: usize,
    brotli: usize,
    gzip: usize,
}

impl std::fmt::Display for Compressed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self { name, raw, brotli, gzip } = self;
        write!(f, "{name}: {raw} bytes, brotli {brotli}, gzip {gzip}")
    }
}

/// Writes `name.br` and `name.gz` beside each compressible file under `dir`,
/// each only when it is smaller than the file (and removes an old copy that
/// is not).
fn precompress(dir: &Path) -> Result<Vec<Compressed>> {
    let mut done = Vec::new();
    for path in files(dir)? {
        let compressible =
            path.extension().and_then(|e| e.to_str()).is_some_and(|e| COMPRESSIBLE.contains(&e));
        if !compressible {
            continue;
        }
        let raw = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let brotli = keep_if_smaller(&path, "br", &raw, brotli(&raw)?)?;
        let gzip = keep_if_smaller(&path, "gz", &raw, gzip(&raw)?)?;
        let name = path.strip_prefix(dir).unwrap_or(&path).display().to_string();
        done.push(Compressed { name, raw: raw.len(), brotli, gzip });
    }
    Ok(done)
}

/// Writes `compressed` to `path` + `.extension` when it is smaller than `raw`;
/// returns the size the server will send.
fn keep_if_smaller(path: &Path, extension: &str, raw: &[u8], compressed: Vec<u8>) -> Result<usize> {
    let mut copy = path.as_os_str().to_owned();
    copy.push(".");
    copy.push(extension);
    let copy = PathBuf::from(copy);
    if compressed.len() < raw.len() {
        std::fs::write(&copy, &compressed).with_context(|| format!("writing {}", copy.display()))?;
        Ok(compressed.len())
    } else {
        if copy.exists() {
            std::fs::remove_file(&copy).with_context(|| format!("removing {}", copy.display()))?;
        }
        Ok(raw.len())
    }
}

/// The files under `dir`, its subdirectories' too, in name order.
fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                dirs.push(entry.path());
            } else {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Brotli at its best, with the window as large as the file needs: the page is
/// compressed once per build and sent many times.
fn brotli(raw: &[u8]) -> Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 24,
        size_hint: raw.len(),
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &raw[..], &mut out, &params)?;
    Ok(out)
}

/// Gzip at its best, for the clients that take no brotli.
fn gzip(raw: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(raw)?;
    Ok(encoder.finish()?)
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[test]
    fn each_compressible_file_gets_copies_that_decompress_to_it() {
        let dir = tempdir();
        let page = "<!doctype html><p>The schedule</p>".repeat(50);
        let script = "export function hello() { return 'hello'; }\n".repeat(200);
        std::fs::write(dir.join("index.html"), &page).unwrap();
        std::fs::create_dir(dir.join("snippets")).unwrap();
        std::fs::write(dir.join("snippets/app-0123456789abcdef.js"), &script).unwrap();
        // Already compressed: copies would only cost room.
        std::fs::write(dir.join("logo.png"), [137, 80, 78, 71]).unwrap();

        let done = precompress(&dir).unwrap();

        let names: Vec<&str> = done.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["index.html", "snippets/app-0123456789abcdef.js"]);
        for (name, raw) in [("index.html", &page), ("snippets/app-0123456789abcdef.js", &script)] {
            let brotli_copy = std::fs::read(dir.join(format!("{name}.br"))).unwrap();
            let mut unbrotli = Vec::new();
            brotli::Decompressor::new(&brotli_copy[..], 4096).read_to_end(&mut unbrotli).unwrap();
            assert_eq!(unbrotli, raw.as_bytes(), "{name}.br");
            let gzip_copy = std::fs::read(dir.join(format!("{name}.gz"))).unwrap();
            let mut ungzip = Vec::new();
            flate2::read::GzDecoder::new(&gzip_copy[..]).read_to_end(&mut ungzip).unwrap();
            assert_eq!(ungzip, raw.as_bytes(), "{name}.gz");
            let sizes = done.iter().find(|c| c.name == name).unwrap();
            assert_eq!((sizes.brotli, sizes.gzip), (brotli_copy.len(), gzip_copy.len()));
            assert!(sizes.brotli < sizes.raw && sizes.gzip < sizes.raw, "{sizes}");
        }
        assert!(!dir.join("logo.png.br").exists() && !dir.join("logo.png.gz").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_that_would_not_shrink_keeps_no_copy() {
        let dir = tempdir();
        std::fs::write(dir.join("tiny.js"), "x").unwrap();
        // A copy left from an earlier build of other content goes.
        std::fs::write(dir.join("tiny.js.br"), "stale").unwrap();

        let done = precompress(&dir).unwrap();

        assert_eq!((done[0].raw, done[0].brotli, done[0].gzip), (1, 1, 1));
        assert!(!dir.join("tiny.js.br").exists() && !dir.join("tiny.js.gz").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A fresh directory of this test's own (xtask has no temp-dir crate).
    fn tempdir() -> PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("xtask-precompress-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
