//! Retries with exponential backoff and full jitter after a 429, a 5xx or no answer
//! (connection refused or reset, timeout, truncated body), honouring `Retry-After` (seconds
//! or an HTTP date) and the reset header, and falling back to backoff when `Retry-After` is
//! empty. Each attempt goes through every layer below again, gate and limiter included.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use reqwest::Method;
use reqwest::header::HeaderMap;

use super::gate::rate_headers;
use super::transport::{CANNOT_CONNECT, TIMED_OUT};
use super::{Counters, Failure};
use crate::error::{Error, Result};
use crate::http::{HttpEvent, Response, RetryConfig, emit, retry_after};

/// Calls the layers below until an answer comes, the failure is final, or the policy gives
/// up.
pub(crate) struct RetryLayer<'a> {
    /// The policy.
    pub config: RetryConfig,
    /// The bucket, for [`HttpEvent::Retry`].
    pub bucket: &'a str,
    /// The method, for the error's context.
    pub method: &'a Method,
    /// The path, for the error's context.
    pub path: &'a str,
    /// Where retries, 429s and waits are counted.
    pub counters: &'a Counters,
}

impl RetryLayer<'_> {
    /// Calls `next` (one attempt through the layers below) until it answers or the policy
    /// gives up; the error says what was sent and, when retried, after how many attempts.
    pub async fn call<F, Fut>(&self, mut next: F) -> Result<Response>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Response, Failure>>,
    {
        let mut attempt: u32 = 0;
        loop {
            let (status, wait, err, unreachable) = match next().await {
                Ok(resp) => {
                    tracing::debug!(status = resp.status, attempt, "ok");
                    return Ok(resp);
                }
                Err(Failure::Final(err)) => {
                    return Err(err.context(format!("{} {}", self.method, self.path)));
                }
                Err(Failure::Answer {
                    error,
                    status,
                    headers,
                }) => (
                    Some(status),
                    self.wait_for(status, &headers, attempt),
                    error,
                    false,
                ),
                Err(Failure::NoAnswer(error)) => {
                    let unreachable = is_unreachable(&error);
                    (None, self.backoff(attempt), error, unreachable)
                }
            };
            // A refused connection, or a server that accepts and never answers, rarely heals
            // within a backoff: give up after two retries.
            if attempt >= self.config.max_retries
                || !err.is_retryable()
                || (unreachable && attempt >= 2)
            {
                // Spent retries: a temporary error becomes persistent, a permanent one stays.
                return Err(err.set_persistent().context(format!(
                    "{} {} after {} attempts",
                    self.method,
                    self.path,
                    attempt + 1
                )));
            }
            attempt += 1;
            let wait = wait.min(self.config.max_delay);
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            self.counters.waited(wait);
            tracing::debug!(
                ?status,
                attempt,
                wait_ms = wait.as_millis() as u64,
                "retrying"
            );
            emit(HttpEvent::Retry {
                bucket: self.bucket.to_string(),
                attempt,
                status,
                wait,
            });
            tokio::time::sleep(wait).await;
        }
    }

    /// The wait after a 429 (counted: `Retry-After`, else the reset header, else backoff) or
    /// a 5xx (`Retry-After`, else backoff).
    fn wait_for(&self, status: u16, headers: &HeaderMap, attempt: u32) -> Duration {
        if status == 429 {
            self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            let (_, _, reset) = rate_headers(headers);
            retry_after(headers)
                .or_else(|| reset.and_then(|r| r.duration_since(SystemTime::now()).ok()))
                .map(|w| w + Duration::from_millis(50))
                .unwrap_or_else(|| self.backoff(attempt))
        } else {
            retry_after(headers).unwrap_or_else(|| self.backoff(attempt))
        }
    }

    /// Exponential backoff from `base_delay`, capped at `max_delay`, with jitter.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .config
            .base_delay
            .saturating_mul(1u32 << attempt.min(16));
        let capped = exp.min(self.config.max_delay);
        // Full jitter keeps many clients from retrying in lockstep.
        let factor = 0.5 + rand::random::<f64>() * 0.5;
        capped.mul_f64(factor)
    }
}

