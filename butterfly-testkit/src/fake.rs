//! The fake-tenant framework shared by every provider's fake: an axum server on
//! `127.0.0.1:0`, a write log, a loud catch-all, rate-limit emulation with the provider's
//! headers, and deterministic fault injection.
//!
//! A provider fake implements [`FakeApi`]: it answers one request against its in-memory state.
//! The framework wraps it: faults first, then the concurrency cap and the bucket limits, then
//! the API; every non-GET request is recorded, and a request the API does not know is
//! answered 501 and recorded as unknown.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;

/// A request as the fake API sees it.
#[derive(Debug, Clone)]
pub struct FakeRequest {
    /// Method.
    pub method: Method,
    /// Path (no query).
    pub path: String,
    /// Query parameters, decoded.
    pub query: Vec<(String, String)>,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Bytes,
}

impl FakeRequest {
    /// The first value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// The body as JSON (`Null` if empty or malformed).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }
}

/// What the fake API answers.
#[derive(Debug, Clone)]
pub struct FakeResponse {
    /// Status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// JSON body (`None`: empty body).
    pub body: Option<Value>,
}

impl FakeResponse {
    /// 200 with a JSON body.
    pub fn ok(body: Value) -> FakeResponse {
        FakeResponse {
            status: 200,
            headers: Vec::new(),
            body: Some(body),
        }
    }
    /// A status with a JSON body.
    pub fn status(status: u16, body: Value) -> FakeResponse {
        FakeResponse {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }
    /// 204 without a body.
    pub fn no_content() -> FakeResponse {
        FakeResponse {
            status: 204,
            headers: Vec::new(),
            body: None,
        }
    }
    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> FakeResponse {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// A provider's fake API.
pub trait FakeApi: Send + Sync + 'static {
    /// Answers a request; `None` means the route is unknown (the framework answers 501).
    fn handle(&self, req: &FakeRequest, base_url: &str) -> Option<FakeResponse>;
    /// The rate-limit bucket of a request.
    fn bucket(&self, method: &Method, path: &str) -> String;
    /// The provider's 429 body.
    fn rate_limited_body(&self) -> Value;
    /// Whether a request changes the tenant (recorded in the write log). Default: every
    /// method but GET; token endpoints override this.
    fn is_write(&self, method: &Method, path: &str) -> bool {
        let _ = path;
        *method != Method::GET
    }
    /// The error body of an injected [`Fault::Status`]. Default: Okta's.
    fn fault_body(&self, status: u16) -> Value {
        let _ = status;
        serde_json::json!({"errorCode": "E0000009", "errorSummary": "Internal Server Error (injected fault)"})
    }
    /// The limit, remaining and reset header names of an injected [`Fault::RateLimited`].
    /// Default: Okta's.
    fn fault_rate_limit_headers(&self) -> [&'static str; 3] {
        [
            "x-rate-limit-limit",
            "x-rate-limit-remaining",
            "x-rate-limit-reset",
        ]
    }
    /// How the buckets count requests. Default: [`RateLimitMode::FixedWindow`].
    fn rate_limit_mode(&self) -> RateLimitMode {
        RateLimitMode::FixedWindow
    }
    /// Answers a request with a non-JSON body (a file download); checked before
    /// [`FakeApi::handle`]. Default: never.
    fn raw(&self, req: &FakeRequest, base_url: &str) -> Option<RawResponse> {
        let _ = (req, base_url);
        None
    }
    /// What a request costs against its bucket in fixed-window mode (Graph counts resource
    /// units: a list costs more than a read by id). Default: 1.
    fn cost(&self, req: &FakeRequest) -> u32 {
        let _ = req;
        1
    }
    /// The rate-limit headers of a request counted in a fixed-window bucket, in place of the
    /// configured limit/remaining/reset headers: the window's `limit` and `used` (after this
    /// request, or before it when `refused`), the time until the window resets, and whether
    /// the request is refused (429). Default `None`: the configured headers.
    fn limit_headers(
        &self,
        limit: u32,
        used: u32,
        reset_in: Duration,
        refused: bool,
    ) -> Option<Vec<(String, String)>> {
        let _ = (limit, used, reset_in, refused);
        None
    }
}

/// [`FakeApi::limit_headers`] of an API that sends no rate-limit header but `Retry-After`
/// (whole seconds, at least 1) on a refused request: PingOne, 1Password Connect, Workflows.
pub fn retry_after_only(reset_in: Duration, refused: bool) -> Option<Vec<(String, String)>> {
    if refused {
        let secs = reset_in.as_secs_f64().ceil().max(1.0) as u64;
        Some(vec![("retry-after".to_string(), secs.to_string())])
    } else {
        Some(Vec::new())
    }
}

/// How rate-limit buckets count requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RateLimitMode {
    /// `limit` requests per window, the count resetting when the window ends (Okta).
    #[default]
    FixedWindow,
    /// A token bucket (Auth0): it holds at most `limit` tokens (the burst) and refills
    /// continuously at `limit` tokens per (time-scaled) window; a request takes one token. The
    /// reset header says when the bucket is full again, or, on a 429, when the next token comes.
    TokenBucket,
}

/// A non-JSON answer (see [`FakeApi::raw`]).
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// Status.
    pub status: u16,
    /// Content type.
    pub content_type: String,
    /// Body bytes.
    pub body: Bytes,
}

