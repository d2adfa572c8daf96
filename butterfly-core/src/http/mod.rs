//! The HTTP stack every provider uses: one `reqwest` client per provider, and for each
//! request a stack of layers with one concern each, in the manner of opendal's layers. They
//! are composed in this order, outermost first; every attempt of the retry layer goes through
//! all the layers below it again:
//!
//! ```text
//! send ─ span "http" (method, path, bucket), attached to the request's future
//!  └ retry      429, 5xx, no answer: exponential backoff with jitter, or Retry-After / the
//!   │           reset header; gives up per RetryConfig, and after two retries when the host
//!   │           refuses or never answers; HttpEvent::Retry
//!   └ errors    the provider's error mapper turns every answer that is not 2xx into an
//!    │          Error; only 429 and 5xx go back to the retry layer, the rest is final
//!    └ reauth   a 401 invalidates the auth hook and sends once more (once per request)
//!     └ gate    adaptive gate per bucket: waits for the reset while the remaining budget is
//!      │        at or below the share kept for others; learns the budget from every answer
//!      └ pace   governor limiter per bucket at limit × max_share; HttpEvent::RateLimitWait
//!       └ in-flight  global cap on requests in flight; counts the request in its bucket
//!        └ authorize  the auth hook's Authorization header
//!         └ transport  reqwest: send, read the whole body
//! ```
//!
//! Why this order:
//!
//! - **retry** is outside everything that paces, so a retried request waits at the gate and
//!   the limiter like a new one, and outside **errors** because whether to try again is the
//!   provider's call: its mapper says whether a 429 or 5xx is retryable.
//! - **reauth** needs the raw 401 before the mapper sees it, and its re-send must be paced
//!   too; it holds its "already re-sent" flag for the whole request, across retry attempts.
//! - the **gate** comes before the limiter: after a reset the limiter's pacing still applies.
//!   The **in-flight** slot is taken only after both waits, so a waiting request holds none.
//! - **authorize** is innermost but one: the credential is fetched after every wait, so a
//!   long pacing wait never sends a stale token.
//!
//! The adaptive gate reads the provider's headers (`X-Rate-Limit-*`, `x-ratelimit-*`), so the
//! client slows *before* a 429. The limiter's default share is 50%, so production sign-ins
//! keep headroom, and it is re-sized when the server announces a different limit.
//! `Retry-After` is honoured as seconds or an HTTP date; an empty one falls back to backoff.
//! Connection errors, timeouts and truncated bodies are retried like 5xx.
//!
//! Base URLs must be `https`; plain `http` is accepted only for loopback hosts, or for any host
//! when the provider passes its user's explicit opt-in ([`HttpClientBuilder::allow_plain_http`]).

pub mod auth;
pub mod oauth;
pub mod paginate;

mod layer;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::stream::BoxStream;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Semaphore;
use tracing::Instrument;
use url::Url;

pub use auth::{AuthHook, StaticAuth, TokenCache};
pub use oauth::{ClientAssertion, ClientAuth, ClientCredentialsAuth};
pub use paginate::NextPage;

use crate::error::{Error, ErrorKind, Result};
use layer::{
    AuthorizeLayer, Bucket, Counters, ErrorLayer, GateLayer, InFlightLayer, PaceLayer, ReauthLayer,
    RetryLayer, Transport,
};

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

pub(crate) fn emit(event: HttpEvent) {
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
    validate_base_url_with(url, false)
}

