//! Shared pieces of the butterfly example binaries (`butterfly`, the CLI, and `demo`): exit
//! codes, terminal styling, progress rendering, the provider registry, and the config and
//! clock of the operations commands (retention, schedules, the run journal).
//!
//! ```
//! use examples::{exit, registry};
//! use butterfly_core::{Error, ErrorKind};
//!
//! assert_eq!(exit::for_error(&Error::new(ErrorKind::Integrity, "flipped byte")), exit::INTEGRITY);
//! assert!(registry::kinds("okta").unwrap().len() > 50);
//! assert!(registry::kinds("nope").is_err());
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod operations;
pub mod registry;

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use butterfly_core::backup::{BackupEvent, Observer};
use butterfly_core::{Error, ErrorKind};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Exit codes of the `butterfly` CLI (documented in `--help` and the README).
pub mod exit {
    use super::{Error, ErrorKind};

    /// Everything worked.
    pub const OK: u8 = 0;
    /// The operation failed (a failed backup, a restore with failed steps, a provider error).
    pub const FAILED: u8 = 1;
    /// Bad usage or configuration (missing credentials, bad URL, unknown kind).
    pub const USAGE: u8 = 2;
    /// A backup completed with warnings (some kinds denied or failed), or a diff found changes
    /// at or above `--fail-on`.
    pub const WARNINGS: u8 = 3;
    /// A snapshot or resource does not exist.
    pub const NOT_FOUND: u8 = 4;
    /// Stored data failed its integrity check.
    pub const INTEGRITY: u8 = 5;

    /// The exit code for an error.
    pub fn for_error(err: &Error) -> u8 {
        match err.kind() {
            ErrorKind::Config => USAGE,
            ErrorKind::NotFound => NOT_FOUND,
            ErrorKind::Integrity => INTEGRITY,
            _ => FAILED,
        }
    }
}

