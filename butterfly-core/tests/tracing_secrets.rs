//! No secret in tracing output. Alone in its test binary: tracing caches per callsite whether
//! anyone listens, and a thread-scoped subscriber races with other tests registering the same
//! callsites on other threads (the span then goes unrecorded).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use butterfly_core::http::{HttpClient, Request, RetryConfig, StaticAuth};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

mod log_capture;
use log_capture::LogCapture;

/// Answers each connection with the next status (then 200s), recording the request heads.
async fn serve(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let mut statuses = statuses.into_iter();
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).await.unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head).to_string());
            let status = statuses.next().unwrap_or(200);
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
            );
            let _ = conn.write_all(reply.as_bytes()).await;
        }
    });
    (base, seen)
}

#[tokio::test]
async fn no_secret_in_tracing_output() {
    let log = LogCapture::default();
    let _guard = log.install(tracing::Level::TRACE);
    // A 500 first, so the retry path logs too.
    let (base, seen) = serve(vec![500]).await;
    let c = HttpClient::builder(&base)
        .auth(Arc::new(StaticAuth::new(SecretString::from(
            "SSWS SECRET-api-token".to_string(),
        ))))
        .retry(RetryConfig {
            max_retries: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_secs(3),
        })
        .build()
        .unwrap();
    c.send(Request::get("api/v1/users").query("limit", 200))
        .await
        .unwrap();
    let out = log.text();
    assert!(out.contains("api/v1/users"), "spans are recorded: {out}");
    assert!(!out.contains("SECRET"), "{out}");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "the 500 was retried");
    assert!(
        seen[0]
            .to_ascii_lowercase()
            .contains("ssws secret-api-token"),
        "the header is sent"
    );
}
