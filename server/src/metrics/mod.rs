//! Prometheus metrics: the process's recorder, and `/metrics` served in the
//! Prometheus text format on a listening address of its own (`--metrics-listen`),
//! optionally behind a bearer token (`--metrics-token`). `record` is what the
//! server counts, one call where each event happens.
//!
//! The `metrics` facade has one recorder per process, and it can be set only
//! once. It is installed the first time a server with a metrics address starts,
//! and every server of the process (tests start many) then records into, and
//! renders, the same registry: its counters are the process's, not one
//! server's, and tests read them as differences. A process whose servers have no
//! metrics address installs none, and recording costs nothing.

mod record;

pub(crate) use record::*;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{Error, Result};

/// Buckets of the commit latency, in seconds: from half a millisecond (SQLite
/// on a fast disk) to two seconds (a database in trouble).
const COMMIT_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0];
/// Buckets of the group-commit size: powers of two up to the largest batch.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
/// How often histogram samples are folded into their buckets between scrapes,
/// so that they never pile up in memory when nobody scrapes.
const UPKEEP: Duration = Duration::from_secs(5);
/// The shortest metrics token accepted: a short one could be guessed.
const MIN_TOKEN_CHARS: usize = 16;
/// The media type of the Prometheus text format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The process's recorder, installed on first use.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(COMMIT_SECONDS.into()), COMMIT_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(BATCH_SIZE.into()), BATCH_BUCKETS))
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if ::metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics shows nothing of the server's");
        }
        describe();
        let upkeep = handle.clone();
        let started = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
            loop {
                std::thread::sleep(UPKEEP);
                upkeep.run_upkeep();
            }
        });
        if let Err(e) = started {
            tracing::warn!(error = %e, "no upkeep of the metrics; histograms are folded at each scrape only");
        }
        handle
    })
}

/// The `/metrics` listener of one server, bound and not yet serving.
pub(crate) struct Endpoint {
    listener: TcpListener,
    /// The hash of the token a scrape must send, when one is asked.
    token: Option<Arc<[u8]>>,
}

impl Endpoint {
    /// Installs the recorder (once per process) and binds `addr`; nothing when
    /// no address is given.
    pub(crate) async fn bind(addr: Option<SocketAddr>, token: Option<String>) -> Result<Option<Self>> {
        let Some(addr) = addr else { return Ok(None) };
        if let Some(token) = &token
            && token.chars().count() < MIN_TOKEN_CHARS
        {
            return Err(Error::Setting(format!(
                "the metrics token is too short: at least {MIN_TOKEN_CHARS} random characters are needed"
            )));
        }
        handle();
        let listener = TcpListener::bind(addr).await?;
        Ok(Some(Self { listener, token: token.map(|t| digest(&t)) }))
    }

    /// The address actually bound.
    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves `/metrics` until `shutdown` says the server is stopping.
    pub(crate) fn serve(self, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        let router = Router::new().route("/metrics", get(scrape)).with_state(self.token);
        tokio::spawn(async move {
            let stopping = async move {
                // An error means the server is gone altogether, which is stopping too.
                let _ = shutdown.wait_for(|stopping| *stopping).await;
            };
            if let Err(e) = axum::serve(self.listener, router).with_graceful_shutdown(stopping).await {
                tracing::error!(error = %e, "the metrics listener failed");
            }
        })
    }
}

/// The hash a token is compared by, so that the comparison takes the same time
/// whatever the token given has in common with the right one.
fn digest(token: &str) -> Arc<[u8]> {
    Sha256::digest(token.as_bytes()).to_vec().into()
}

/// `GET /metrics`: every metric, in the Prometheus text format.
async fn scrape(State(token): State<Option<Arc<[u8]>>>, headers: HeaderMap) -> Response {
    if let Some(expected) = token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| digest(t.trim()));
        if given.as_deref() != Some(&*expected) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "a bearer token is needed",
            )
                .into_response();
        }
    }
    ([(header::CONTENT_TYPE, TEXT_FORMAT)], handle().render()).into_response()
}

/// `GET /metrics` on the public listener: not there. Metrics are served only
/// on the address of `--metrics-listen`; this answers a scraper pointed at the
/// wrong port plainly instead of with the web page.
pub(crate) async fn not_here() -> StatusCode {
    StatusCode::NOT_FOUND
}