/// [`validate_base_url`], also accepting plain `http` to any host when `allow_plain_http` is
/// set: only for a provider whose user opted in explicitly (a self-hosted server on a private
/// network, such as 1Password Connect).
///
/// ```
/// use butterfly_core::http::validate_base_url_with;
/// assert!(validate_base_url_with("http://connect.example.invalid:8080", false).is_err());
/// assert!(validate_base_url_with("http://connect.example.invalid:8080", true).is_ok());
/// assert!(validate_base_url_with("ftp://connect.example.invalid", true).is_err());
/// ```
pub fn validate_base_url_with(url: &str, allow_plain_http: bool) -> Result<Url> {
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
        "http" if loopback || allow_plain_http => {}
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

struct Inner {
    base: Url,
    client: reqwest::Client,
    tls13: bool,
    auth: Option<Arc<dyn AuthHook>>,
    buckets: RwLock<BTreeMap<String, Arc<Bucket>>>,
    classify: Classifier,
    share: f64,
    burst: u32,
    retry: RetryConfig,
    in_flight: Semaphore,
    map_error: ErrorMapper,
    counters: Counters,
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
    plain_http: bool,
    tls13: bool,
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

    /// Accepts a plain `http` base URL to a host that is not loopback (default: refused).
    /// Only for a user's explicit opt-in; see [`validate_base_url_with`].
    pub fn allow_plain_http(mut self, allow: bool) -> Self {
        self.plain_http = allow;
        self
    }

    /// Whether TLS connections must use TLS 1.3 (default: yes, as promised for data in
    /// transit). Turn it off only for a server that cannot speak TLS 1.3; plain `http` to a
    /// loopback fake is not TLS and is unaffected either way.
    pub fn require_tls13(mut self, on: bool) -> Self {
        self.tls13 = on;
        self
    }

    /// Validates the base URL and builds the client.
    pub fn build(self) -> Result<HttpClient> {
        let base = validate_base_url_with(&self.base, self.plain_http)?;
        if !(self.share > 0.0 && self.share <= 1.0) {
            return Err(Error::config(format!(
                "max share must be in (0, 1], got {}",
                self.share
            )));
        }
        let mut client = reqwest::Client::builder()
            .timeout(self.timeout)
            .user_agent(self.user_agent)
            // Never follow a redirect with our Authorization header to somewhere else.
            .redirect(reqwest::redirect::Policy::none());
        if self.tls13 {
            client = client.min_tls_version(reqwest::tls::Version::TLS_1_3);
        }
        let client = client
            .build()
            .map_err(|e| Error::config("cannot build the HTTP client").with_source(e))?;
        let buckets = self
            .buckets
            .into_iter()
            .map(|spec| {
                (
                    spec.name.clone(),
                    Arc::new(Bucket::new(spec, self.share, self.burst)),
                )
            })
            .collect();
        Ok(HttpClient {
            inner: Arc::new(Inner {
                base,
                client,
                tls13: self.tls13,
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
                counters: Counters::default(),
            }),
        })
    }
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
            plain_http: false,
            tls13: true,
        }
    }

    /// The base URL (with a trailing slash).
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// Whether the client refuses TLS versions below 1.3 ([`HttpClientBuilder::require_tls13`]).
    pub fn requires_tls13(&self) -> bool {
        self.inner.tls13
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
            retries: self.inner.counters.retries.load(Ordering::Relaxed),
            rate_limited: self.inner.counters.rate_limited.load(Ordering::Relaxed),
            waited_ms: self.inner.counters.waited_ms.load(Ordering::Relaxed),
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
                Arc::new(Bucket::new(spec, self.inner.share, self.inner.burst))
            })
            .clone()
    }

    /// A GET of `path_or_url`.
    pub async fn get(&self, path_or_url: &str) -> Result<Response> {
        self.send(Request::get(path_or_url)).await
    }

    /// Sends a request through the layers (see the [module docs](self)); returns a 2xx
    /// response or the mapped error.
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
        self.send_in_span(&req, &url, &path, &bucket)
            .instrument(span)
            .await
    }

    /// The layers of [`send`](Self::send), composed in the order of the module docs, run
    /// inside its span.
    async fn send_in_span(
        &self,
        req: &Request,
        url: &Url,
        path: &str,
        bucket: &Bucket,
    ) -> Result<Response> {
        let inner = &*self.inner;
        let counters = &inner.counters;
        let retry = &RetryLayer {
            config: inner.retry,
            bucket: &bucket.spec.name,
            method: &req.method,
            path,
            counters,
        };
        let errors = &ErrorLayer {
            map: &inner.map_error,
        };
        let reauth = &ReauthLayer::new(inner.auth.as_deref());
        let gate = &GateLayer {
            bucket,
            max_delay: inner.retry.max_delay,
            counters,
        };
        let pace = &PaceLayer { bucket, counters };
        let in_flight = &InFlightLayer {
            slots: &inner.in_flight,
            bucket,
        };
        let authorize = &AuthorizeLayer {
            hook: inner.auth.as_deref().filter(|_| req.auth),
            client: &inner.client,
        };
        let transport = &Transport {
            client: &inner.client,
            req,
            url,
        };
        retry
            .call(move || {
                errors.call(reauth.call(move || {
                    gate.call(pace.call(in_flight.call(async move {
                        authorize
                            .call(transport.headers()?, move |headers| transport.send(headers))
                            .await
                    })))
                }))
            })
            .await
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

#[cfg(test)]
mod tls_tests {
    use super::HttpClient;

    #[test]
    fn tls13_is_required_by_default_and_can_be_turned_off() {
        let default = HttpClient::builder("https://acme.example.invalid/")
            .build()
            .expect("client");
        assert!(default.requires_tls13());
        let relaxed = HttpClient::builder("https://acme.example.invalid/")
            .require_tls13(false)
            .build()
            .expect("client");
        assert!(!relaxed.requires_tls13());
        // A loopback fake over plain http builds with the option on.
        let fake = HttpClient::builder("http://127.0.0.1:9/")
            .build()
            .expect("client");
        assert!(fake.requires_tls13());
    }
}
