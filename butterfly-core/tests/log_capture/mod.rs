//! A tracing writer that keeps what is logged in memory, for tests that read the log. Each
//! such test runs alone in its test binary: tracing caches per callsite whether anyone
//! listens, and a thread-scoped subscriber races with other tests registering the same
//! callsites on other threads.

use std::sync::{Arc, Mutex};

/// The captured log; clones share it.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

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
    /// Installs a plain-text subscriber at `level` for this thread, writing here; the guard
    /// removes it.
    pub fn install(&self, level: tracing::Level) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(self.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// Everything logged so far, and clears it.
    #[allow(dead_code)] // not every test binary takes the log in parts
    pub fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }

    /// Everything logged so far.
    #[allow(dead_code)] // not every test binary reads the log whole
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}
