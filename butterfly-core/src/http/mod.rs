//! The HTTP stack every provider uses: one `reqwest` client per provider with, in order,
//!
//! 1. an **adaptive gate** per rate-limit bucket, fed by the provider's headers
//!    (`X-Rate-Limit-*`, `x-ratelimit-*`): when the remaining budget falls to the share kept for
//!    others, requests in that bucket wait for the reset, so the client slows *before* a 429;
//! 2. a **`governor` limiter** per bucket at `limit × max_share` per period (default share
//!    50%, so production sign-ins keep headroom), re-sized when the server announces a
//!    different limit;
//! 3. a global cap on requests in flight;
//! 4. the **auth hook** (static header or cached token; a 401 invalidates and retries once);
//! 5. **retries** with exponential backoff and jitter for 429, 5xx, connection errors,
//!    timeouts and truncated bodies, honouring `Retry-After` (seconds or HTTP date) and reset
//!    headers, and falling back to backoff when `Retry-After` is empty;
//! 6. the provider's **error mapper**, the one function that turns an HTTP failure into an
//!    [`Error`] kind.
//!
//! Base URLs must be `https`; plain `http` is accepted only for loopback hosts.

pub mod auth;
pub mod oauth;
pub mod paginate;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::stream::BoxStream;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Semaphore;
use tracing::Instrument;
use url::Url;

pub use auth::{AuthHook, StaticAuth, TokenCache};
pub use oauth::{ClientAssertion, ClientAuth, ClientCredentialsAuth};
pub use paginate::NextPage;

use crate::error::{Error, ErrorKind, Result};

/// Something the HTTP stack did that a host may want to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpEvent {
    /// A request is retried.
    Retry {
        /// Bucket.
        bucket: String,
        /// Attempt number (1 = first retry).
        attempt: u32,
        /// Status, if any (none for connection errors).
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

tokio::task_local! {
    static EVENTS: EventSink;
}

/// Runs `fut` with `sink` receiving the HTTP events of requests awaited inside it.
pub async fn with_events<F: Future>(sink: EventSink, fut: F) -> F::Output {
    EVENTS.scope(sink, fut).await
}

fn emit(event: HttpEvent) {
    let _ = EVENTS.try_with(|sink| sink(event));
}

/// Checks a base URL: `https`, or `http` to a loopback host; no credentials in it. Returns
/// it with a trailing slash so relative paths join below it.
///
/// ```
/// use butterfly_core::http::validate_base_url;
/// assert!(validate_base_url("https://acme.okta.com").is_ok());
/// assert!(validate_base_url("http://127.0.0.1:8080").is_ok());
/// assert!(validate_base_url("http://idp.example.invalid").is_err());
/// ```
pub fn validate_base_url(url: &str) -> Result<Url> {
    let mut parsed = Url::parse(url.trim())
        .map_err(|e| Error::config(format!("invalid base URL {url:?}: {e}")))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::config("the base URL must not contain credentials"));
    }
    let host = parsed
        .host()
        .ok_or_else(|| Error::config(format!("the base URL {url:?} has no host")))?;
    let loopback = match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::config(format!(
                "refusing plain http to {}: use https (plain http is allowed only for 127.0.0.1, ::1 and localhost)",
                parsed.host_str().unwrap_or_default()
            )));
        }
        other => {
            return Err(Error::config(format!(
                "unsupported URL scheme {other:?}: use https"
            )));
        }
    }
    parsed.set_query(None);
    parsed.set_fragment(None);
    if !parsed.path().ends_with('/') {
        let path = format!("{}/", parsed.path());
        parsed.set_path(&path);
    }
    Ok(parsed)
}

/// A rate-limit bucket: `limit` requests per `period`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketSpec {
    /// Name (what the classifier returns).
    pub name: String,
    /// Requests per period allowed by the provider.
    pub limit: u32,
    /// The period.
    pub period: Duration,
}

