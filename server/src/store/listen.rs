//! PostgreSQL notifications of other instances' commits: one listening
//! connection per instance, subscribed again whenever it is lost.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::mpsc;

use super::Signal;
use super::writer::CHANNEL;
use crate::Result;

/// A listening connection subscribed to the change channel.
pub(super) async fn subscribe(options: &PgConnectOptions) -> Result<PgListener> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.clone())
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Forwards notifications to the engine until it stops listening. When the
/// connection is lost, subscribes again, and then tells the engine to catch up
/// from the database, since notifications sent meanwhile are gone.
pub(super) async fn listen(options: PgConnectOptions, first: PgListener, signals: mpsc::Sender<Signal>) {
    let mut listener = Some(first);
    let mut retry = Duration::from_millis(100);
    loop {
        let mut current = match listener.take() {
            Some(l) => l,
            None => match subscribe(&options).await {
                Ok(l) => {
                    tracing::info!("listening for other instances' changes again");
                    crate::metrics::listener_reconnected();
                    retry = Duration::from_millis(100);
                    if signals.send(Signal::CatchUp).await.is_err() {
                        return;
                    }
                    l
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for other instances' changes; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(retry) => {}
                        () = signals.closed() => return,
                    }
                    retry = (retry * 2).min(Duration::from_secs(5));
                    continue;
                }
            },
        };
        loop {
            let received = tokio::select! {
                received = current.try_recv() => received,
                () = signals.closed() => return,
            };
            let signal = match received {
                Ok(Some(n)) => n.payload().parse().map_or(Signal::CatchUp, Signal::Committed),
                Ok(None) => {
                    tracing::warn!("the listening connection was lost");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the listening connection failed");
                    break;
                }
            };
            // A full queue already holds a signal that makes the engine read
            // every change; one more adds nothing.
            match signals.try_send(signal) {
                Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => {}
                Err(mpsc::error::TrySendError::Closed(_)) => return,
            }
        }
    }
}
