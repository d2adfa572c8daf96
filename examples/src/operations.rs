//! What the operations commands of the CLI share: the config file's `[schedule]` and
//! `[notify]` tables beside the provider tables, the notifier, the current time (which
//! `BUTTERFLY_NOW` can fix, for tests and what-if questions) and date arguments.
//!
//! ```toml
//! [okta]
//! org_url = "https://acme.okta.com"
//!
//! [schedule]
//! timezone = "America/New_York"   # for the schedules below that name none (default UTC)
//!
//! [schedule.okta]
//! frequency = "daily"             # hourly, every_hours (with hours = N), daily, weekly, monthly
//! at = "02:00"
//!
//! [notify]
//! webhook = "https://hooks.example.com/services/..."   # or BUTTERFLY_WEBHOOK_URL
//! ```

use std::path::Path;

use butterfly_core::journal::{Notifier, WebhookNotifier};
use butterfly_core::schedule::ScheduleConfig;
use butterfly_core::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};

use crate::registry::{self, ConfigFile};

/// The variable that fixes the current time of `schedule next`, `status` and `prune` (an
/// RFC 3339 instant such as `2026-03-28T12:00:00Z`): tests and "what if" questions.
pub const NOW_ENV: &str = "BUTTERFLY_NOW";

/// The variable holding a webhook URL for notifications; it overrides `[notify] webhook`.
pub const WEBHOOK_ENV: &str = "BUTTERFLY_WEBHOOK_URL";

/// A config file: the provider tables, the schedules and the notification settings.
#[derive(Debug, Default)]
pub struct OperationsConfig {
    /// The provider tables.
    pub providers: ConfigFile,
    /// The `[schedule]` table (empty without one).
    pub schedules: Option<ScheduleConfig>,
    /// `[notify] webhook`.
    webhook: Option<String>,
}

impl OperationsConfig {
    /// Reads a config file; a bad file, table or key is a `Config` error naming the file.
    pub fn load(path: &Path) -> Result<OperationsConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!("cannot read config file {}: {e}", path.display()))
        })?;
        OperationsConfig::parse(&text).map_err(|e| {
            Error::config(format!(
                "config file {} is not valid: {}",
                path.display(),
                e.message()
            ))
        })
    }

    /// Parses config text: `[schedule]` and `[notify]` here, the rest by
    /// [`ConfigFile::parse`]. A schedule for an unknown provider is refused.
    pub fn parse(text: &str) -> Result<OperationsConfig> {
        let mut doc: toml::Table = toml::from_str(text)
            .map_err(|e| Error::config(format!("invalid TOML: {}", e.message())))?;
        let schedules = match doc.remove("schedule") {
            None => None,
            Some(toml::Value::Table(t)) => Some(ScheduleConfig::from_table(&t)?),
            Some(_) => return Err(Error::config("`schedule` must be a table ([schedule])")),
        };
        for provider in schedules.iter().flat_map(|s| s.schedules.keys()) {
            registry::entry(provider).map_err(|_| {
                Error::config(format!(
                    "[schedule.{provider}]: unknown provider; known: {}",
                    registry::names().join(", ")
                ))
            })?;
        }
        let webhook = match doc.remove("notify") {
            None => None,
            Some(toml::Value::Table(t)) => {
                let mut webhook = None;
                for (key, value) in t {
                    match (key.as_str(), value) {
                        ("webhook", toml::Value::String(url)) => webhook = Some(url),
                        ("webhook", _) => {
                            return Err(Error::config("[notify] webhook must be a string"));
                        }
                        (other, _) => {
                            return Err(Error::config(format!(
                                "unknown key {other:?} in [notify]; known keys: webhook"
                            )));
                        }
                    }
                }
                webhook
            }
            Some(_) => return Err(Error::config("`notify` must be a table ([notify])")),
        };
        let rest = toml::to_string(&doc)
            .map_err(|e| Error::config(format!("cannot read the provider tables: {e}")))?;
        let providers = ConfigFile::parse(&rest).map_err(Error::config)?;
        Ok(OperationsConfig {
            providers,
            schedules,
            webhook,
        })
    }

    /// The notifier: `BUTTERFLY_WEBHOOK_URL`, else `[notify] webhook`, else none. A URL that
    /// is neither https nor loopback http is a `Config` error.
    pub fn notifier(config: Option<&OperationsConfig>) -> Result<Option<Box<dyn Notifier>>> {
        let url = std::env::var(WEBHOOK_ENV)
            .ok()
            .filter(|u| !u.trim().is_empty())
            .or_else(|| config.and_then(|c| c.webhook.clone()));
        url.map(|u| {
            WebhookNotifier::new(&u)
                .map(|n| Box::new(n) as Box<dyn Notifier>)
                .map_err(|e| e.context("the notification webhook"))
        })
        .transpose()
    }
}