/// Terminal styling: colour only when stdout is a terminal and `NO_COLOR` is unset.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Detects whether to use colour.
    pub fn detect() -> Style {
        Style {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// No colour at all.
    pub fn plain() -> Style {
        Style { color: false }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Bold.
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
    /// Green.
    pub fn good(&self, text: &str) -> String {
        self.paint("32", text)
    }
    /// Yellow.
    pub fn warn(&self, text: &str) -> String {
        self.paint("33", text)
    }
    /// Red.
    pub fn bad(&self, text: &str) -> String {
        self.paint("31", text)
    }
}

/// Where backup progress goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProgressOutput {
    /// A live bar on stderr (a terminal).
    Bar,
    /// A line on stderr every `every` (no terminal: cron, CI, a file), as text or, with
    /// `json`, as one JSON object per line (`{"progress": {…}}`).
    Lines {
        /// How often.
        every: Duration,
        /// JSON objects instead of text.
        json: bool,
    },
    /// Nothing.
    Hidden,
}

/// How often a progress line is printed without a terminal, unless `BUTTERFLY_PROGRESS_SECS`
/// says otherwise.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(10);

impl ProgressOutput {
    /// A bar on a terminal; otherwise a line every [`PROGRESS_EVERY`] (or
    /// `BUTTERFLY_PROGRESS_SECS` seconds), as JSON with `json`.
    pub fn detect(json: bool) -> ProgressOutput {
        if !json && std::io::stderr().is_terminal() {
            return ProgressOutput::Bar;
        }
        let every = std::env::var("BUTTERFLY_PROGRESS_SECS")
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(PROGRESS_EVERY);
        ProgressOutput::Lines { every, json }
    }
}

/// Counters behind a progress display.
#[derive(Default)]
struct Counters {
    kinds: AtomicUsize,
    kinds_done: AtomicUsize,
    fetched: AtomicUsize,
    retries: AtomicUsize,
    waited_ms: AtomicU64,
}

impl Counters {
    fn text(&self, elapsed: Duration) -> String {
        format!(
            "{}/{} kinds, {} resources, {} retries, {:.1}s waiting on rate limits, {:.0}s elapsed",
            self.kinds_done.load(Ordering::Relaxed),
            self.kinds.load(Ordering::Relaxed),
            self.fetched.load(Ordering::Relaxed),
            self.retries.load(Ordering::Relaxed),
            self.waited_ms.load(Ordering::Relaxed) as f64 / 1000.0,
            elapsed.as_secs_f64()
        )
    }

    fn json(&self, elapsed: Duration) -> serde_json::Value {
        serde_json::json!({"progress": {
            "kinds": self.kinds.load(Ordering::Relaxed),
            "kinds_done": self.kinds_done.load(Ordering::Relaxed),
            "resources": self.fetched.load(Ordering::Relaxed),
            "retries": self.retries.load(Ordering::Relaxed),
            "rate_limit_wait_ms": self.waited_ms.load(Ordering::Relaxed),
            "elapsed_ms": elapsed.as_millis() as u64,
        }})
    }
}

/// A progress display for backups: kinds done / total, resources fetched, retries and time
/// spent waiting on rate limits (the limiter's pacing included, summed over concurrent
/// requests). A bar on a terminal; elsewhere a line at a steady interval, so a slow backup
/// never looks like a hang.
#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
    counters: Arc<Counters>,
    ticker: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Progress {
    /// A new display. `Lines` needs a Tokio runtime (the lines come from a task).
    pub fn new(output: ProgressOutput) -> Progress {
        let bar = ProgressBar::with_draw_target(
            Some(0),
            if output == ProgressOutput::Bar {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} kinds  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let counters = Arc::new(Counters::default());
        let ticker = match output {
            ProgressOutput::Lines { every, json } => {
                let counters = counters.clone();
                let started = Instant::now();
                Some(tokio::spawn(async move {
                    let mut tick =
                        tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                    loop {
                        tick.tick().await;
                        let line = if json {
                            counters.json(started.elapsed()).to_string()
                        } else {
                            format!("backup: {}", counters.text(started.elapsed()))
                        };
                        let mut err = std::io::stderr().lock();
                        let _ = writeln!(err, "{line}");
                    }
                }))
            }
            _ => None,
        };
        Progress {
            bar,
            counters,
            ticker: Arc::new(Mutex::new(ticker)),
        }
    }

    /// The observer to pass to the backup.
    pub fn observer(&self) -> Observer {
        let p = self.clone();
        Arc::new(move |e: &BackupEvent| p.on(e))
    }

    /// Stops the periodic lines and removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
        if let Some(t) = self.ticker.lock().unwrap_or_else(|p| p.into_inner()).take() {
            t.abort();
        }
    }

    fn on(&self, event: &BackupEvent) {
        let c = &self.counters;
        match event {
            BackupEvent::Started { kinds, .. } => {
                c.kinds.store(*kinds, Ordering::Relaxed);
                self.bar.set_length(*kinds as u64);
            }
            BackupEvent::KindFinished { count, .. } => {
                c.fetched.fetch_add(*count, Ordering::Relaxed);
                c.kinds_done.fetch_add(1, Ordering::Relaxed);
                self.bar.inc(1);
            }
            BackupEvent::Retry { .. } => {
                c.retries.fetch_add(1, Ordering::Relaxed);
            }
            BackupEvent::RateLimitWait { wait_ms, .. } => {
                c.waited_ms.fetch_add(*wait_ms, Ordering::Relaxed);
            }
            BackupEvent::Finished { .. } => self.finish(),
            _ => {}
        }
        if !self.bar.is_hidden() {
            self.bar.set_message(format!(
                "{} resources, {} retries, {:.1}s rate-limit waits",
                c.fetched.load(Ordering::Relaxed),
                c.retries.load(Ordering::Relaxed),
                c.waited_ms.load(Ordering::Relaxed) as f64 / 1000.0
            ));
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // The last clone stops the ticker (a backup that ended in an error sends no Finished).
        if Arc::strong_count(&self.ticker) == 1 {
            self.finish();
        }
    }
}

/// Writes to stdout; a reader that went away (`butterfly show latest | head -1`) ends the
/// process quietly with exit code 0, as a closed pipe should, instead of a panic. Any other
/// write error is reported on stderr and exits with [`exit::FAILED`].
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(i32::from(exit::OK));
        }
        let _ = writeln!(std::io::stderr(), "error: cannot write the output: {e}");
        std::process::exit(i32::from(exit::FAILED));
    }
}

/// `print!` through [`write_stdout`]: no panic on a closed pipe.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!($($arg)*))
    };
}

/// `println!` through [`write_stdout`]: no panic on a closed pipe.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// A progress bar for a restore's writes (hidden off a terminal): steps done / writes
/// planned, with created, updated and failed counts.
pub struct RestoreProgress {
    bar: ProgressBar,
    done: Arc<[AtomicUsize; 3]>,
}

impl RestoreProgress {
    /// A bar for `writes` planned writes.
    pub fn new(enabled: bool, writes: usize) -> RestoreProgress {
        let target = if enabled && std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(writes as u64), target);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} writes  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        RestoreProgress {
            bar,
            done: Arc::default(),
        }
    }

    /// Records one ledger entry.
    pub fn on_step(&self, entry: &butterfly_core::restore::LedgerEntry) {
        use butterfly_core::restore::StepOutcome;
        let slot = match entry.outcome {
            StepOutcome::NotWritten => return,
            StepOutcome::Created => 0,
            StepOutcome::Updated => 1,
            StepOutcome::Failed { .. } | StepOutcome::DependencyFailed { .. } => 2,
            // StepOutcome is non_exhaustive: an outcome added later is not counted here.
            _ => return,
        };
        self.done[slot].fetch_add(1, Ordering::Relaxed);
        self.bar.inc(1);
        self.bar.set_message(format!(
            "{} created, {} updated, {} failed",
            self.done[0].load(Ordering::Relaxed),
            self.done[1].load(Ordering::Relaxed),
            self.done[2].load(Ordering::Relaxed)
        ));
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
