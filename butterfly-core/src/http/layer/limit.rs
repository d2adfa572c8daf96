//! Client-side limits: the `governor` limiter that paces each bucket at `limit × max_share`
//! per period, and the cap on requests in flight.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::{Bucket, Counters};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{HttpEvent, Response, emit};

/// Waits for the bucket's limiter before each request.
pub(crate) struct PaceLayer<'a> {
    /// The bucket of the request.
    pub bucket: &'a Bucket,
    /// Where waits are counted.
    pub counters: &'a Counters,
}

impl PaceLayer<'_> {
    /// Waits for a slot of the limiter, then awaits `next`.
    pub async fn call(&self, next: impl Future<Output = Result<Response>>) -> Result<Response> {
        let limiter = self.bucket.limiter();
        // Pacing by the limiter is time spent on rate limits too: count it, so progress shows
        // where a slow backup's time goes.
        let paced_from = Instant::now();
        limiter.until_ready().await;
        let paced = paced_from.elapsed();
        if paced >= Duration::from_millis(1) {
            self.counters.waited(paced);
            emit(HttpEvent::RateLimitWait {
                bucket: self.bucket.spec.name.clone(),
                wait: paced,
            });
        }
        next.await
    }
}

/// Holds one of the client's in-flight slots while the request is out, and counts it in its
/// bucket.
pub(crate) struct InFlightLayer<'a> {
    /// The client's slots.
    pub slots: &'a Semaphore,
    /// The bucket of the request.
    pub bucket: &'a Bucket,
}

impl InFlightLayer<'_> {
    /// Takes a slot, counts the request, awaits `next` and frees the slot.
    pub async fn call(&self, next: impl Future<Output = Result<Response>>) -> Result<Response> {
        let _permit = self
            .slots
            .acquire()
            .await
            .map_err(|_| Error::new(ErrorKind::Transient, "HTTP client closed"))?;
        self.bucket.requests.fetch_add(1, Ordering::Relaxed);
        next.await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::http::BucketSpec;
    use crate::http::layer::testing::{answer, events};

    #[tokio::test]
    async fn pacing_is_counted_and_reported_as_rate_limit_waiting() {
        // 20 per 200 ms at full share: one every 10 ms, no burst.
        let spec = BucketSpec {
            name: "paced".into(),
            limit: 20,
            period: Duration::from_millis(200),
        };
        let b = Bucket::new(spec, 1.0, 1);
        let counters = Counters::default();
        let pace = PaceLayer {
            bucket: &b,
            counters: &counters,
        };
        let started = Instant::now();
        let (_, seen) = events(async {
            for _ in 0..4 {
                pace.call(async { Ok(answer(200, &[])) }).await.unwrap();
            }
        })
        .await;
        assert!(started.elapsed() >= Duration::from_millis(25), "paced");
        let waited: Duration = seen
            .iter()
            .map(|e| match e {
                HttpEvent::RateLimitWait { bucket, wait } => {
                    assert_eq!(bucket, "paced");
                    *wait
                }
                other => panic!("{other:?}"),
            })
            .sum();
        assert!(waited >= Duration::from_millis(15), "{waited:?}");
        assert!(counters.waited_ms.load(Ordering::Relaxed) >= 15);
    }

    #[tokio::test]
    async fn a_request_within_the_pace_is_not_reported() {
        let b = Bucket::new(BucketSpec::per_minute("fast", 600), 0.5, 1);
        let counters = Counters::default();
        let pace = PaceLayer {
            bucket: &b,
            counters: &counters,
        };
        let (_, seen) = events(pace.call(async { Ok(answer(200, &[])) })).await;
        assert!(seen.is_empty(), "{seen:?}");
        assert_eq!(counters.waited_ms.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn in_flight_slots_cap_concurrency_and_requests_are_counted() {
        let b = Bucket::new(BucketSpec::per_minute("users", 600), 0.5, 1);
        let slots = Semaphore::new(2);
        let layer = InFlightLayer {
            slots: &slots,
            bucket: &b,
        };
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let one = || {
            layer.call(async {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                Ok(answer(200, &[]))
            })
        };
        for r in futures::future::join_all((0..6).map(|_| one())).await {
            r.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert_eq!(b.requests.load(Ordering::Relaxed), 6);
        assert_eq!(slots.available_permits(), 2, "every slot freed");
    }
}