/// A rate-limit bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketLimit {
    /// Name.
    pub name: String,
    /// Requests per window.
    pub limit: u32,
}

/// Rate-limit emulation settings.
#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    /// Buckets; a request in a bucket not listed is not limited.
    pub buckets: Vec<BucketLimit>,
    /// The window (a minute for Okta), before time scaling.
    pub window: Duration,
    /// Header names: limit, remaining, reset (reset is epoch seconds).
    pub headers: [&'static str; 3],
    /// Requests in flight above this get 429 (Okta: about 75).
    pub concurrency: usize,
    /// Time runs this much faster: 60.0 makes a one-minute window last one second.
    pub time_scale: f64,
}

/// A fault to inject.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this status and an error body.
    Status(u16),
    /// Answer 429 with the rate-limit headers and a `Retry-After` of one (scaled) second.
    RateLimited,
    /// Answer 429 with no rate-limit headers and an empty `Retry-After`.
    RateLimitedNoHeaders,
    /// Send headers, then break the connection before any body byte.
    Reset,
    /// Send half of the body, then break the connection.
    Truncate,
    /// Answer normally after a delay.
    Slow(Duration),
}

/// When a fault fires: on requests whose path starts with `path_prefix` (a `{}` segment of it
/// matches any one segment, as the environment id in PingOne paths), and method, if set,
/// every `every`-th matching request, at most `times` times.
#[derive(Debug, Clone)]
pub struct FaultRule {
    /// Path prefix.
    pub path_prefix: String,
    /// Method, if only one.
    pub method: Option<Method>,
    /// The fault.
    pub fault: Fault,
    /// Fire on every k-th matching request (1 = every one).
    pub every: usize,
    /// Fire at most this many times.
    pub times: usize,
}

/// Whether `path` starts with `prefix`, a `{}` segment of the prefix matching any segment.
fn prefix_matches(prefix: &str, path: &str) -> bool {
    if !prefix.contains("{}") {
        return path.starts_with(prefix);
    }
    let (mut want, mut have) = (prefix.split('/'), path.split('/'));
    loop {
        match (want.next(), have.next()) {
            (None, _) => return true,
            (Some(w), Some(h)) if w == "{}" || w == h => {}
            // The last prefix segment may be the start of a path segment.
            (Some(w), Some(h)) => return want.next().is_none() && h.starts_with(w),
            (Some(_), None) => return false,
        }
    }
}

impl FaultRule {
    /// A rule firing on every `every`-th GET under `prefix`, at most `times` times.
    pub fn get(prefix: &str, fault: Fault, every: usize, times: usize) -> FaultRule {
        FaultRule {
            path_prefix: prefix.to_string(),
            method: Some(Method::GET),
            fault,
            every: every.max(1),
            times,
        }
    }
}

/// A recorded write.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteRecord {
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// JSON body (`Null` if none).
    pub body: Value,
}

#[derive(Debug)]
struct BucketState {
    limit: u32,
    used: u32,
    window_start: Instant,
    /// Token-bucket mode: tokens left and when they were counted.
    tokens: f64,
    refilled: Instant,
}

