//! Shared pieces of the butterfly example binaries (`butterfly`, the CLI, and `demo`): exit
//! codes, terminal styling, progress rendering, and the provider registry.
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

pub mod registry;

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

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

/// A progress display for backups: kinds done / total, resources fetched, retries and
/// rate-limit waits. Draws only on a terminal (stderr); otherwise it is silent.
#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
    fetched: Arc<AtomicUsize>,
    retries: Arc<AtomicUsize>,
    waited_ms: Arc<AtomicU64>,
}

impl Progress {
    /// A new display; hidden when `enabled` is false or stderr is not a terminal.
    pub fn new(enabled: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(
            Some(0),
            if enabled && std::io::stderr().is_terminal() {
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
        Progress {
            bar,
            fetched: Arc::default(),
            retries: Arc::default(),
            waited_ms: Arc::default(),
        }
    }

    /// The observer to pass to the backup.
    pub fn observer(&self) -> Observer {
        let p = self.clone();
        Arc::new(move |e: &BackupEvent| p.on(e))
    }

    fn on(&self, event: &BackupEvent) {
        match event {
            BackupEvent::Started { kinds, .. } => self.bar.set_length(*kinds as u64),
            BackupEvent::KindFinished { count, .. } => {
                self.fetched.fetch_add(*count, Ordering::Relaxed);
                self.bar.inc(1);
            }
            BackupEvent::Retry { .. } => {
                self.retries.fetch_add(1, Ordering::Relaxed);
            }
            BackupEvent::RateLimitWait { wait_ms, .. } => {
                self.waited_ms.fetch_add(*wait_ms, Ordering::Relaxed);
            }
            BackupEvent::Finished { .. } => self.bar.finish_and_clear(),
            _ => {}
        }
        self.bar.set_message(format!(
            "{} resources, {} retries, {:.1}s rate-limit waits",
            self.fetched.load(Ordering::Relaxed),
            self.retries.load(Ordering::Relaxed),
            self.waited_ms.load(Ordering::Relaxed) as f64 / 1000.0
        ));
    }
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
