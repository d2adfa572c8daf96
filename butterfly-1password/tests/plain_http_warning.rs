//! The plain-http opt-in is said loudly, once per provider built, and only when it matters.
//! Alone in its test binary: tracing caches per callsite whether anyone listens, and a
//! thread-scoped subscriber races with other tests registering the same callsites.

use std::sync::{Arc, Mutex};

use butterfly_1password::{OnePasswordConfig, OnePasswordProvider};
use secrecy::SecretString;

#[derive(Clone, Default)]
struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> LogCapture {
        self.clone()
    }
}

impl LogCapture {
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

#[test]
fn the_opt_in_is_warned_about_once_and_only_for_a_remote_host() {
    let log = LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(log.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let config = |host: &str| OnePasswordConfig {
        allow_http: true,
        ..OnePasswordConfig::new(host, SecretString::from("SECRET-TOKEN-VALUE".to_string()))
    };
    OnePasswordProvider::new(config("http://connect.example.invalid:8080")).unwrap();
    let text = log.take();
    assert_eq!(text.matches("WARN").count(), 1, "{text}");
    assert!(
        text.contains("plain http") && text.contains("OP_CONNECT_ALLOW_HTTP"),
        "{text}"
    );
    assert!(text.contains("connect.example.invalid"), "{text}");
    assert!(!text.contains("SECRET-TOKEN-VALUE"));
    for quiet in ["https://connect.example.invalid", "http://127.0.0.1:8080"] {
        OnePasswordProvider::new(config(quiet)).unwrap();
        let text = log.take();
        assert!(!text.contains("WARN"), "{quiet}: {text}");
    }
}