struct Shared {
    api: Box<dyn FakeApi>,
    base_url: Mutex<String>,
    writes: Mutex<Vec<WriteRecord>>,
    unknown: Mutex<Vec<String>>,
    limits: Option<RateLimitConfig>,
    buckets: Mutex<BTreeMap<String, BucketState>>,
    counts: Mutex<BTreeMap<String, u64>>,
    in_flight: AtomicUsize,
    faults: Mutex<Vec<(FaultRule, usize, usize)>>,
    started: Instant,
}

/// Options of a fake server.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Rate-limit emulation (`None`: unlimited).
    pub rate_limits: Option<RateLimitConfig>,
    /// Faults.
    pub faults: Vec<FaultRule>,
    /// Port (0: any free port).
    pub port: u16,
}

/// A running fake server. Dropping it stops the server.
pub struct FakeServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakeServer {
    /// Starts `api` on 127.0.0.1.
    pub async fn start(api: impl FakeApi, options: ServerOptions) -> std::io::Result<FakeServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            api: Box::new(api),
            base_url: Mutex::new(format!("http://{addr}")),
            writes: Mutex::default(),
            unknown: Mutex::default(),
            limits: options.rate_limits,
            buckets: Mutex::default(),
            counts: Mutex::default(),
            in_flight: AtomicUsize::new(0),
            faults: Mutex::new(options.faults.into_iter().map(|f| (f, 0, 0)).collect()),
            started: Instant::now(),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(FakeServer {
            shared,
            addr,
            shutdown: Some(tx),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every write so far.
    pub fn writes(&self) -> Vec<WriteRecord> {
        lock(&self.shared.writes).clone()
    }

    /// Number of writes so far.
    pub fn write_count(&self) -> usize {
        lock(&self.shared.writes).len()
    }

    /// Requests no route knew.
    pub fn unknown_requests(&self) -> Vec<String> {
        lock(&self.shared.unknown).clone()
    }

    /// Requests served per bucket.
    pub fn requests_per_bucket(&self) -> BTreeMap<String, u64> {
        lock(&self.shared.counts).clone()
    }

    /// Time since the server started.
    pub fn uptime(&self) -> Duration {
        self.shared.started.elapsed()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The public half of the test-only key pair every fake's backup app signs its client
/// assertions with (see `butterfly-testkit/keys`).
const TEST_PUBLIC_KEY_PEM: &str = include_str!("../keys/okta-test-public.pem");

/// Why a client assertion was refused.
pub(crate) enum AssertionError {
    /// The test public key did not parse (a broken build, never a client's fault).
    Key,
    /// The JWT is malformed, not signed with the test key (RS256), expired, or lacks
    /// `exp`, `iss`, `sub` or `aud`.
    Invalid(jsonwebtoken::errors::Error),
}

/// The claims of a `private_key_jwt` client assertion signed with the test key. The audience
/// is left to the caller (a fake does not know the public name it is reached by).
pub(crate) fn verify_test_assertion(assertion: &str) -> Result<Value, AssertionError> {
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(TEST_PUBLIC_KEY_PEM.as_bytes())
        .map_err(|_| AssertionError::Key)?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    jsonwebtoken::decode::<Value>(assertion, &key, &validation)
        .map(|data| data.claims)
        .map_err(AssertionError::Invalid)
}

/// A planted secret value, `SENTINEL-{what}-NNNNNN`, drawn from a generator's `rng`: tests
/// prove such values never reach snapshots, logs or errors.
pub(crate) fn sentinel(rng: &mut rand_chacha::ChaCha8Rng, what: &str) -> String {
    use rand::RngExt;
    format!("SENTINEL-{what}-{}", rng.random_range(100_000..999_999))
}

/// Whether a concrete `path` fits a route `template` whose `{}` segments match any one
/// segment (the others exactly).
pub(crate) fn matches(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == "{}" || a == b => {}
            _ => return false,
        }
    }
}

/// Merges a JSON `patch` into `target` as the providers' `PATCH`/`POST` updates do: objects
/// merge key by key (recursively), anything else replaces what was there.
pub(crate) fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// Locks `m`, recovering the data from a poisoned lock (a panicking handler leaves the fake's
/// state as it was; the fakes keep serving).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn json_response(status: u16, headers: &[(String, String)], body: Option<&Value>) -> Response {
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    let mut r = Response::new(Body::from(bytes));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if body.is_some() {
        r.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
    }
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            r.headers_mut().append(k, v);
        }
    }
    r
}

