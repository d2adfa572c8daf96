//! A log line's size does not grow with the number of requests: the HTTP span is attached to
//! each request's future, not entered across its awaits (an entered guard held over an await
//! nests every later span of the thread inside it). Alone in its test binary, like
//! `tracing_secrets.rs`: a thread-scoped subscriber races with other tests' callsites.

use std::sync::{Arc, Mutex};

use butterfly_core::http::{HttpClient, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

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

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buf {
    type Writer = Buf;
    fn make_writer(&'a self) -> Buf {
        self.clone()
    }
}

impl Buf {
    /// The longest line written since the last call, and clears the buffer.
    fn take_longest_line(&self) -> (usize, usize) {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        let text = String::from_utf8(bytes).unwrap();
        let lines = text.lines().count();
        (text.lines().map(str::len).max().unwrap_or(0), lines)
    }
}

#[tokio::test]
async fn log_lines_do_not_grow_with_the_number_of_requests() {
    let buf = Buf::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(buf.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let base = serve().await;
    let client = HttpClient::builder(&base).build().unwrap();
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
    let (few, few_lines) = buf.take_longest_line();
    batch(200).await;
    let (many, many_lines) = buf.take_longest_line();
    assert!(few_lines >= 4 && many_lines >= 200, "requests are logged");
    assert!(
        many <= few + 8,
        "the longest log line grew from {few} to {many} bytes with 50 times the requests"
    );
}
