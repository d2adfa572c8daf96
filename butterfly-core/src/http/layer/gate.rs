//! The adaptive rate gate: fed by the provider's rate-limit headers (`X-Rate-Limit-*`,
//! `x-ratelimit-*`), it holds requests of a bucket whose remaining budget has fallen to the
//! share kept for others until the window resets, so the client slows *before* a 429.

use std::future::Future;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use super::{Bucket, Counters};
use crate::error::Result;
use crate::http::{HttpEvent, Response, emit};

/// What the server's rate-limit headers last said about a bucket.
#[derive(Debug, Default)]
pub(crate) struct GateState {
    /// Requests per window.
    pub limit: Option<u32>,
    /// Requests left in the window (`None`: unknown, or the window has reset).
    pub remaining: Option<u32>,
    /// When the window resets.
    pub reset_at: Option<SystemTime>,
}

/// Waits while the bucket's remaining budget is at or below the reserve, and learns the
/// budget from every answer.
pub(crate) struct GateLayer<'a> {
    /// The bucket of the request.
    pub bucket: &'a Bucket,
    /// The longest wait (the retry policy's `max_delay`).
    pub max_delay: Duration,
    /// Where waits are counted.
    pub counters: &'a Counters,
}

impl GateLayer<'_> {
    /// Passes the gate, awaits `next`, and reads the answer's rate-limit headers.
    pub async fn call(&self, next: impl Future<Output = Result<Response>>) -> Result<Response> {
        self.pass().await;
        let result = next.await;
        if let Ok(resp) = &result {
            self.observe(&resp.headers);
        }
        result
    }

    /// Waits while the remaining budget is at or below the share kept for others.
    async fn pass(&self) {
        let wait = {
            let gate = self.bucket.gate();
            match (gate.limit, gate.remaining, gate.reset_at) {
                (Some(limit), Some(remaining), Some(reset)) => {
                    let reserve = (limit as f64 * (1.0 - self.bucket.share)).ceil() as u32;
                    if remaining <= reserve {
                        reset.duration_since(SystemTime::now()).ok()
                    } else {
                        None
                    }
                }
                _ => None,
            }
        };
        if let Some(wait) = wait.filter(|w| !w.is_zero()) {
            let wait = wait.min(self.max_delay) + Duration::from_millis(50);
            emit(HttpEvent::RateLimitWait {
                bucket: self.bucket.spec.name.clone(),
                wait,
            });
            self.counters.waited(wait);
            tokio::time::sleep(wait).await;
            // The window has reset: forget the old numbers until the next response.
            self.bucket.gate().remaining = None;
        }
    }

    /// Updates the bucket from an answer's headers; a new limit re-sizes its limiter.
    fn observe(&self, headers: &HeaderMap) {
        let (limit, remaining, reset) = rate_headers(headers);
        if limit.is_none() && remaining.is_none() {
            return;
        }
        {
            let mut gate = self.bucket.gate();
            gate.limit = limit.or(gate.limit);
            gate.remaining = remaining;
            gate.reset_at = reset.or(gate.reset_at);
        }
        if let Some(limit) = limit {
            self.bucket.resize(limit);
        }
    }
}