/// A response whose body breaks after `keep` bytes of `full`.
fn broken_body(full: String, keep: usize) -> Response {
    let len = full.len();
    let part = Bytes::from(full.into_bytes()).slice(..keep.min(len));
    let stream = futures::stream::iter(vec![
        Ok::<Bytes, std::io::Error>(part),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "fault: connection broken",
        )),
    ]);
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r.headers_mut()
        .insert("content-length", HeaderValue::from(len.max(1)));
    r
}

struct InFlight<'a>(&'a AtomicUsize);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let req = FakeRequest {
        method: method.clone(),
        path: path.clone(),
        query,
        headers,
        body,
    };
    let bucket = shared.api.bucket(&method, &path);
    *lock(&shared.counts).entry(bucket.clone()).or_insert(0) += 1;
    let scale = shared
        .limits
        .as_ref()
        .map_or(1.0, |l| l.time_scale.max(0.001));

    // Faults.
    let fault = {
        let mut faults = lock(&shared.faults);
        let mut hit = None;
        for (rule, seen, fired) in faults.iter_mut() {
            if prefix_matches(&rule.path_prefix, &path)
                && rule.method.as_ref().is_none_or(|m| *m == method)
            {
                *seen += 1;
                if *fired < rule.times && (*seen).is_multiple_of(rule.every) {
                    *fired += 1;
                    hit = Some(rule.fault.clone());
                    break;
                }
            }
        }
        hit
    };
    let rl_body = shared.api.rate_limited_body();
    match fault {
        Some(Fault::Status(code)) => {
            return json_response(code, &[], Some(&shared.api.fault_body(code)));
        }
        Some(Fault::RateLimited) => {
            let reset = epoch_secs() + 1;
            let [limit, remaining, reset_name] = shared.api.fault_rate_limit_headers();
            let h = vec![
                (limit.to_string(), "600".to_string()),
                (remaining.to_string(), "0".to_string()),
                (reset_name.to_string(), reset.to_string()),
                (
                    "retry-after".to_string(),
                    format!("{}", (1.0 / scale).ceil() as u64),
                ),
            ];
            return json_response(429, &h, Some(&rl_body));
        }
        Some(Fault::RateLimitedNoHeaders) => {
            return json_response(
                429,
                &[("retry-after".to_string(), String::new())],
                Some(&rl_body),
            );
        }
        Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
        _ => {}
    }

    // Concurrency cap and buckets.
    let now_in_flight = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let _guard = InFlight(&shared.in_flight);
    let mut rate_headers = Vec::new();
    if let Some(limits) = &shared.limits {
        if now_in_flight > limits.concurrency {
            return json_response(429, &[], Some(&rl_body));
        }
        if let Some(spec) = limits.buckets.iter().find(|b| b.name == bucket) {
            let window = limits.window.div_f64(scale);
            let mut buckets = lock(&shared.buckets);
            let state = buckets.entry(bucket.clone()).or_insert(BucketState {
                limit: spec.limit,
                used: 0,
                window_start: Instant::now(),
                tokens: f64::from(spec.limit),
                refilled: Instant::now(),
            });
            if shared.api.rate_limit_mode() == RateLimitMode::TokenBucket {
                let rate = f64::from(state.limit) / window.as_secs_f64().max(1e-9);
                let now = Instant::now();
                state.tokens = (state.tokens
                    + now.duration_since(state.refilled).as_secs_f64() * rate)
                    .min(f64::from(state.limit));
                state.refilled = now;
                let epoch_after = |secs: f64| {
                    (SystemTime::now() + Duration::from_secs_f64(secs.max(0.0)))
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
                        .unwrap_or(0)
                };
                if state.tokens < 1.0 {
                    let h = vec![
                        (limits.headers[0].to_string(), state.limit.to_string()),
                        (limits.headers[1].to_string(), "0".to_string()),
                        (
                            limits.headers[2].to_string(),
                            epoch_after((1.0 - state.tokens) / rate).to_string(),
                        ),
                    ];
                    return json_response(429, &h, Some(&rl_body));
                }
                state.tokens -= 1.0;
                let full_in = (f64::from(state.limit) - state.tokens) / rate;
                rate_headers = vec![
                    (limits.headers[0].to_string(), state.limit.to_string()),
                    (
                        limits.headers[1].to_string(),
                        (state.tokens.floor() as u64).to_string(),
                    ),
                    (
                        limits.headers[2].to_string(),
                        epoch_after(full_in).to_string(),
                    ),
                ];
            } else {
                if state.window_start.elapsed() >= window {
                    state.used = 0;
                    state.window_start = Instant::now();
                }
                let left = window.saturating_sub(state.window_start.elapsed());
                let reset = SystemTime::now() + left;
                let reset_secs = reset
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
                    .unwrap_or(0);
                let cost = shared.api.cost(&req).clamp(1, state.limit.max(1));
                if state.used + cost > state.limit {
                    let h = shared
                        .api
                        .limit_headers(state.limit, state.used, left, true)
                        .unwrap_or_else(|| {
                            vec![
                                (limits.headers[0].to_string(), state.limit.to_string()),
                                (limits.headers[1].to_string(), "0".to_string()),
                                (limits.headers[2].to_string(), reset_secs.to_string()),
                            ]
                        });
                    return json_response(429, &h, Some(&rl_body));
                }
                state.used += cost;
                rate_headers = shared
                    .api
                    .limit_headers(state.limit, state.used, left, false)
                    .unwrap_or_else(|| {
                        vec![
                            (limits.headers[0].to_string(), state.limit.to_string()),
                            (
                                limits.headers[1].to_string(),
                                (state.limit - state.used).to_string(),
                            ),
                            (limits.headers[2].to_string(), reset_secs.to_string()),
                        ]
                    });
            }
        }
    }

    if shared.api.is_write(&method, &path) {
        lock(&shared.writes).push(WriteRecord {
            method: method.to_string(),
            path: uri
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or(path.clone()),
            body: req.json(),
        });
    }
    let base = lock(&shared.base_url).clone();
    if let Some(raw) = shared.api.raw(&req, &base) {
        let mut r = Response::new(Body::from(raw.body));
        *r.status_mut() =
            StatusCode::from_u16(raw.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let Ok(v) = HeaderValue::from_str(&raw.content_type) {
            r.headers_mut().insert("content-type", v);
        }
        for (k, v) in &rate_headers {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                r.headers_mut().append(k, v);
            }
        }
        return r;
    }
    let Some(mut resp) = shared.api.handle(&req, &base) else {
        let line = format!("{method} {uri}");
        tracing::error!(request = %line, "fake tenant: unknown request");
        lock(&shared.unknown).push(line.clone());
        return json_response(
            501,
            &[],
            Some(
                &serde_json::json!({"error": "the fake tenant does not implement this request", "request": line}),
            ),
        );
    };
    resp.headers.extend(rate_headers);
    match fault {
        Some(Fault::Reset) => broken_body(resp.body.map(|b| b.to_string()).unwrap_or_default(), 0),
        Some(Fault::Truncate) => {
            let text = resp.body.map(|b| b.to_string()).unwrap_or_default();
            let half = text.len() / 2;
            broken_body(text, half)
        }
        _ => json_response(resp.status, &resp.headers, resp.body.as_ref()),
    }
}

fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::prefix_matches;

    #[test]
    fn fault_prefixes_match_any_segment_at_braces() {
        assert!(prefix_matches("/api/v2/users", "/api/v2/users?page=1"));
        assert!(prefix_matches(
            "/v1/environments/{}/users",
            "/v1/environments/e1/users"
        ));
        assert!(prefix_matches(
            "/v1/environments/{}/users",
            "/v1/environments/e1/users/u1/memberOfGroups"
        ));
        assert!(!prefix_matches(
            "/v1/environments/{}/users",
            "/v1/environments/e1/groups"
        ));
        assert!(!prefix_matches(
            "/v1/environments/{}/users",
            "/v1/environments"
        ));
    }
}
