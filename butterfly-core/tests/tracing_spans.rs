//! A log line's size does not grow with the number of requests: the HTTP span is attached to
//! each request's future, not entered across its awaits (an entered guard held over an await
//! nests every later span of the thread inside it). Alone in its test binary, like
//! `tracing_secrets.rs`: a thread-scoped subscriber races with other tests' callsites.

use butterfly_core::http::{BucketSpec, HttpClient, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

mod log_capture;
use log_capture::LogCapture;

/// The longest line's length and the number of lines.
fn longest_line(text: &str) -> (usize, usize) {
    (
        text.lines().map(str::len).max().unwrap_or(0),
        text.lines().count(),
    )
}

/// Answers every request with `{}` after a short pause, so requests overlap.
async fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).await.unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
                let _ = conn.write_all(reply.as_bytes()).await;
            });
        }
    });
    base
}

#[tokio::test]
async fn log_lines_do_not_grow_with_the_number_of_requests() {
    let log = LogCapture::default();
    let _guard = log.install(tracing::Level::DEBUG);
    let base = serve().await;
    // A generous bucket: the check is about log lines, not pacing.
    let client = HttpClient::builder(&base)
        .bucket(BucketSpec {
            name: "test".into(),
            limit: 1_000_000,
            period: std::time::Duration::from_secs(60),
        })
        .classify(std::sync::Arc::new(|_: &reqwest::Method, _: &str| {
            "test".to_string()
        }))
        .build()
        .unwrap();
    // Concurrent requests on one thread: the case where an entered span leaks into the others.
    let batch = |n: usize| {
        let client = client.clone();
        async move {
            let sends = (0..n).map(|i| client.send(Request::get(&format!("api/items/{i:04}"))));
            for r in futures::future::join_all(sends).await {
                r.unwrap();
            }
        }
    };
    batch(4).await;
    let (few, few_lines) = longest_line(&log.take());
    batch(200).await;
    let (many, many_lines) = longest_line(&log.take());
    assert!(few_lines >= 4 && many_lines >= 200, "requests are logged");
    assert!(
        many <= few + 8,
        "the longest log line grew from {few} to {many} bytes with 50 times the requests"
    );
}