/// Reads the rate-limit headers (Okta `X-Rate-Limit-*`, Auth0 `x-ratelimit-*`): limit,
/// remaining, reset.
pub(crate) fn rate_headers(headers: &HeaderMap) -> (Option<u32>, Option<u32>, Option<SystemTime>) {
    let num = |names: &[&str]| -> Option<u64> {
        names
            .iter()
            .find_map(|n| headers.get(*n)?.to_str().ok()?.trim().parse::<u64>().ok())
    };
    let limit = num(&["x-rate-limit-limit", "x-ratelimit-limit"]).map(|v| v as u32);
    let remaining = num(&["x-rate-limit-remaining", "x-ratelimit-remaining"]).map(|v| v as u32);
    let reset = num(&["x-rate-limit-reset", "x-ratelimit-reset"])
        .map(|v| SystemTime::UNIX_EPOCH + Duration::from_secs(v));
    (limit, remaining, reset)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::http::BucketSpec;
    use crate::http::layer::testing::{answer, events};

    fn bucket(limit: u32, remaining: Option<u32>, reset_in: Duration) -> Bucket {
        let b = Bucket::new(BucketSpec::per_minute("users", 600), 0.5, 1);
        *b.gate() = GateState {
            limit: Some(limit),
            remaining,
            reset_at: Some(SystemTime::now() + reset_in),
        };
        b
    }

    fn layer<'a>(bucket: &'a Bucket, counters: &'a Counters) -> GateLayer<'a> {
        GateLayer {
            bucket,
            max_delay: Duration::from_secs(60),
            counters,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn waits_for_the_reset_when_only_the_reserve_is_left() {
        // 100 a window at share 0.5: the last 50 are kept for others.
        let b = bucket(100, Some(50), Duration::from_secs(2));
        let counters = Counters::default();
        let (result, seen) =
            events(layer(&b, &counters).call(async { Ok(answer(200, &[])) })).await;
        result.unwrap();
        match seen.as_slice() {
            [HttpEvent::RateLimitWait { bucket, wait }] => {
                assert_eq!(bucket, "users");
                assert!(*wait > Duration::from_secs(1) && *wait <= Duration::from_millis(2050));
            }
            other => panic!("{other:?}"),
        }
        assert!(counters.waited_ms.load(Ordering::Relaxed) > 1000);
        assert_eq!(b.gate().remaining, None, "forgotten after the reset");
    }

    #[tokio::test(start_paused = true)]
    async fn passes_while_more_than_the_reserve_is_left_or_the_budget_is_unknown() {
        let counters = Counters::default();
        for b in [
            bucket(100, Some(51), Duration::from_secs(2)),
            bucket(100, None, Duration::from_secs(2)),
            bucket(100, Some(0), Duration::ZERO),
        ] {
            let (result, seen) =
                events(layer(&b, &counters).call(async { Ok(answer(200, &[])) })).await;
            result.unwrap();
            assert!(seen.is_empty(), "{seen:?}");
        }
        assert_eq!(counters.waited_ms.load(Ordering::Relaxed), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_wait_is_capped_by_the_longest_delay() {
        let b = bucket(100, Some(0), Duration::from_secs(3600));
        let counters = Counters::default();
        let gate = GateLayer {
            max_delay: Duration::from_secs(1),
            ..layer(&b, &counters)
        };
        let (_, seen) = events(gate.call(async { Ok(answer(200, &[])) })).await;
        assert_eq!(
            seen,
            vec![HttpEvent::RateLimitWait {
                bucket: "users".into(),
                wait: Duration::from_millis(1050)
            }]
        );
    }

    #[tokio::test]
    async fn answers_update_the_budget_and_resize_the_limiter() {
        let b = Bucket::new(BucketSpec::per_minute("users", 600), 0.5, 1);
        let counters = Counters::default();
        let gate = layer(&b, &counters);
        let before = b.limiter();
        gate.call(async {
            Ok(answer(
                429,
                &[
                    ("x-rate-limit-limit", "100"),
                    ("x-rate-limit-remaining", "70"),
                    ("x-rate-limit-reset", "2000000000"),
                ],
            ))
        })
        .await
        .unwrap();
        {
            let state = b.gate();
            assert_eq!(state.limit, Some(100));
            assert_eq!(state.remaining, Some(70));
            assert_eq!(
                state.reset_at,
                Some(SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000))
            );
        }
        assert!(!std::sync::Arc::ptr_eq(&before, &b.limiter()), "re-sized");
        // Auth0 spells them x-ratelimit-*; an answer without them changes nothing.
        let same = b.limiter();
        gate.observe(&answer(200, &[("x-ratelimit-remaining", "6")]).headers);
        assert_eq!(b.gate().remaining, Some(6));
        assert_eq!(b.gate().limit, Some(100), "kept");
        gate.observe(&HeaderMap::new());
        assert_eq!(b.gate().remaining, Some(6));
        assert!(
            std::sync::Arc::ptr_eq(&same, &b.limiter()),
            "same limit, same limiter"
        );
    }
}