impl BucketSpec {
    /// `limit` requests per minute.
    pub fn per_minute(name: &str, limit: u32) -> BucketSpec {
        BucketSpec {
            name: name.to_string(),
            limit,
            period: Duration::from_secs(60),
        }
    }
}

/// Retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff.
    pub base_delay: Duration,
    /// Longest wait between attempts.
    pub max_delay: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 8,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(60),
        }
    }
}

/// Maps a failed response (status, headers, body) to an error: the provider's one function.
pub type ErrorMapper = Arc<dyn Fn(u16, &HeaderMap, &[u8]) -> Error + Send + Sync>;

/// Maps a request to its rate-limit bucket name.
pub type Classifier = Arc<dyn Fn(&Method, &str) -> String + Send + Sync>;

/// The default mapping by status code.
pub fn default_error(status: u16, _headers: &HeaderMap, _body: &[u8]) -> Error {
    let kind = match status {
        401 => ErrorKind::Auth,
        403 => ErrorKind::Denied,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Transient,
        _ => ErrorKind::InvalidData,
    };
    Error::new(kind, format!("request failed with HTTP {status}")).with_status(status)
}

/// A request: method, path (relative to the base URL) or absolute same-origin URL, query,
/// optional JSON body, extra headers.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    target: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
    form: Option<Vec<(String, String)>>,
    headers: Vec<(String, String)>,
    bucket: Option<String>,
    auth: bool,
}

impl Request {
    fn new(method: Method, target: &str) -> Request {
        Request {
            method,
            target: target.to_string(),
            query: Vec::new(),
            body: None,
            form: None,
            headers: Vec::new(),
            bucket: None,
            auth: true,
        }
    }
    /// A GET.
    pub fn get(target: &str) -> Request {
        Request::new(Method::GET, target)
    }
    /// A POST with a JSON body.
    pub fn post(target: &str, body: Value) -> Request {
        Request {
            body: Some(body),
            ..Request::new(Method::POST, target)
        }
    }
    /// A PUT with a JSON body.
    pub fn put(target: &str, body: Value) -> Request {
        Request {
            body: Some(body),
            ..Request::new(Method::PUT, target)
        }
    }
    /// A PATCH with a JSON body.
    pub fn patch(target: &str, body: Value) -> Request {
        Request {
            body: Some(body),
            ..Request::new(Method::PATCH, target)
        }
    }
    /// A DELETE.
    pub fn delete(target: &str) -> Request {
        Request::new(Method::DELETE, target)
    }
    /// A POST of a URL-encoded form without the auth hook (token endpoints).
    pub fn token_form(target: &str, form: Vec<(String, String)>) -> Request {
        Request {
            form: Some(form),
            auth: false,
            ..Request::new(Method::POST, target)
        }
    }
    /// Adds a query parameter.
    pub fn query(mut self, key: &str, value: impl ToString) -> Request {
        self.query.push((key.to_string(), value.to_string()));
        self
    }
    /// Adds a header.
    pub fn header(mut self, key: &str, value: &str) -> Request {
        self.headers.push((key.to_string(), value.to_string()));
        self
    }
    /// Overrides the bucket the classifier would choose.
    pub fn bucket(mut self, name: &str) -> Request {
        self.bucket = Some(name.to_string());
        self
    }
    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }
}

/// A response whose body has been read completely.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
    /// The URL that answered (without query).
    pub url: String,
}

impl Response {
    /// Parses the body as `T`; a malformed body is [`InvalidData`](ErrorKind::InvalidData)
    /// naming the URL (never quoting the body).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::invalid_data(format!(
                "response of {} is not the expected JSON: {e}",
                self.url
            ))
        })
    }

    /// Parses the body as a JSON value (with [`crate::json::from_slice`]).
    pub fn value(&self) -> Result<Value> {
        crate::json::from_slice(&self.body).map_err(|e| {
            Error::invalid_data(format!(
                "response of {} is not the expected JSON: {e}",
                self.url
            ))
        })
    }
}