/// A refused connection or a timeout: the host is not answering at all.
fn is_unreachable(err: &Error) -> bool {
    err.message() == CANNOT_CONNECT || err.message() == TIMED_OUT
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use super::*;
    use crate::error::{ErrorKind, ErrorStatus};
    use crate::http::layer::testing::{answer, events};

    fn config(max_retries: u32) -> RetryConfig {
        RetryConfig {
            max_retries,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
        }
    }

    fn layer<'a>(config: RetryConfig, counters: &'a Counters) -> RetryLayer<'a> {
        RetryLayer {
            config,
            bucket: "users",
            method: &Method::GET,
            path: "/api/v1/users",
            counters,
        }
    }

    fn unavailable(headers: &[(&str, &str)]) -> Failure {
        Failure::Answer {
            error: Error::new(ErrorKind::Transient, "HTTP 503").with_status(503),
            status: 503,
            headers: answer(503, headers).headers,
        }
    }

    fn too_many(headers: &[(&str, &str)]) -> Failure {
        Failure::Answer {
            error: Error::new(ErrorKind::RateLimited, "HTTP 429").with_status(429),
            status: 429,
            headers: answer(429, headers).headers,
        }
    }

    fn no_answer(message: &str) -> Failure {
        Failure::NoAnswer(Error::new(ErrorKind::Transient, message.to_string()))
    }

    /// Runs the layer over an inner that fails with `script` in turn, then answers 200.
    /// Returns the result, the number of attempts and the events.
    async fn run(
        layer: &RetryLayer<'_>,
        script: Vec<Failure>,
    ) -> (Result<Response>, usize, Vec<HttpEvent>) {
        let script = Mutex::new(VecDeque::from(script));
        let calls = Mutex::new(0usize);
        let (result, seen) = events(layer.call(|| async {
            *calls.lock().unwrap() += 1;
            match script.lock().unwrap().pop_front() {
                Some(f) => Err(f),
                None => Ok(answer(200, &[])),
            }
        }))
        .await;
        let calls = *calls.lock().unwrap();
        (result, calls, seen)
    }

    fn retry_waits(seen: &[HttpEvent]) -> Vec<(u32, Option<u16>, Duration)> {
        seen.iter()
            .map(|e| match e {
                HttpEvent::Retry {
                    bucket,
                    attempt,
                    status,
                    wait,
                } => {
                    assert_eq!(bucket, "users");
                    (*attempt, *status, *wait)
                }
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn an_inner_that_fails_twice_is_called_three_times() {
        let counters = Counters::default();
        let l = layer(config(3), &counters);
        let (result, calls, seen) = run(&l, vec![unavailable(&[]), no_answer("reset")]).await;
        assert_eq!(result.unwrap().status, 200);
        assert_eq!(calls, 3);
        let waits = retry_waits(&seen);
        assert_eq!(waits.len(), 2);
        assert_eq!((waits[0].0, waits[0].1), (1, Some(503)));
        assert_eq!((waits[1].0, waits[1].1), (2, None));
        // Backoff with jitter: half to all of 100 ms, then of 200 ms.
        assert!((50..=100).contains(&waits[0].2.as_millis()), "{waits:?}");
        assert!((100..=200).contains(&waits[1].2.as_millis()), "{waits:?}");
        assert_eq!(counters.retries.load(Ordering::Relaxed), 2);
        let waited: u64 = waits.iter().map(|w| w.2.as_millis() as u64).sum();
        assert_eq!(counters.waited_ms.load(Ordering::Relaxed), waited);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_max_retries_with_the_last_error() {
        let counters = Counters::default();
        let l = layer(config(2), &counters);
        let script = (0..5).map(|_| unavailable(&[])).collect();
        let (result, calls, _) = run(&l, script).await;
        let err = result.unwrap_err();
        assert_eq!(calls, 3, "1 + 2 retries");
        assert_eq!(err.kind(), ErrorKind::Transient);
        assert_eq!(err.status(), Some(503));
        assert_eq!(err.contexts(), ["GET /api/v1/users after 3 attempts"]);
        assert_eq!(err.error_status(), ErrorStatus::Persistent, "retries spent");
        assert!(!err.is_retryable());
    }

    #[tokio::test(start_paused = true)]
    async fn an_unreachable_host_gives_up_after_two_retries() {
        for message in [CANNOT_CONNECT, TIMED_OUT] {
            let counters = Counters::default();
            let l = layer(config(8), &counters);
            let script = (0..9).map(|_| no_answer(message)).collect();
            let (result, calls, _) = run(&l, script).await;
            assert_eq!(calls, 3, "{message}");
            let err = result.unwrap_err();
            assert!(err.contexts()[0].ends_with("after 3 attempts"));
            assert_eq!(err.error_status(), ErrorStatus::Persistent);
        }
        // Other failures without an answer (a reset, a cut body) get the whole policy.
        let counters = Counters::default();
        let l = layer(config(8), &counters);
        let script = (0..9).map(|_| no_answer("the connection failed")).collect();
        let (_, calls, _) = run(&l, script).await;
        assert_eq!(calls, 9);
    }

    #[tokio::test(start_paused = true)]
    async fn a_final_failure_is_not_retried() {
        let counters = Counters::default();
        let l = layer(config(8), &counters);
        let denied = Failure::Final(Error::new(ErrorKind::Denied, "HTTP 403"));
        let (result, calls, seen) = run(&l, vec![denied]).await;
        let err = result.unwrap_err();
        assert_eq!((calls, seen.len()), (1, 0));
        assert_eq!(err.kind(), ErrorKind::Denied);
        assert_eq!(err.contexts(), ["GET /api/v1/users"]);
        assert_eq!(err.error_status(), ErrorStatus::Permanent);
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_the_provider_maps_to_a_lasting_error_is_not_retried() {
        let counters = Counters::default();
        let l = layer(config(8), &counters);
        let lasting = Failure::Answer {
            error: Error::new(ErrorKind::Unsupported, "not licensed"),
            status: 501,
            headers: HeaderMap::new(),
        };
        let (result, calls, _) = run(&l, vec![lasting]).await;
        assert_eq!(calls, 1);
        let err = result.unwrap_err();
        assert_eq!(err.contexts(), ["GET /api/v1/users after 1 attempts"]);
        assert_eq!(
            err.error_status(),
            ErrorStatus::Permanent,
            "stays permanent"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_waits_retry_after_else_the_reset_else_backoff_and_is_counted() {
        let counters = Counters::default();
        let l = layer(config(8), &counters);
        let reset = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3;
        let reset = reset.to_string();
        let script = vec![
            too_many(&[("retry-after", "2")]),
            too_many(&[("x-rate-limit-reset", &reset)]),
            too_many(&[("retry-after", "")]),
        ];
        let (result, _, seen) = run(&l, script).await;
        result.unwrap();
        let waits = retry_waits(&seen);
        assert_eq!(
            waits[0].2,
            Duration::from_millis(2050),
            "Retry-After + 50 ms"
        );
        assert!(
            waits[1].2 > Duration::from_millis(1050) && waits[1].2 <= Duration::from_millis(3050),
            "until the reset: {waits:?}"
        );
        assert!(
            waits[2].2 <= Duration::from_millis(400),
            "backoff: {waits:?}"
        );
        assert_eq!(counters.rate_limited.load(Ordering::Relaxed), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_5xx_waits_retry_after_but_not_the_reset() {
        let counters = Counters::default();
        let l = layer(config(8), &counters);
        let script = vec![
            unavailable(&[("retry-after", "4")]),
            unavailable(&[("x-rate-limit-reset", "4000000000")]),
        ];
        let (_, _, seen) = run(&l, script).await;
        let waits = retry_waits(&seen);
        assert_eq!(waits[0].2, Duration::from_secs(4), "no 50 ms added");
        assert!(
            waits[1].2 <= Duration::from_millis(200),
            "backoff: {waits:?}"
        );
        assert_eq!(counters.rate_limited.load(Ordering::Relaxed), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn waits_are_capped_by_max_delay() {
        let counters = Counters::default();
        let l = layer(
            RetryConfig {
                max_delay: Duration::from_secs(1),
                ..config(8)
            },
            &counters,
        );
        let (_, _, seen) = run(&l, vec![too_many(&[("retry-after", "3600")])]).await;
        assert_eq!(retry_waits(&seen)[0].2, Duration::from_secs(1));
    }
}
