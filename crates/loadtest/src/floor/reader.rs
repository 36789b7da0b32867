//! The floor benchmark's reading process: opens the connections, reads and
//! discards everything, and tells the writer on its standard output when all
//! connections are up (`ready`) and when the bytes read reach each mode's end
//! (`received BYTES`).

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use tokio::io::AsyncReadExt;
use tokio::net::TcpSocket;
use tokio::sync::Semaphore;

/// Connections opened at the same time, few enough for the listen backlog.
const CONNECT_CONCURRENCY: usize = 100;

/// Runs the reading process: `connections` connections to `addr` from
/// 127.0.0.1 … 127.0.0.`sources`, reporting each of `targets` (bytes read in
/// all) once it is reached. Returns once the writer has closed them all.
pub fn run_reader(addr: SocketAddr, connections: usize, sources: u8, targets: Vec<u64>) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(read_all(addr, connections, sources, Arc::new(targets)))
}

async fn read_all(addr: SocketAddr, connections: usize, sources: u8, targets: Arc<Vec<u64>>) -> Result<()> {
    let permits = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut opening = Vec::with_capacity(connections);
    for i in 0..connections {
        let permits = permits.clone();
        let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + (i % usize::from(sources.max(1))) as u8));
        opening.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await?;
            let socket = TcpSocket::new_v4()?;
            socket.bind(SocketAddr::new(source, 0))?;
            anyhow::Ok(socket.connect(addr).await?)
        }));
    }
    let mut streams = Vec::with_capacity(connections);
    for (i, handle) in opening.into_iter().enumerate() {
        match handle.await? {
            Ok(stream) => streams.push(stream),
            Err(e) => bail!("connection {i} of {connections} failed: {e:#}"),
        }
    }

    let total = Arc::new(AtomicU64::new(0));
    let mut reading = Vec::with_capacity(connections);
    for mut stream in streams {
        let (total, targets) = (total.clone(), targets.clone());
        reading.push(tokio::spawn(async move {
            // As large as a load-test client's read buffer.
            let mut buffer = vec![0u8; 4096];
            while let Ok(n @ 1..) = stream.read(&mut buffer).await {
                let before = total.fetch_add(n as u64, Ordering::AcqRel);
                let after = before + n as u64;
                // Whoever's read crosses a target reports it, once.
                for target in targets.iter().filter(|&&t| before < t && t <= after) {
                    report(&format!("received {target}"));
                }
            }
        }));
    }
    report("ready");
    for handle in reading {
        handle.await.context("a reading task failed")?;
    }
    Ok(())
}

/// One line to the writer, at once.
fn report(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