/// Counters of a client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpStats {
    /// Requests sent per bucket (including retries).
    pub requests: BTreeMap<String, u64>,
    /// Retries.
    pub retries: u64,
    /// 429 responses seen.
    pub rate_limited: u64,
    /// Time spent waiting on gates and `Retry-After`, in milliseconds.
    pub waited_ms: u64,
}

#[derive(Debug, Default)]
struct GateState {
    limit: Option<u32>,
    remaining: Option<u32>,
    reset_at: Option<SystemTime>,
}

struct Bucket {
    spec: BucketSpec,
    limiter: RwLock<(u32, Arc<DefaultDirectRateLimiter>)>,
    gate: Mutex<GateState>,
    requests: AtomicU64,
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

struct Inner {
    base: Url,
    client: reqwest::Client,
    auth: Option<Arc<dyn AuthHook>>,
    buckets: RwLock<BTreeMap<String, Arc<Bucket>>>,
    classify: Classifier,
    share: f64,
    burst: u32,
    retry: RetryConfig,
    in_flight: Semaphore,
    map_error: ErrorMapper,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    waited_ms: AtomicU64,
}

/// The shared HTTP client of one provider instance. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("base", &self.inner.base.as_str())
            .field("auth", &self.inner.auth)
            .field("share", &self.inner.share)
            .finish()
    }
}

/// Builds an [`HttpClient`].
pub struct HttpClientBuilder {
    base: String,
    auth: Option<Arc<dyn AuthHook>>,
    buckets: Vec<BucketSpec>,
    classify: Option<Classifier>,
    share: f64,
    burst: u32,
    retry: RetryConfig,
    timeout: Duration,
    max_in_flight: usize,
    user_agent: String,
    map_error: Option<ErrorMapper>,
}

