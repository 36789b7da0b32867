//! The `/ws` endpoint. The handler only upgrades; `serve_connection` (in
//! `connection`) is the whole life of one connection; `requests` carries out
//! what a client asks.
//!
//! The upgrade is done here rather than by axum's extractor: the connection
//! takes the TCP socket itself, reads client frames with `frames`' decoder (no
//! read buffer while the client is silent) and writes through its outlet (see
//! `fanout`), so that an update is framed once and the same bytes go to every
//! socket.

mod connection;
mod frames;
mod requests;
mod resync;

pub use connection::serve_connection;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use protocol::Version;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tracing::Instrument;

use crate::AppState;
use crate::address::ClientKey;
use crate::limits::Refusal;

/// The header of a server text frame of `len` bytes, and how many of its bytes
/// are used: for the fan-out, which frames each update once.
pub(crate) fn frame_header(len: usize) -> ([u8; 10], usize) {
    frames::header(frames::TEXT, len)
}

/// A ping frame, as the fan-out sends it to every connection now and then.
pub(crate) fn ping_frame() -> bytes::Bytes {
    frames::ping()
}

/// Whether a page of `origin` may open a connection: this server's own host, a
/// configured origin, or no `Origin` at all (not a browser). This stops other
/// sites' pages from using a visitor's browser against the server (cross-site
/// WebSocket hijacking).
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let own = origin.split_once("://").is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host));
    own || allowed.iter().any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
}

/// The version a reconnecting client says it holds: `/ws?lastVersion=42`.
fn last_version(query: Option<&str>) -> Option<Version> {
    query?.split('&').find_map(|pair| pair.strip_prefix("lastVersion=")?.parse().ok())
}

/// Upgrades `GET /ws` (or `/ws?lastVersion=N` for a client that comes back
/// holding version N) to a WebSocket connection.
pub async fn handler(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
) -> Response {
    let Some(accept) = handshake_accept(request.method(), request.headers()) else {
        crate::metrics::connection_refused(crate::metrics::Refused::Handshake);
        return (StatusCode::BAD_REQUEST, "expected a WebSocket upgrade (RFC 6455)").into_response();
    };
    if !origin_allowed(request.headers(), &state.allowed_origins) {
        tracing::warn!(origin = ?request.headers().get(header::ORIGIN), "refused a page of another site");
        crate::metrics::connection_refused(crate::metrics::Refused::Origin);
        return (StatusCode::FORBIDDEN, "this origin may not connect").into_response();
    }
    let forwarded_for: Vec<Option<&str>> =
        request.headers().get_all("x-forwarded-for").iter().map(|v| v.to_str().ok()).collect();
    let client = ClientKey::of(state.trusted_proxies.client_address(peer.ip(), &forwarded_for));
    // Counted before the upgrade, so that a flood of handshakes cannot overshoot.
    let limits = &state.limits;
    let counted = match state.connections.open(
        client,
        limits.connections_per_address,
        &state.open_connections,
        limits.max_connections,
    ) {
        Ok(counted) => counted,
        Err(Refusal::PerAddress) => {
            tracing::warn!(%client, "refused a connection: too many from this address");
            crate::metrics::connection_refused(crate::metrics::Refused::PerAddress);
            let body = "too many connections from your address; close some pages and try again";
            return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "10")], body).into_response();
        }
        Err(Refusal::Total) => {
            tracing::warn!("refused a connection: at the limit");
            crate::metrics::connection_refused(crate::metrics::Refused::Full);
            return (StatusCode::SERVICE_UNAVAILABLE, "too many connections; try again shortly")
                .into_response();
        }
    };
    let Some(on_upgrade) = request.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
        return (StatusCode::BAD_REQUEST, "this connection cannot be upgraded").into_response();
    };
    let resume = last_version(request.uri().query());
    // Every line this connection logs carries its id (recorded once it is
    // known) and its client's address.
    let span = tracing::info_span!("conn", id = tracing::field::Empty, peer = %client);
    tokio::spawn(
        async move {
            let _counted = counted;
            match on_upgrade.await {
                // The server's listener hands hyper plain TCP sockets (axum
                // serves them with hyper-util's automatic HTTP/1 and HTTP/2
                // builder, hence its downcast), so this is the socket itself,
                // with whatever the client sent right after its handshake.
                Ok(upgraded) => {
                    match hyper_util::server::conn::auto::upgrade::downcast::<TokioIo<TcpStream>>(upgraded) {
                        Ok(parts) => {
                            serve_connection(parts.io.into_inner(), parts.read_buf, state, client, resume)
                                .await
                        }
                        Err(_) => tracing::error!("an upgraded connection is not a TCP socket"),
                    }
                }
                Err(e) => tracing::debug!(error = %e, "upgrade failed"),
            }
        }
        .instrument(span),
    );
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

/// The `Sec-WebSocket-Accept` value for a valid upgrade request, or `None`.
fn handshake_accept(method: &Method, headers: &HeaderMap) -> Option<String> {
    let has = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str().is_ok_and(|v| v.split(',').any(|part| part.trim().eq_ignore_ascii_case(token)))
        })
    };
    let version_ok = headers.get(header::SEC_WEBSOCKET_VERSION).is_some_and(|v| v == "13");
    let key = headers.get(header::SEC_WEBSOCKET_KEY)?;
    (method == Method::GET
        && has(header::CONNECTION, "upgrade")
        && has(header::UPGRADE, "websocket")
        && version_ok)
        .then(|| derive_accept_key(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_a_client_holds_comes_from_the_query() {
        assert_eq!(last_version(Some("lastVersion=42")), Some(42));
        assert_eq!(last_version(Some("x=1&lastVersion=7")), Some(7));
        assert_eq!(last_version(Some("lastVersion=-1")), None);
        assert_eq!(last_version(Some("lastVersion=")), None);
        assert_eq!(last_version(None), None);
    }
}