/// The current time, or `BUTTERFLY_NOW` when set (a bad value is a `Config` error).
pub fn now() -> Result<DateTime<Utc>> {
    match std::env::var(NOW_ENV) {
        Ok(text) if !text.trim().is_empty() => parse_instant(&text).map_err(|_| {
            Error::config(format!(
                "{NOW_ENV}={text:?} is not an RFC 3339 instant such as 2026-03-28T12:00:00Z"
            ))
        }),
        _ => Ok(Utc::now()),
    }
}

fn parse_instant(text: &str) -> std::result::Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(text.trim()).map(|t| t.with_timezone(&Utc))
}

/// A date argument: an RFC 3339 instant, or a date `YYYY-MM-DD` in UTC, read as the start of
/// the day, or with `end_of_day` as its last millisecond (`--until 2026-05-02` includes the
/// whole day).
///
/// ```
/// use examples::operations::parse_date;
/// assert_eq!(parse_date("2026-05-02", false)?.to_rfc3339(), "2026-05-02T00:00:00+00:00");
/// assert_eq!(parse_date("2026-05-02", true)?.to_rfc3339(), "2026-05-02T23:59:59.999+00:00");
/// assert!(parse_date("yesterday", false).is_err());
/// # Ok::<(), butterfly_core::Error>(())
/// ```
pub fn parse_date(text: &str, end_of_day: bool) -> Result<DateTime<Utc>> {
    if let Ok(t) = parse_instant(text) {
        return Ok(t);
    }
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        Error::config(format!(
            "invalid date {text:?}: use YYYY-MM-DD or an RFC 3339 instant such as 2026-05-02T10:00:00Z"
        ))
    })?;
    let time = if end_of_day {
        chrono::NaiveTime::from_hms_milli_opt(23, 59, 59, 999)
    } else {
        chrono::NaiveTime::from_hms_opt(0, 0, 0)
    };
    Ok(date.and_time(time.unwrap_or_default()).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_and_notify_tables_sit_beside_provider_tables() {
        let c = OperationsConfig::parse(
            "[okta]\norg_url = \"https://acme.okta.com\"\n\
             [schedule.okta]\nfrequency = \"hourly\"\n\
             [notify]\nwebhook = \"https://hooks.example.com/x\"\n",
        )
        .unwrap();
        assert_eq!(c.schedules.unwrap().schedules.len(), 1);
        assert_eq!(c.webhook.as_deref(), Some("https://hooks.example.com/x"));
        assert!(
            c.providers
                .settings("okta")
                .names()
                .any(|n| n == "OKTA_ORG_URL")
        );
        for (bad, needle) in [
            (
                "[schedule.nope]\nfrequency = \"hourly\"\n",
                "unknown provider",
            ),
            ("[notify]\nemail = \"a@b\"\n", "unknown key \"email\""),
            ("[nope]\n", "unknown table"),
            (
                "[schedule.okta]\nfrequency = \"daily\"\nat = \"7\"\n",
                "invalid time",
            ),
        ] {
            let err = OperationsConfig::parse(bad).unwrap_err();
            assert!(err.to_string().contains(needle), "{bad}: {err}");
        }
    }
}