impl HttpClientBuilder {
    /// The auth hook.
    pub fn auth(mut self, auth: Arc<dyn AuthHook>) -> Self {
        self.auth = Some(auth);
        self
    }
    /// Adds a rate-limit bucket.
    pub fn bucket(mut self, spec: BucketSpec) -> Self {
        self.buckets.push(spec);
        self
    }
    /// How requests map to buckets; unknown names use a bucket created on first use with the
    /// limit the server announces.
    pub fn classify(mut self, classify: Classifier) -> Self {
        self.classify = Some(classify);
        self
    }
    /// Share of each bucket's limit this client may use (0 < share ≤ 1; default 0.5).
    pub fn max_share(mut self, share: f64) -> Self {
        self.share = share;
        self
    }
    /// Lets the limiter catch up by up to `n` requests after the client fell behind its pace
    /// (default 1: requests are spaced evenly). For token-bucket APIs (Auth0), whose bucket
    /// refills continuously, a slot missed because a task ran late is otherwise lost; keep
    /// `n` well below the provider's own burst so the bucket never runs dry. Fixed-window
    /// APIs (Okta) should keep 1.
    pub fn limiter_burst(mut self, n: u32) -> Self {
        self.burst = n.max(1);
        self
    }
    /// Retry policy.
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }
    /// Per-request timeout (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Global cap on requests in flight (default 16).
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }
    /// User agent.
    pub fn user_agent(mut self, ua: &str) -> Self {
        self.user_agent = ua.to_string();
        self
    }
    /// The provider's error mapper.
    pub fn error_mapper(mut self, map: ErrorMapper) -> Self {
        self.map_error = Some(map);
        self
    }

    /// Validates the base URL and builds the client.
    pub fn build(self) -> Result<HttpClient> {
        let base = validate_base_url(&self.base)?;
        if !(self.share > 0.0 && self.share <= 1.0) {
            return Err(Error::config(format!(
                "max share must be in (0, 1], got {}",
                self.share
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(self.timeout)
            .user_agent(self.user_agent)
            // Never follow a redirect with our Authorization header to somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::config("cannot build the HTTP client").with_source(e))?;
        let buckets = self
            .buckets
            .into_iter()
            .map(|spec| {
                let l = limiter(spec.limit, spec.period, self.share, self.burst);
                (
                    spec.name.clone(),
                    Arc::new(Bucket {
                        limiter: RwLock::new((spec.limit, l)),
                        spec,
                        gate: Mutex::default(),
                        requests: AtomicU64::new(0),
                    }),
                )
            })
            .collect();
        Ok(HttpClient {
            inner: Arc::new(Inner {
                base,
                client,
                auth: self.auth,
                buckets: RwLock::new(buckets),
                classify: self
                    .classify
                    .unwrap_or_else(|| Arc::new(|_: &Method, _: &str| "default".to_string())),
                share: self.share,
                burst: self.burst,
                retry: self.retry,
                in_flight: Semaphore::new(self.max_in_flight),
                map_error: self.map_error.unwrap_or_else(|| Arc::new(default_error)),
                retries: AtomicU64::new(0),
                rate_limited: AtomicU64::new(0),
                waited_ms: AtomicU64::new(0),
            }),
        })
    }
}

/// Reads the rate-limit headers (Okta `X-Rate-Limit-*`, Auth0 `x-ratelimit-*`).
fn rate_headers(headers: &HeaderMap) -> (Option<u32>, Option<u32>, Option<SystemTime>) {
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

/// `Retry-After` as a wait: seconds or an HTTP date. Empty or unparsable gives `None`.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(secs) = text.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

impl HttpClient {
    /// Starts building a client for `base_url`.
    pub fn builder(base_url: &str) -> HttpClientBuilder {
        HttpClientBuilder {
            base: base_url.to_string(),
            auth: None,
            buckets: Vec::new(),
            classify: None,
            share: 0.5,
            burst: 1,
            retry: RetryConfig::default(),
            timeout: Duration::from_secs(60),
            max_in_flight: 16,
            user_agent: concat!("butterfly/", env!("CARGO_PKG_VERSION")).to_string(),
            map_error: None,
        }
    }

    /// The base URL (with a trailing slash).
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The underlying reqwest client (for token endpoints in auth hooks).
    pub fn inner(&self) -> &reqwest::Client {
        &self.inner.client
    }

    /// Counters so far.
    pub fn stats(&self) -> HttpStats {
        let buckets = self.inner.buckets.read().unwrap_or_else(|p| p.into_inner());
        HttpStats {
            requests: buckets
                .iter()
                .map(|(k, b)| (k.clone(), b.requests.load(Ordering::Relaxed)))
                .collect(),
            retries: self.inner.retries.load(Ordering::Relaxed),
            rate_limited: self.inner.rate_limited.load(Ordering::Relaxed),
            waited_ms: self.inner.waited_ms.load(Ordering::Relaxed),
        }
    }

    /// Resolves a path or absolute URL; absolute URLs must share the base URL's origin.
    pub fn resolve(&self, target: &str) -> Result<Url> {
        let base = &self.inner.base;
        let url = if target.starts_with("http://") || target.starts_with("https://") {
            let url = Url::parse(target)
                .map_err(|e| Error::invalid_data(format!("invalid URL from the server: {e}")))?;
            if url.origin() != base.origin() {
                return Err(Error::config(format!(
                    "refusing to follow a link to {} (not {}): credentials never leave the configured origin",
                    url.host_str().unwrap_or("?"),
                    base.host_str().unwrap_or("?")
                )));
            }
            url
        } else {
            base.join(target.trim_start_matches('/'))
                .map_err(|e| Error::config(format!("invalid path {target:?}: {e}")))?
        };
        Ok(url)
    }

    fn bucket(&self, name: &str) -> Arc<Bucket> {
        if let Some(b) = self
            .inner
            .buckets
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
        {
            return b.clone();
        }
        let mut buckets = self
            .inner
            .buckets
            .write()
            .unwrap_or_else(|p| p.into_inner());
        buckets
            .entry(name.to_string())
            .or_insert_with(|| {
                // Unknown bucket: a generous default until the server announces its limit.
                let spec = BucketSpec::per_minute(name, 600);
                let l = limiter(spec.limit, spec.period, self.inner.share, self.inner.burst);
                Arc::new(Bucket {
                    limiter: RwLock::new((spec.limit, l)),
                    spec,
                    gate: Mutex::default(),
                    requests: AtomicU64::new(0),
                })
            })
            .clone()
    }

    /// Waits while the bucket's remaining budget is at or below the share kept for others.
    async fn pass_gate(&self, bucket: &Bucket) {
        let wait = {
            let gate = bucket.gate.lock().unwrap_or_else(|p| p.into_inner());
            match (gate.limit, gate.remaining, gate.reset_at) {
                (Some(limit), Some(remaining), Some(reset)) => {
                    let reserve = (limit as f64 * (1.0 - self.inner.share)).ceil() as u32;
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
            let wait = wait.min(self.inner.retry.max_delay) + Duration::from_millis(50);
            emit(HttpEvent::RateLimitWait {
                bucket: bucket.spec.name.clone(),
                wait,
            });
            self.inner
                .waited_ms
                .fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
            // The window has reset: forget the old numbers until the next response.
            let mut gate = bucket.gate.lock().unwrap_or_else(|p| p.into_inner());
            gate.remaining = None;
        }
    }

    fn observe(&self, bucket: &Bucket, headers: &HeaderMap) {
        let (limit, remaining, reset) = rate_headers(headers);
        if limit.is_none() && remaining.is_none() {
            return;
        }
        {
            let mut gate = bucket.gate.lock().unwrap_or_else(|p| p.into_inner());
            gate.limit = limit.or(gate.limit);
            gate.remaining = remaining;
            gate.reset_at = reset.or(gate.reset_at);
        }
        if let Some(limit) = limit {
            let mut l = bucket.limiter.write().unwrap_or_else(|p| p.into_inner());
            if l.0 != limit && limit > 0 {
                *l = (
                    limit,
                    limiter(
                        limit,
                        bucket.spec.period,
                        self.inner.share,
                        self.inner.burst,
                    ),
                );
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .inner
            .retry
            .base_delay
            .saturating_mul(1u32 << attempt.min(16));
        let capped = exp.min(self.inner.retry.max_delay);
        // Full jitter keeps many clients from retrying in lockstep.
        let factor = 0.5 + rand::random::<f64>() * 0.5;
        capped.mul_f64(factor)
    }

    /// A GET of `path_or_url`.
    pub async fn get(&self, path_or_url: &str) -> Result<Response> {
        self.send(Request::get(path_or_url)).await
    }

    /// Sends a request through gate, limiter, auth and retries; returns a 2xx response or
    /// the mapped error.
    pub async fn send(&self, req: Request) -> Result<Response> {
        let url = self.resolve(&req.target)?;
        let path = url.path().to_string();
        let bucket_name = req
            .bucket
            .clone()
            .unwrap_or_else(|| (self.inner.classify)(&req.method, &path));
        let bucket = self.bucket(&bucket_name);
        // The span is attached to the future, not entered across awaits: an entered guard held
        // over an await leaks into whatever else the thread polls, nesting spans without end.
        let span =
            tracing::debug_span!("http", method = %req.method, path = %path, bucket = %bucket_name);
        self.send_in_span(&req, url, &path, &bucket_name, &bucket)
            .instrument(span)
            .await
    }

    /// The retry loop of [`send`](Self::send), run inside its span.
    async fn send_in_span(
        &self,
        req: &Request,
        url: Url,
        path: &str,
        bucket_name: &str,
        bucket: &Bucket,
    ) -> Result<Response> {
        let mut auth_retried = false;
        let mut attempt: u32 = 0;
        loop {
            self.pass_gate(bucket).await;
            let limiter = bucket
                .limiter
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .1
                .clone();
            // Pacing by the limiter is time spent on rate limits too: count it, so progress
            // shows where a slow backup's time goes.
            let paced_from = std::time::Instant::now();
            limiter.until_ready().await;
            let paced = paced_from.elapsed();
            if paced >= Duration::from_millis(1) {
                self.inner
                    .waited_ms
                    .fetch_add(paced.as_millis() as u64, Ordering::Relaxed);
                emit(HttpEvent::RateLimitWait {
                    bucket: bucket_name.to_string(),
                    wait: paced,
                });
            }
            let permit = self
                .inner
                .in_flight
                .acquire()
                .await
                .map_err(|_| Error::new(ErrorKind::Transient, "HTTP client closed"))?;
            bucket.requests.fetch_add(1, Ordering::Relaxed);
            let result = self.attempt(req, &url).await;
            drop(permit);
            let (status, wait, err) = match result {
                Ok((status, headers, body)) => {
                    self.observe(bucket, &headers);
                    match status {
                        200..=299 => {
                            tracing::debug!(status, attempt, "ok");
                            let mut url = url.clone();
                            url.set_query(None);
                            return Ok(Response {
                                status,
                                headers,
                                body,
                                url: url.to_string(),
                            });
                        }
                        401 if !auth_retried && self.inner.auth.is_some() => {
                            auth_retried = true;
                            if let Some(a) = &self.inner.auth {
                                a.invalidate();
                            }
                            continue;
                        }
                        429 => {
                            self.inner.rate_limited.fetch_add(1, Ordering::Relaxed);
                            let (_, _, reset) = rate_headers(&headers);
                            let wait = retry_after(&headers)
                                .or_else(|| {
                                    reset.and_then(|r| r.duration_since(SystemTime::now()).ok())
                                })
                                .map(|w| w + Duration::from_millis(50))
                                .unwrap_or_else(|| self.backoff(attempt));
                            (
                                Some(status),
                                wait,
                                (self.inner.map_error)(status, &headers, &body),
                            )
                        }
                        500..=599 => {
                            let wait =
                                retry_after(&headers).unwrap_or_else(|| self.backoff(attempt));
                            (
                                Some(status),
                                wait,
                                (self.inner.map_error)(status, &headers, &body),
                            )
                        }
                        _ => {
                            tracing::debug!(status, "failed");
                            return Err((self.inner.map_error)(status, &headers, &body)
                                .context(format!("{} {path}", req.method)));
                        }
                    }
                }
                Err(err) => (None, self.backoff(attempt), err),
            };
            // A refused connection, or a server that accepts and never answers, rarely heals
            // within a backoff: give up after two retries.
            let unreachable =
                status.is_none() && (err.message() == CANNOT_CONNECT || err.message() == TIMED_OUT);
            if attempt >= self.inner.retry.max_retries
                || !err.is_retryable()
                || (unreachable && attempt >= 2)
            {
                return Err(err.context(format!(
                    "{} {path} after {} attempts",
                    req.method,
                    attempt + 1
                )));
            }
            attempt += 1;
            let wait = wait.min(self.inner.retry.max_delay);
            self.inner.retries.fetch_add(1, Ordering::Relaxed);
            self.inner
                .waited_ms
                .fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
            tracing::debug!(
                ?status,
                attempt,
                wait_ms = wait.as_millis() as u64,
                "retrying"
            );
            emit(HttpEvent::Retry {
                bucket: bucket_name.to_string(),
                attempt,
                status,
                wait,
            });
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt: build, authorize, send, read the whole body.
    async fn attempt(&self, req: &Request, url: &Url) -> Result<(u16, HeaderMap, Bytes)> {
        let mut builder = self.inner.client.request(req.method.clone(), url.clone());
        if !req.query.is_empty() {
            builder = builder.query(&req.query);
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        for (k, v) in &req.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| Error::config(format!("invalid header name {k:?}")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| Error::config(format!("invalid value for header {k}")))?;
            headers.insert(name, value);
        }
        if req.auth
            && let Some(auth) = &self.inner.auth
        {
            let token = auth.authorization(&self.inner.client).await?;
            let mut value = HeaderValue::from_str(token.expose_secret()).map_err(|_| {
                Error::new(
                    ErrorKind::Auth,
                    "the credential is not a valid header value",
                )
            })?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        builder = builder.headers(headers);
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        if let Some(form) = &req.form {
            builder = builder.form(form);
        }
        let response = builder.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| {
            Error::new(ErrorKind::Transient, "the response body was cut off")
                .with_source(strip_url(e))
        })?;
        Ok((status, headers, body))
    }

    /// Every page of a listing, following `next` from `first`.
    pub fn pages(&self, first: Request, next: NextPage) -> BoxStream<'static, Result<Response>> {
        let client = self.clone();
        let first = match &next {
            NextPage::PageNumber {
                page_param,
                per_page_param,
                per_page,
                ..
            } => first.query(page_param, 0).query(per_page_param, per_page),
            NextPage::Checkpoint {
                take_param, take, ..
            } => first.query(take_param, take),
            _ => first,
        };
        let state = Some((first, 0u32, 0usize));
        Box::pin(futures::stream::unfold(state, move |state| {
            let client = client.clone();
            let next = next.clone();
            async move {
                let (req, page, seen) = state?;
                let resp = match client.send(req.clone()).await {
                    Ok(r) => r,
                    Err(e) => return Some((Err(e), None)),
                };
                let following = match next_request(&req, &resp, &next, page, seen) {
                    Ok(f) => f,
                    Err(e) => return Some((Err(e), None)),
                };
                Some((Ok(resp), following))
            }
        }))
    }
}

fn next_request(
    req: &Request,
    resp: &Response,
    next: &NextPage,
    page: u32,
    seen: usize,
) -> Result<Option<(Request, u32, usize)>> {
    let target = |url: String| Request {
        target: url,
        query: Vec::new(),
        ..req.clone()
    };
    Ok(match next {
        NextPage::LinkHeader => {
            paginate::link_next(&resp.headers).map(|u| (target(u), page + 1, 0))
        }
        NextPage::ODataNextLink => {
            // Only the link is read: the page itself is not built a second time.
            #[derive(serde::Deserialize)]
            struct Next {
                #[serde(rename = "@odata.nextLink")]
                next: Option<String>,
            }
            resp.json::<Next>()?.next.map(|u| (target(u), page + 1, 0))
        }
        NextPage::HalNext => paginate::hal_next(&resp.value()?).map(|u| (target(u), page + 1, 0)),
        NextPage::PageNumber {
            page_param,
            per_page,
            items_field,
            total_field,
            ..
        } => {
            let body = resp.value()?;
            let items = match items_field {
                Some(f) => body.get(f).and_then(Value::as_array).map(Vec::len),
                None => body.as_array().map(Vec::len),
            }
            .ok_or_else(|| Error::invalid_data(format!("page of {} has no item list", resp.url)))?;
            let seen = seen + items;
            let total = total_field
                .as_ref()
                .and_then(|f| body.get(f))
                .and_then(Value::as_u64);
            let done = items < *per_page as usize || total.is_some_and(|t| seen as u64 >= t);
            if done {
                None
            } else {
                let mut r = req.clone();
                r.query.retain(|(k, _)| k != page_param);
                Some((r.query(page_param, page + 1), page + 1, seen))
            }
        }
        NextPage::Checkpoint {
            from_param,
            next_field,
            ..
        } => {
            let body = resp.value()?;
            match body
                .get(next_field)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                Some(from) => {
                    let mut r = req.clone();
                    r.query.retain(|(k, _)| k != from_param);
                    Some((r.query(from_param, from), page + 1, 0))
                }
                None => None,
            }
        }
    })
}

/// reqwest errors print the URL, which may hold query secrets: drop it.
fn strip_url(e: reqwest::Error) -> reqwest::Error {
    e.without_url()
}

const CANNOT_CONNECT: &str = "cannot connect";
const TIMED_OUT: &str = "the request timed out";

fn transport_error(e: reqwest::Error) -> Error {
    let what = if e.is_timeout() {
        TIMED_OUT
    } else if e.is_connect() {
        CANNOT_CONNECT
    } else {
        "the connection failed"
    };
    Error::new(ErrorKind::Transient, what).with_source(strip_url(e))
}
