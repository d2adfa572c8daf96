//! The layers of [`HttpClient::send`](super::HttpClient::send), one concern each, composed in
//! the order drawn in the [`http`](super) module docs (outermost first):
//!
//! ```text
//! retry ─▶ errors ─▶ reauth ─▶ gate ─▶ pace ─▶ in-flight ─▶ authorize ─▶ transport
//! ```
//!
//! In the manner of opendal's layers, each one wraps the next and knows nothing of the
//! others. They are plain structs borrowed for one request, each with an async `call` that
//! takes what comes next: a future for the layers that pass through once, a closure making a
//! fresh future for the two that send again (retry, reauth). So a test runs a layer alone
//! with a scripted `next`, no server needed.
//!
//! What the layers share lives here: the per-bucket state ([`Bucket`]: gate numbers, limiter,
//! request count) and the client's counters ([`Counters`]).

mod auth;
mod errors;
mod gate;
mod limit;
mod retry;
mod transport;

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

pub(crate) use auth::{AuthorizeLayer, ReauthLayer};
pub(crate) use errors::{ErrorLayer, Failure};
pub(crate) use gate::GateLayer;
pub(crate) use limit::{InFlightLayer, PaceLayer};
pub(crate) use retry::RetryLayer;
pub(crate) use transport::Transport;

use super::BucketSpec;
use gate::GateState;

/// The counters behind [`HttpStats`](super::HttpStats) that are not per bucket.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Retries (not counting the one re-send after a 401).
    pub retries: AtomicU64,
    /// 429 responses seen.
    pub rate_limited: AtomicU64,
    /// Time spent waiting on gates, the limiter and before retries, in milliseconds.
    pub waited_ms: AtomicU64,
}

impl Counters {
    /// Adds `wait` to the time spent waiting.
    pub fn waited(&self, wait: Duration) {
        self.waited_ms
            .fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
    }
}

/// One rate-limit bucket's state, shared by every request classified into it.
pub(crate) struct Bucket {
    /// What the bucket was configured (or first seen) with.
    pub spec: BucketSpec,
    /// Share of the limit this client may use.
    share: f64,
    /// How far the limiter may catch up after falling behind.
    burst: u32,
    /// The limit the limiter was sized for, and the limiter.
    limiter: RwLock<(u32, Arc<DefaultDirectRateLimiter>)>,
    /// What the server's rate-limit headers last said.
    gate: Mutex<GateState>,
    /// Requests sent (including retries).
    pub requests: AtomicU64,
}

impl Bucket {
    /// A bucket for `spec`, of which this client uses `share`, catching up by `burst`.
    pub fn new(spec: BucketSpec, share: f64, burst: u32) -> Bucket {
        let l = limiter(spec.limit, spec.period, share, burst);
        Bucket {
            limiter: RwLock::new((spec.limit, l)),
            spec,
            share,
            burst,
            gate: Mutex::default(),
            requests: AtomicU64::new(0),
        }
    }

    /// The current limiter (replaced when the server announces another limit).
    pub fn limiter(&self) -> Arc<DefaultDirectRateLimiter> {
        self.limiter
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .clone()
    }

    /// Re-sizes the limiter for `limit`, if that is new.
    fn resize(&self, limit: u32) {
        let mut l = self.limiter.write().unwrap_or_else(|p| p.into_inner());
        if l.0 != limit && limit > 0 {
            *l = (
                limit,
                limiter(limit, self.spec.period, self.share, self.burst),
            );
        }
    }

    /// The gate numbers, locked.
    fn gate(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.gate.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn limiter(limit: u32, period: Duration, share: f64, burst: u32) -> Arc<DefaultDirectRateLimiter> {
    let allowed = ((limit as f64 * share).floor() as u32).max(1);
    let per = (period / allowed).max(Duration::from_micros(1));
    let quota = Quota::with_period(per).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN));
    // A token-bucket API lets a client that fell behind its pace catch up; never more than
    // its share of the bucket at once.
    let burst = NonZeroU32::new(burst.clamp(1, allowed)).unwrap_or(NonZeroU32::MIN);
    Arc::new(RateLimiter::direct(quota.allow_burst(burst)))
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the layers' unit tests.

    use std::sync::{Arc, Mutex};

    use bytes::Bytes;
    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

    use crate::http::{HttpEvent, Response, with_events};

    /// A response with `status`, `headers` and an empty JSON object as body.
    pub fn answer(status: u16, headers: &[(&str, &str)]) -> Response {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        Response {
            status,
            headers: map,
            body: Bytes::from_static(b"{}"),
            url: "https://idp.example.invalid/x".to_string(),
        }
    }

    /// Runs `fut` and returns its output with the events it emitted.
    pub async fn events<F: std::future::Future>(fut: F) -> (F::Output, Vec<HttpEvent>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let out = with_events(Arc::new(move |e| sink.lock().unwrap().push(e)), fut).await;
        let seen = seen.lock().unwrap().clone();
        (out, seen)
    }
}
