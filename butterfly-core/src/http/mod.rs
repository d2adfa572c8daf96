//! The shared HTTP stack (being written; this stub holds the event plumbing only).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Something the HTTP stack did that a host may want to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpEvent {
    /// A request is retried.
    Retry {
        /// Bucket.
        bucket: String,
        /// Attempt number.
        attempt: u32,
        /// Status, if any.
        status: Option<u16>,
        /// Wait before the retry.
        wait: Duration,
    },
    /// A pause to stay inside a rate limit.
    RateLimitWait {
        /// Bucket.
        bucket: String,
        /// Wait.
        wait: Duration,
    },
}

/// Receives [`HttpEvent`]s.
pub type EventSink = Arc<dyn Fn(HttpEvent) + Send + Sync>;

/// Runs `fut` with `sink` receiving the HTTP events of requests awaited inside it.
pub async fn with_events<F: Future>(sink: EventSink, fut: F) -> F::Output {
    let _ = sink;
    fut.await
}
