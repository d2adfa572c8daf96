//! HTTP stack tests against a scripted server on 127.0.0.1 that answers each connection with
//! the next scripted reply (including resets and truncated bodies).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use butterfly_core::http::{
    self, AuthHook, BucketSpec, HttpClient, HttpEvent, NextPage, Request, RetryConfig, StaticAuth,
    TokenCache, validate_base_url,
};
use butterfly_core::{Error, ErrorKind, ErrorStatus};
use futures::StreamExt;
use secrecy::SecretString;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone)]
enum Reply {
    /// status, extra headers, body
    Http(u16, Vec<(&'static str, String)>, String),
    /// Close the socket without answering.
    Reset,
    /// Announce a longer body than is sent, then close.
    Truncated,
}

fn ok(body: serde_json::Value) -> Reply {
    Reply::Http(200, vec![], body.to_string())
}

struct Server {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
}

/// Serves `script` in order; when it runs out, repeats `fallback`.
async fn serve(script: Vec<Reply>, fallback: Option<Reply>) -> Server {
    serve_on(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        script,
        fallback,
    )
    .await
}

fn fast_retry() -> RetryConfig {
    RetryConfig {
        max_retries: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_secs(3),
    }
}

fn client(base: &str) -> HttpClient {
    HttpClient::builder(base)
        .retry(fast_retry())
        .build()
        .unwrap()
}

#[test]
fn base_url_validation() {
    for good in [
        "https://acme.okta.com",
        "https://acme.okta.com/x",
        "http://127.0.0.1:8080",
        "http://localhost:1",
        "http://[::1]:9",
        "http://127.8.0.1",
    ] {
        let url = validate_base_url(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        assert!(url.path().ends_with('/'));
    }
    for bad in [
        "http://idp.example.invalid",
        "http://10.0.0.1",
        "ftp://x.example.invalid",
        "https://user:pw@acme.okta.com",
        "not a url",
        "http://",
    ] {
        let err = validate_base_url(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{bad}");
        assert!(!err.to_string().contains("pw"), "{err}");
    }
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused_before_connecting() {
    let err = HttpClient::builder("http://idp.example.invalid")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("https"), "{err}");
}

#[tokio::test]
async fn retries_honour_retry_after_seconds_date_and_empty() {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(1));
    let s = serve(
        vec![
            Reply::Http(
                429,
                vec![("retry-after", "1".into())],
                r#"{"errorCode":"E0000047"}"#.into(),
            ),
            Reply::Http(503, vec![("retry-after", date)], "{}".into()),
            Reply::Http(429, vec![("retry-after", "".into())], "{}".into()),
            ok(json!({"ok": true})),
        ],
        None,
    )
    .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let c = HttpClient::builder(&s.base)
        .retry(RetryConfig {
            max_retries: 5,
            ..fast_retry()
        })
        .build()
        .unwrap();
    let started = Instant::now();
    let resp = http::with_events(
        Arc::new(move |e| sink.lock().unwrap().push(e)),
        c.get("api/v1/x"),
    )
    .await
    .unwrap();
    assert_eq!(resp.value().unwrap(), json!({"ok": true}));
    let waits: Vec<Duration> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            HttpEvent::Retry { wait, .. } => Some(*wait),
            // The limiter's pacing between the retries is reported too; not counted here.
            HttpEvent::RateLimitWait { .. } => None,
        })
        .collect();
    assert_eq!(waits.len(), 3);
    assert!(
        waits[0] >= Duration::from_secs(1),
        "Retry-After: 1 honoured: {waits:?}"
    );
    assert!(
        waits[2] < Duration::from_millis(100),
        "empty Retry-After falls back to backoff: {waits:?}"
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(c.stats().retries, 3);
    assert_eq!(c.stats().rate_limited, 2);
}

#[tokio::test]
async fn reset_header_sets_the_wait_after_a_429() {
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    let s = serve(
        vec![
            Reply::Http(
                429,
                vec![
                    ("x-rate-limit-limit", "10".into()),
                    ("x-rate-limit-remaining", "0".into()),
                    ("x-rate-limit-reset", reset.to_string()),
                ],
                "{}".into(),
            ),
            ok(json!([])),
        ],
        None,
    )
    .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let c = client(&s.base);
    http::with_events(
        Arc::new(move |e| sink.lock().unwrap().push(e)),
        c.get("api/v1/users"),
    )
    .await
    .unwrap();
    let first = events.lock().unwrap()[0].clone();
    match first {
        HttpEvent::Retry {
            status: Some(429),
            wait,
            ..
        } => assert!(
            wait > Duration::from_millis(0) && wait <= Duration::from_millis(1100),
            "{wait:?}"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn connection_resets_truncated_bodies_and_5xx_are_retried() {
    let s = serve(
        vec![
            Reply::Reset,
            Reply::Truncated,
            Reply::Http(500, vec![], "{}".into()),
            ok(json!([1, 2, 3])),
        ],
        None,
    )
    .await;
    let c = client(&s.base);
    let resp = c.get("x").await.unwrap();
    assert_eq!(resp.value().unwrap(), json!([1, 2, 3]));
    assert_eq!(s.requests.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn giving_up_returns_the_mapped_error() {
    let s = serve(vec![], Some(Reply::Http(503, vec![], "{}".into()))).await;
    let err = client(&s.base).get("x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(s.requests.lock().unwrap().len(), 4, "1 + 3 retries");
    assert_eq!(
        err.error_status(),
        ErrorStatus::Persistent,
        "a spent budget is not retryable"
    );
    let s = serve(vec![], Some(Reply::Http(429, vec![], "{}".into()))).await;
    assert_eq!(
        client(&s.base).get("x").await.unwrap_err().kind(),
        ErrorKind::RateLimited
    );
    let s = serve(vec![], Some(Reply::Reset)).await;
    assert_eq!(
        client(&s.base).get("x").await.unwrap_err().kind(),
        ErrorKind::Transient
    );
    // 4xx are not retried and go through the provider's mapper.
    let s = serve(
        vec![Reply::Http(
            403,
            vec![],
            r#"{"errorCode":"E0000006"}"#.into(),
        )],
        None,
    )
    .await;
    let c = HttpClient::builder(&s.base)
        .retry(fast_retry())
        .error_mapper(Arc::new(|status, _, body| {
            let text = String::from_utf8_lossy(body);
            Error::new(
                if text.contains("E0000006") {
                    ErrorKind::Denied
                } else {
                    ErrorKind::InvalidData
                },
                format!("mapped {status}"),
            )
        }))
        .build()
        .unwrap();
    let err = c.get("x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Denied);
    assert_eq!(s.requests.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn malformed_json_is_invalid_data_not_a_panic() {
    let s = serve(vec![Reply::Http(200, vec![], "{\"a\":".into())], None).await;
    let resp = client(&s.base).get("x").await.unwrap();
    assert_eq!(resp.value().unwrap_err().kind(), ErrorKind::InvalidData);
}

#[derive(Debug)]
struct CountingAuth {
    cache: TokenCache,
    fetches: AtomicUsize,
}

#[async_trait]
impl AuthHook for CountingAuth {
    async fn authorization(&self, _http: &reqwest::Client) -> butterfly_core::Result<SecretString> {
        self.cache
            .get_or_refresh(|| async {
                let n = self.fetches.fetch_add(1, Ordering::SeqCst);
                Ok((
                    SecretString::from(format!("Bearer SECRET-token-{n}")),
                    Duration::from_secs(3600),
                ))
            })
            .await
    }
    fn invalidate(&self) {
        self.cache.invalidate();
    }
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_tokens_are_cached() {
    let s = serve(
        vec![
            Reply::Http(401, vec![], "{}".into()),
            ok(json!(1)),
            ok(json!(2)),
            Reply::Http(401, vec![], "{}".into()),
            Reply::Http(401, vec![], "{}".into()),
        ],
        None,
    )
    .await;
    let auth = Arc::new(CountingAuth {
        cache: TokenCache::default(),
        fetches: AtomicUsize::new(0),
    });
    let c = HttpClient::builder(&s.base)
        .auth(auth.clone())
        .retry(fast_retry())
        .build()
        .unwrap();
    c.get("a").await.unwrap();
    c.get("b").await.unwrap();
    assert_eq!(
        auth.fetches.load(Ordering::SeqCst),
        2,
        "one fetch, one refresh after the 401, then cached"
    );
    let err = c.get("c").await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Auth,
        "a second 401 in a row is final"
    );
    let reqs = s.requests.lock().unwrap();
    assert!(reqs[0].contains("Bearer SECRET-token-0") && reqs[1].contains("Bearer SECRET-token-1"));
    assert!(!format!("{c:?} {err} {err:?}").contains("SECRET"));
    assert!(
        !format!(
            "{:?}",
            StaticAuth::new(SecretString::from("SSWS SECRET".to_string()))
        )
        .contains("SECRET")
    );
}

#[tokio::test]
async fn token_cache_refreshes_before_expiry() {
    let cache = TokenCache::new(Duration::from_secs(60));
    let fetches = AtomicUsize::new(0);
    for _ in 0..3 {
        cache
            .get_or_refresh(|| async {
                fetches.fetch_add(1, Ordering::SeqCst);
                Ok((SecretString::from("t".to_string()), Duration::from_secs(30)))
            })
            .await
            .unwrap();
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        3,
        "a token within the skew of expiry is refreshed"
    );
}

#[tokio::test]
async fn the_limiter_holds_the_configured_rate() {
    let s = serve(vec![], Some(ok(json!({})))).await;
    // 40 per second at a 50% share: 20 per second, one every 50 ms.
    let c = HttpClient::builder(&s.base)
        .bucket(BucketSpec {
            name: "users".into(),
            limit: 40,
            period: Duration::from_secs(1),
        })
        .classify(Arc::new(|_, _| "users".to_string()))
        .build()
        .unwrap();
    let started = Instant::now();
    for _ in 0..21 {
        c.get("api/v1/users").await.unwrap();
    }
    let elapsed = started.elapsed();
    // 21 requests need at least 20 intervals of 50 ms after the first.
    assert!(
        elapsed >= Duration::from_millis(950),
        "21 requests took {elapsed:?}: faster than the share allows"
    );
    assert_eq!(c.stats().requests["users"], 21);
}

#[tokio::test]
async fn a_limiter_burst_catches_up_but_never_beyond_the_burst() {
    let s = serve(vec![], Some(ok(json!({})))).await;
    // 10 per second at full share: one every 100 ms, catching up by at most 4 at once.
    let c = HttpClient::builder(&s.base)
        .bucket(BucketSpec {
            name: "management".into(),
            limit: 10,
            period: Duration::from_secs(1),
        })
        .max_share(1.0)
        .limiter_burst(4)
        .classify(Arc::new(|_, _| "management".to_string()))
        .build()
        .unwrap();
    let started = Instant::now();
    for _ in 0..12 {
        c.get("api/v2/clients").await.unwrap();
    }
    let elapsed = started.elapsed();
    // The first 4 may go at once; the other 8 each wait for a 100 ms slot.
    assert!(
        elapsed >= Duration::from_millis(750),
        "12 requests took {elapsed:?}: the burst let more through than 4"
    );
    assert_eq!(c.stats().requests["management"], 12);
}

#[tokio::test]
async fn the_gate_waits_when_only_the_reserve_is_left() {
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    let headers = |remaining: u32| {
        vec![
            ("x-rate-limit-limit", "100".to_string()),
            ("x-rate-limit-remaining", remaining.to_string()),
            ("x-rate-limit-reset", reset.to_string()),
        ]
    };
    // After the first response, 50 of 100 remain: that is the reserve for others at share 0.5.
    let s = serve(
        vec![
            Reply::Http(200, headers(50), "{}".into()),
            Reply::Http(200, headers(99), "{}".into()),
        ],
        None,
    )
    .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let c = client(&s.base);
    http::with_events(Arc::new(move |e| sink.lock().unwrap().push(e)), async {
        c.get("a").await.unwrap();
        c.get("b").await.unwrap();
    })
    .await;
    let events = events.lock().unwrap();
    assert!(
        matches!(events.first(), Some(HttpEvent::RateLimitWait { .. })),
        "{events:?}"
    );
    assert_eq!(c.stats().rate_limited, 0, "slowed before any 429");
}

#[tokio::test]
async fn pagination_styles() {
    // Link headers: followed within the origin, refused to another origin.
    let linked = serve_chain(|base| {
        let link = |after: &str| vec![("link", format!("<{base}/api/v1/users?limit=2>; rel=\"self\", <{base}/api/v1/users?after={after}&limit=2>; rel=\"next\""))];
        vec![Reply::Http(200, link("2"), "[1,2]".into()), Reply::Http(200, link("4"), "[3,4]".into()), ok(json!([5]))]
    })
    .await;
    let pages: Vec<_> = client(&linked.base)
        .pages(
            Request::get("api/v1/users").query("limit", 2),
            NextPage::LinkHeader,
        )
        .collect()
        .await;
    let bodies: Vec<_> = pages
        .into_iter()
        .map(|p| p.unwrap().value().unwrap())
        .collect();
    assert_eq!(bodies, vec![json!([1, 2]), json!([3, 4]), json!([5])]);
    assert!(linked.requests.lock().unwrap()[2].contains("after=4"));
    let elsewhere = serve(
        vec![Reply::Http(
            200,
            vec![(
                "link",
                "<https://evil.example.invalid/api/v1/users?after=2>; rel=\"next\"".into(),
            )],
            "[1]".into(),
        )],
        None,
    )
    .await;
    let pages: Vec<_> = client(&elsewhere.base)
        .pages(Request::get("api/v1/users"), NextPage::LinkHeader)
        .collect()
        .await;
    assert!(pages[0].is_ok());
    assert_eq!(
        pages[1].as_ref().unwrap_err().kind(),
        ErrorKind::Config,
        "cross-origin next link refused"
    );

    // OData.
    let od = serve_chain(|base| vec![ok(json!({"value": [1], "@odata.nextLink": format!("{base}/v1.0/users?$skiptoken=abc")})), ok(json!({"value": [2]}))]).await;
    let pages: Vec<_> = client(&od.base)
        .pages(Request::get("v1.0/users"), NextPage::ODataNextLink)
        .collect()
        .await;
    assert_eq!(pages.len(), 2);
    assert!(od.requests.lock().unwrap()[1].contains("skiptoken=abc"));

    // HAL.
    let hal = serve_chain(|base| vec![ok(json!({"_embedded": {"users": [1]}, "_links": {"next": {"href": format!("{base}/v1/users?cursor=x")}}})), ok(json!({"_embedded": {"users": [2]}}))]).await;
    let pages: Vec<_> = client(&hal.base)
        .pages(Request::get("v1/users"), NextPage::HalNext)
        .collect()
        .await;
    assert_eq!(pages.len(), 2);

    // Page numbers with totals.
    let pn = serve(
        vec![
            ok(json!({"users": [1, 2], "total": 5})),
            ok(json!({"users": [3, 4], "total": 5})),
            ok(json!({"users": [5], "total": 5})),
        ],
        None,
    )
    .await;
    let style = NextPage::PageNumber {
        page_param: "page".into(),
        per_page_param: "per_page".into(),
        per_page: 2,
        items_field: Some("users".into()),
        total_field: Some("total".into()),
    };
    let pages: Vec<_> = client(&pn.base)
        .pages(
            Request::get("api/v2/users").query("include_totals", true),
            style,
        )
        .collect()
        .await;
    assert_eq!(pages.len(), 3);
    let reqs = pn.requests.lock().unwrap().clone();
    assert!(
        reqs[0].contains("page=0") && reqs[2].contains("page=2") && reqs[2].contains("per_page=2"),
        "{reqs:?}"
    );

    // Checkpoints.
    let cp = serve(
        vec![
            ok(json!({"roles": [1], "next": "cp1"})),
            ok(json!({"roles": [2]})),
        ],
        None,
    )
    .await;
    let style = NextPage::Checkpoint {
        from_param: "from".into(),
        take_param: "take".into(),
        take: 50,
        next_field: "next".into(),
    };
    let pages: Vec<_> = client(&cp.base)
        .pages(Request::get("api/v2/roles"), style)
        .collect()
        .await;
    assert_eq!(pages.len(), 2);
    assert!(cp.requests.lock().unwrap()[1].contains("from=cp1"));
}

/// A server whose script can name its own base URL.
async fn serve_chain(script: impl FnOnce(&str) -> Vec<Reply>) -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let base = format!("http://{addr}");
    let replies = script(&base);
    let l = TcpListener::bind(addr).await.unwrap();
    serve_on(l, replies, None).await
}

async fn serve_on(listener: TcpListener, script: Vec<Reply>, fallback: Option<Reply>) -> Server {
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (log, script, fallback) = (log.clone(), script.clone(), fallback.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf).to_string());
                let reply = script.lock().unwrap().pop_front().or(fallback);
                let text = match reply {
                    None | Some(Reply::Reset) => return,
                    Some(Reply::Truncated) => "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\nconnection: close\r\n\r\n[1,2".to_string(),
                    Some(Reply::Http(status, headers, body)) => {
                        let mut t = format!("HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
                        for (k, v) in headers {
                            t.push_str(&format!("{k}: {v}\r\n"));
                        }
                        t + "\r\n" + &body
                    }
                };
                let _ = sock.write_all(text.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Server { base, requests }
}

#[tokio::test]
async fn pacing_by_the_limiter_counts_as_rate_limit_waiting() {
    // 120 per minute at share 0.5 is one request a second: five requests wait about 4 s in
    // all in the limiter, without a single 429 or gate wait.
    let s = serve(vec![], Some(ok(json!({})))).await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let c = HttpClient::builder(&s.base)
        .bucket(BucketSpec {
            name: "paced".into(),
            limit: 120,
            period: Duration::from_secs(60),
        })
        .classify(Arc::new(|_: &reqwest::Method, _: &str| "paced".to_string()))
        .retry(fast_retry())
        .build()
        .unwrap();
    http::with_events(Arc::new(move |e| sink.lock().unwrap().push(e)), async {
        for i in 0..5 {
            c.get(&format!("x/{i}")).await.unwrap();
        }
    })
    .await;
    let waited: Duration = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            HttpEvent::RateLimitWait { wait, .. } => Some(*wait),
            HttpEvent::Retry { .. } => None,
        })
        .sum();
    assert!(
        waited >= Duration::from_secs(2),
        "the limiter's pacing is reported: {waited:?}"
    );
    assert!(c.stats().waited_ms >= 2000, "{:?}", c.stats());
    assert_eq!(c.stats().rate_limited, 0);
}

/// Rate-limit headers that leave only the reserve of a large bucket, resetting within a
/// second: the gate holds the next request until the reset, and the limiter sized from them
/// hardly paces.
fn only_the_reserve_left() -> Vec<(&'static str, String)> {
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    vec![
        ("x-rate-limit-limit", "100000".to_string()),
        ("x-rate-limit-remaining", "50000".to_string()),
        ("x-rate-limit-reset", reset.to_string()),
    ]
}

/// Whether a gate wait (at least the 50 ms it adds to the reset) was seen.
fn gate_waited(events: &[HttpEvent]) -> Option<usize> {
    events.iter().position(
        |e| matches!(e, HttpEvent::RateLimitWait { wait, .. } if *wait >= Duration::from_millis(50)),
    )
}

#[tokio::test]
async fn a_retry_passes_the_gate_again() {
    let s = serve(
        vec![
            Reply::Http(503, only_the_reserve_left(), "{}".into()),
            ok(json!({})),
        ],
        None,
    )
    .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let c = client(&s.base);
    http::with_events(Arc::new(move |e| sink.lock().unwrap().push(e)), c.get("x"))
        .await
        .unwrap();
    let events = events.lock().unwrap();
    let retry = events
        .iter()
        .position(|e| {
            matches!(
                e,
                HttpEvent::Retry {
                    status: Some(503),
                    ..
                }
            )
        })
        .expect("retried");
    let gate = gate_waited(&events).expect("the retry waited at the gate");
    assert!(retry < gate, "{events:?}");
    assert_eq!(c.stats().requests["default"], 2);
}

#[tokio::test]
async fn the_re_send_after_a_401_passes_the_gate_again() {
    let s = serve(
        vec![
            Reply::Http(401, only_the_reserve_left(), "{}".into()),
            ok(json!({})),
        ],
        None,
    )
    .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let c = HttpClient::builder(&s.base)
        .auth(Arc::new(StaticAuth::new(SecretString::from(
            "SSWS token".to_string(),
        ))))
        .retry(fast_retry())
        .build()
        .unwrap();
    http::with_events(Arc::new(move |e| sink.lock().unwrap().push(e)), c.get("x"))
        .await
        .unwrap();
    let events = events.lock().unwrap();
    assert!(gate_waited(&events).is_some(), "{events:?}");
    assert_eq!(c.stats().requests["default"], 2);
    assert_eq!(c.stats().retries, 0, "the re-send is not a retry");
}

#[tokio::test]
async fn a_401_is_re_sent_once_per_request_even_across_retries() {
    let s = serve(
        vec![
            Reply::Http(401, vec![], "{}".into()),
            Reply::Http(503, vec![], "{}".into()),
            Reply::Http(401, vec![], "{}".into()),
        ],
        Some(ok(json!({}))),
    )
    .await;
    let auth = Arc::new(CountingAuth {
        cache: TokenCache::default(),
        fetches: AtomicUsize::new(0),
    });
    let c = HttpClient::builder(&s.base)
        .auth(auth.clone())
        .retry(fast_retry())
        .build()
        .unwrap();
    let err = c.get("x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(
        err.contexts(),
        ["GET /x"],
        "a final answer, not a spent retry"
    );
    assert_eq!(s.requests.lock().unwrap().len(), 3);
    assert_eq!(auth.fetches.load(Ordering::SeqCst), 2, "invalidated once");
    assert_eq!(c.stats().retries, 1);
}
