//! Schedules: when backups run, as a pure policy the host drives.
//!
//! A [`Schedule`] is a [`Frequency`] in an IANA time zone (the maintained `chrono-tz`
//! database). [`Schedule::next_run`] gives the first run strictly after an instant; nothing
//! here sleeps or spawns: a host (the CLI's `butterfly schedule run`, a cron job, a cloud
//! function) asks when, waits, runs the backup and records the result in a [`ScheduleState`].
//!
//! # Frequencies
//! Every frequency names local wall-clock times in the schedule's zone:
//! - hourly: every hour on the hour (`hh:00` local; in Asia/Kolkata that is `hh:30` UTC);
//! - every N hours (1 to 24): at the local hours that are multiples of N, counted from
//!   midnight (N = 6: 00:00, 06:00, 12:00, 18:00). When N does not divide 24 the last gap of
//!   the day is shorter (N = 5: …, 20:00, then 00:00);
//! - daily at a time, weekly on a day at a time;
//! - monthly on a day (1 to 31) at a time. In a month without that day, it runs on the
//!   month's last day (day 31 runs on 30 April and on 28 or 29 February).
//!
//! # Daylight-saving changes
//! Each local time runs once:
//! - a local time that does not exist (skipped when clocks go forward) runs at the first
//!   instant after the gap: daily 02:30 in America/New_York on 8 March 2026 runs at 03:00 EDT
//!   (07:00 UTC). An hourly schedule's skipped hour therefore coincides with the next hour
//!   and runs once;
//! - a local time that occurs twice (when clocks go back) runs once, at its first
//!   occurrence: daily 01:30 in America/New_York on 1 November 2026 runs at 01:30 EDT (05:30
//!   UTC), not again at 01:30 EST. An hourly schedule runs the repeated hour once, so on that
//!   day two runs are two hours apart.
//!
//! # Failures
//! [`ScheduleState`] counts consecutive failures. The third consecutive failure pauses the
//! schedule for 24 hours ([`PAUSE`]) with a warning; while the count stays at three or more,
//! each further failure pauses it again (a tenant that keeps failing is tried once a day).
//! A success resets the count; saving the schedule again ([`save_schedule`]) clears the count
//! and the pause.
//!
//! # Configuration
//! [`ScheduleConfig::from_toml_str`] reads the `[schedule]` table of a config file:
//!
//! ```
//! use butterfly_core::schedule::ScheduleConfig;
//! use chrono::{TimeZone, Utc};
//!
//! let config = ScheduleConfig::from_toml_str(r#"
//!     [schedule]
//!     timezone = "Europe/Berlin"        # for the providers below that name none
//!
//!     [schedule.okta]
//!     frequency = "daily"
//!     at = "02:30"
//!
//!     [schedule.entra]
//!     frequency = "weekly"
//!     day = "sunday"
//!     at = "03:00"
//!     timezone = "America/New_York"
//! "#)?;
//! let okta = &config.schedules["okta"];
//! assert_eq!(okta.describe(), "daily at 02:30 (Europe/Berlin)");
//! // 29 March 2026: Berlin skips 02:00-03:00, so 02:30 runs at 03:00 CEST (01:00 UTC).
//! let after = Utc.with_ymd_and_hms(2026, 3, 28, 12, 0, 0).unwrap();
//! assert_eq!(okta.next_run(after), Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap());
//! # Ok::<(), butterfly_core::Error>(())
//! ```

use std::collections::BTreeMap;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone,
    Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::{RecordName, SnapshotStore};

/// How often a schedule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// Every hour on the hour.
    Hourly,
    /// At the local hours that are multiples of N (1 to 24), from midnight.
    EveryHours(u32),
    /// Every day at a local time.
    Daily {
        /// Local time.
        at: NaiveTime,
    },
    /// Every week on a day at a local time.
    Weekly {
        /// Day of the week.
        day: Weekday,
        /// Local time.
        at: NaiveTime,
    },
    /// Every month on a day (1 to 31; the month's last day when it is shorter) at a local
    /// time.
    Monthly {
        /// Day of the month.
        day: u32,
        /// Local time.
        at: NaiveTime,
    },
}

/// A frequency in a time zone. Build it with [`Schedule::new`] (which checks the ranges) or
/// from configuration ([`ScheduleSpec`], [`ScheduleConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ScheduleSpec", into = "ScheduleSpec")]
pub struct Schedule {
    frequency: Frequency,
    timezone: Tz,
}

impl Schedule {
    /// A schedule; an hour count outside 1 to 24 or a day of the month outside 1 to 31 is a
    /// [`Config`](crate::ErrorKind::Config) error.
    pub fn new(frequency: Frequency, timezone: Tz) -> Result<Schedule> {
        match frequency {
            Frequency::EveryHours(n) if !(1..=24).contains(&n) => {
                return Err(Error::config(format!(
                    "every {n} hours: the number of hours must be 1 to 24"
                )));
            }
            Frequency::Monthly { day, .. } if !(1..=31).contains(&day) => {
                return Err(Error::config(format!(
                    "day {day} of the month: use 1 to 31 (a day past the month's end runs on its last day)"
                )));
            }
            _ => {}
        }
        Ok(Schedule {
            frequency,
            timezone,
        })
    }

    /// The frequency.
    pub fn frequency(&self) -> Frequency {
        self.frequency
    }

    /// The time zone.
    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    /// `"daily at 02:00 (Europe/Berlin)"`.
    pub fn describe(&self) -> String {
        let hm = |t: NaiveTime| t.format("%H:%M").to_string();
        let what = match self.frequency {
            Frequency::Hourly => "hourly".to_string(),
            Frequency::EveryHours(n) => format!("every {n} hours"),
            Frequency::Daily { at } => format!("daily at {}", hm(at)),
            Frequency::Weekly { day, at } => format!("weekly on {} at {}", day_name(day), hm(at)),
            Frequency::Monthly { day, at } => format!("monthly on day {day} at {}", hm(at)),
        };
        format!("{what} ({})", self.timezone.name())
    }

    /// The first run strictly after `after`, following the daylight-saving rules of the
    /// module docs.
    pub fn next_run(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        let local_date = after.with_timezone(&self.timezone).date_naive();
        // From the day before (a slot moved forward by a gap can land on the next day) to
        // two months ahead (a monthly slot is at most 31 days away).
        let mut date = local_date.pred_opt().unwrap_or(local_date);
        for _ in 0..70 {
            for time in self.slots(date) {
                let at = resolve(self.timezone, date.and_time(time));
                if at > after {
                    return at;
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        // Unreachable for valid schedules within chrono's date range; a day later is the
        // safest answer that keeps the host's loop going.
        after + TimeDelta::days(1)
    }

    /// The next `n` runs after `after`.
    pub fn next_runs(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut at = after;
        for _ in 0..n {
            at = self.next_run(at);
            out.push(at);
        }
        out
    }

    /// The local times of a date at which the schedule runs, in order.
    fn slots(&self, date: NaiveDate) -> Vec<NaiveTime> {
        let hour = |h: u32| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN);
        match self.frequency {
            Frequency::Hourly => (0..24).map(hour).collect(),
            Frequency::EveryHours(n) => (0..24).step_by(n.max(1) as usize).map(hour).collect(),
            Frequency::Daily { at } => vec![at],
            Frequency::Weekly { day, at } => {
                if date.weekday() == day {
                    vec![at]
                } else {
                    vec![]
                }
            }
            Frequency::Monthly { day, at } => {
                if date.day() == day.min(days_in_month(date)) {
                    vec![at]
                } else {
                    vec![]
                }
            }
        }
    }
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

fn days_in_month(date: NaiveDate) -> u32 {
    let first = date.with_day(1).unwrap_or(date);
    let next = first.checked_add_months(chrono::Months::new(1));
    match next {
        Some(next) => (next - first).num_days() as u32,
        None => 31,
    }
}

/// The instant of a local time: the only one, the first of two (clocks went back), or the
/// first instant after the gap (clocks went forward).
fn resolve(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Gaps end on a whole minute; the longest on record skipped a whole day
            // (Pacific/Apia, 30 December 2011).
            let mut probe = local.with_second(0).unwrap_or(local);
            for _ in 0..(49 * 60) {
                probe += TimeDelta::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            // No zone has such a gap: read the local time as UTC rather than fail.
            local.and_utc()
        }
    }
}

/// A day of the month (a number) or of the week (a name), as written in configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DaySpec {
    /// A day of the month, 1 to 31.
    Number(i64),
    /// A weekday: `monday` or `mon` (any case).
    Name(String),
}

/// A schedule as written in configuration (and as stored): the [`Schedule`] before its
/// fields are checked.
///
/// | `frequency` | other keys |
/// |---|---|
/// | `"hourly"` | |
/// | `"every_hours"` | `hours` (1 to 24) |
/// | `"daily"` | `at` (`"HH:MM"`, 24-hour) |
/// | `"weekly"` | `day` (`"sunday"`, `"sun"`), `at` |
/// | `"monthly"` | `day` (1 to 31), `at` |
///
/// Every frequency takes `timezone` (an IANA name such as `"America/New_York"`; default
/// UTC, or the `[schedule]` table's `timezone`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// `hourly`, `every_hours`, `daily`, `weekly` or `monthly`.
    pub frequency: String,
    /// Hours between runs, for `every_hours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<i64>,
    /// Local time `HH:MM`, for `daily`, `weekly` and `monthly`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// Weekday for `weekly`, day of the month for `monthly`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<DaySpec>,
    /// IANA time zone name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

impl ScheduleSpec {
    /// Checks the spec and builds the schedule; `default_timezone` applies when the spec
    /// names none. Every mistake is a [`Config`](crate::ErrorKind::Config) error saying
    /// which field is wrong and what is allowed.
    pub fn to_schedule(&self, default_timezone: Tz) -> Result<Schedule> {
        let timezone = match &self.timezone {
            Some(name) => parse_timezone(name)?,
            None => default_timezone,
        };
        let freq = self.frequency.trim().to_ascii_lowercase();
        let unused = |field: &str, present: bool| -> Result<()> {
            if present {
                Err(Error::config(format!(
                    "`{field}` does not apply to a {freq} schedule"
                )))
            } else {
                Ok(())
            }
        };
        let at = || -> Result<NaiveTime> {
            match &self.at {
                Some(at) => parse_time(at),
                None => Err(Error::config(format!(
                    "a {freq} schedule needs `at`, a local time such as \"02:00\""
                ))),
            }
        };
        let frequency = match freq.as_str() {
            "hourly" => {
                unused("at", self.at.is_some())?;
                unused("day", self.day.is_some())?;
                unused("hours", self.hours.is_some())?;
                Frequency::Hourly
            }
            "every_hours" => {
                unused("at", self.at.is_some())?;
                unused("day", self.day.is_some())?;
                let n = self.hours.ok_or_else(|| {
                    Error::config("an every_hours schedule needs `hours`, 1 to 24")
                })?;
                let n = u32::try_from(n)
                    .ok()
                    .filter(|n| (1..=24).contains(n))
                    .ok_or_else(|| {
                        Error::config(format!("hours = {n}: the number of hours must be 1 to 24"))
                    })?;
                Frequency::EveryHours(n)
            }
            "daily" => {
                unused("day", self.day.is_some())?;
                unused("hours", self.hours.is_some())?;
                Frequency::Daily { at: at()? }
            }
            "weekly" => {
                unused("hours", self.hours.is_some())?;
                let day = match &self.day {
                    Some(DaySpec::Name(name)) => parse_weekday(name)?,
                    Some(DaySpec::Number(n)) => {
                        return Err(Error::config(format!(
                            "day = {n}: a weekly schedule's day is a weekday name such as \"sunday\""
                        )));
                    }
                    None => {
                        return Err(Error::config(
                            "a weekly schedule needs `day`, a weekday such as \"sunday\"",
                        ));
                    }
                };
                Frequency::Weekly { day, at: at()? }
            }
            "monthly" => {
                unused("hours", self.hours.is_some())?;
                let day = match &self.day {
                    Some(DaySpec::Number(n)) => u32::try_from(*n)
                        .ok()
                        .filter(|d| (1..=31).contains(d))
                        .ok_or_else(|| {
                            Error::config(format!(
                                "day = {n}: a monthly schedule's day is 1 to 31 (a day past the month's end runs on its last day)"
                            ))
                        })?,
                    Some(DaySpec::Name(name)) => {
                        return Err(Error::config(format!(
                            "day = {name:?}: a monthly schedule's day is a number, 1 to 31"
                        )));
                    }
                    None => {
                        return Err(Error::config(
                            "a monthly schedule needs `day`, 1 to 31",
                        ));
                    }
                };
                Frequency::Monthly { day, at: at()? }
            }
            other => {
                return Err(Error::config(format!(
                    "unknown frequency {other:?}; use hourly, every_hours, daily, weekly or monthly"
                )));
            }
        };
        Schedule::new(frequency, timezone)
    }
}

impl TryFrom<ScheduleSpec> for Schedule {
    type Error = Error;
    fn try_from(spec: ScheduleSpec) -> Result<Schedule> {
        spec.to_schedule(Tz::UTC)
    }
}

impl From<Schedule> for ScheduleSpec {
    fn from(s: Schedule) -> ScheduleSpec {
        let hm = |t: NaiveTime| Some(t.format("%H:%M").to_string());
        let mut spec = ScheduleSpec {
            frequency: String::new(),
            hours: None,
            at: None,
            day: None,
            timezone: Some(s.timezone.name().to_string()),
        };
        match s.frequency {
            Frequency::Hourly => spec.frequency = "hourly".into(),
            Frequency::EveryHours(n) => {
                spec.frequency = "every_hours".into();
                spec.hours = Some(i64::from(n));
            }
            Frequency::Daily { at } => {
                spec.frequency = "daily".into();
                spec.at = hm(at);
            }
            Frequency::Weekly { day, at } => {
                spec.frequency = "weekly".into();
                spec.day = Some(DaySpec::Name(day_name(day).into()));
                spec.at = hm(at);
            }
            Frequency::Monthly { day, at } => {
                spec.frequency = "monthly".into();
                spec.day = Some(DaySpec::Number(i64::from(day)));
                spec.at = hm(at);
            }
        }
        spec
    }
}

/// An IANA time zone by name (`"Europe/Berlin"`, `"UTC"`); anything else is a
/// [`Config`](crate::ErrorKind::Config) error.
pub fn parse_timezone(name: &str) -> Result<Tz> {
    name.trim().parse::<Tz>().map_err(|_| {
        Error::config(format!(
            "unknown time zone {name:?}: use an IANA name such as \"America/New_York\", \"Europe/Berlin\" or \"UTC\""
        ))
    })
}

/// A local time `HH:MM` (24-hour clock).
pub fn parse_time(text: &str) -> Result<NaiveTime> {
    let t = text.trim();
    let ok = t.len() == 5 && t.as_bytes()[2] == b':';
    ok.then(|| NaiveTime::parse_from_str(t, "%H:%M").ok())
        .flatten()
        .ok_or_else(|| {
            Error::config(format!(
                "invalid time {text:?}: use HH:MM on a 24-hour clock, such as \"02:00\" or \"23:30\""
            ))
        })
}

fn parse_weekday(name: &str) -> Result<Weekday> {
    name.trim().parse::<Weekday>().map_err(|_| {
        Error::config(format!(
            "unknown weekday {name:?}: use monday to sunday (or mon to sun)"
        ))
    })
}

/// The `[schedule]` table of a config file: a schedule per provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleConfig {
    /// The zone of schedules that name none (the table's `timezone`, default UTC).
    pub default_timezone: Tz,
    /// Per provider name, its schedule.
    pub schedules: BTreeMap<String, Schedule>,
}

impl ScheduleConfig {
    /// Reads the `[schedule]` table of a TOML config file (other tables are not looked at);
    /// a file without one has no schedules. Errors are [`Config`](crate::ErrorKind::Config)
    /// errors naming the table.
    pub fn from_toml_str(text: &str) -> Result<ScheduleConfig> {
        let doc: toml::Table = toml::from_str(text)
            .map_err(|e| Error::config(format!("invalid TOML: {}", e.message())))?;
        match doc.get("schedule") {
            None => Ok(ScheduleConfig {
                default_timezone: Tz::UTC,
                schedules: BTreeMap::new(),
            }),
            Some(toml::Value::Table(t)) => ScheduleConfig::from_table(t),
            Some(_) => Err(Error::config("`schedule` must be a table ([schedule])")),
        }
    }

    /// Reads a `[schedule]` table: an optional `timezone`, and a sub-table per provider.
    pub fn from_table(table: &toml::Table) -> Result<ScheduleConfig> {
        let default_timezone = match table.get("timezone") {
            None => Tz::UTC,
            Some(toml::Value::String(name)) => parse_timezone(name)
                .map_err(|e| Error::config(format!("[schedule] {}", e.message())))?,
            Some(_) => return Err(Error::config("[schedule] timezone must be a string")),
        };
        let mut schedules = BTreeMap::new();
        for (key, value) in table {
            if key == "timezone" {
                continue;
            }
            let toml::Value::Table(sub) = value else {
                return Err(Error::config(format!(
                    "[schedule] has an unknown key {key:?}: it holds `timezone` and a [schedule.<provider>] table per provider"
                )));
            };
            let at = |e: String| Error::config(format!("[schedule.{key}] {e}"));
            let spec: ScheduleSpec = toml::Value::Table(sub.clone())
                .try_into()
                .map_err(|e: toml::de::Error| at(e.message().to_string()))?;
            let schedule = spec
                .to_schedule(default_timezone)
                .map_err(|e| at(e.message().to_string()))?;
            schedules.insert(key.clone(), schedule);
        }
        Ok(ScheduleConfig {
            default_timezone,
            schedules,
        })
    }
}

/// After this many consecutive failures a schedule pauses.
pub const PAUSE_AFTER_FAILURES: u32 = 3;

/// How long a schedule pauses.
pub const PAUSE: TimeDelta = TimeDelta::hours(24);

/// What a schedule's runs have done: the failure count and the pause.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleState {
    /// Failures since the last success (or the last save of the schedule).
    pub consecutive_failures: u32,
    /// No run before this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_until: Option<DateTime<Utc>>,
    /// The last failure's error (secret-free, as every error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the last run ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<DateTime<Utc>>,
    /// When the last successful run ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<DateTime<Utc>>,
}

/// The warning given when a schedule pauses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paused {
    /// Consecutive failures so far.
    pub failures: u32,
    /// No run before this instant.
    pub until: DateTime<Utc>,
}

impl ScheduleState {
    /// A run succeeded (a run that completed with warnings counts as a success here: it
    /// produced a snapshot). The failure count goes back to zero and any pause ends.
    pub fn record_success(&mut self, at: DateTime<Utc>) {
        self.consecutive_failures = 0;
        self.paused_until = None;
        self.last_error = None;
        self.last_run = Some(at);
        self.last_success = Some(at);
    }

    /// A run failed at `at`. From the third consecutive failure on, the schedule pauses for
    /// [`PAUSE`] and the pause is returned, for the host to warn about.
    pub fn record_failure(
        &mut self,
        at: DateTime<Utc>,
        error: impl Into<String>,
    ) -> Option<Paused> {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.last_error = Some(error.into());
        self.last_run = Some(at);
        if self.consecutive_failures >= PAUSE_AFTER_FAILURES {
            let until = at + PAUSE;
            self.paused_until = Some(until);
            tracing::warn!(
                failures = self.consecutive_failures,
                "schedule paused until {until} after {} consecutive failures",
                self.consecutive_failures
            );
            return Some(Paused {
                failures: self.consecutive_failures,
                until,
            });
        }
        None
    }

    /// Whether the schedule is paused at `now`.
    pub fn is_paused(&self, now: DateTime<Utc>) -> bool {
        self.paused_until.is_some_and(|until| now < until)
    }

    /// The warning to show at `now`, if any: a pause, or failures on the way to one.
    pub fn warning(&self, now: DateTime<Utc>) -> Option<String> {
        let last = self
            .last_error
            .as_deref()
            .map(|e| format!("; last error: {e}"))
            .unwrap_or_default();
        match self.paused_until {
            Some(until) if now < until => Some(format!(
                "paused until {} after {} consecutive failures{last}; save the schedule again to resume now",
                until.format("%Y-%m-%d %H:%M UTC"),
                self.consecutive_failures
            )),
            _ if self.consecutive_failures > 0 => Some(format!(
                "{} consecutive failures (the schedule pauses for 24 hours at {PAUSE_AFTER_FAILURES}){last}",
                self.consecutive_failures
            )),
            _ => None,
        }
    }

    /// The next run strictly after `after` that is not inside a pause.
    pub fn next_due(&self, schedule: &Schedule, after: DateTime<Utc>) -> DateTime<Utc> {
        match self.paused_until {
            // The first slot at or after the pause's end.
            Some(until) if until > after => schedule.next_run(until - TimeDelta::nanoseconds(1)),
            _ => schedule.next_run(after),
        }
    }
}

/// A provider's saved schedule and its state, stored as the record
/// `schedules/<provider>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleRecord {
    /// Provider name.
    pub provider: String,
    /// The schedule.
    pub schedule: Schedule,
    /// When the schedule was last saved.
    pub saved_at: DateTime<Utc>,
    /// Its runs so far (since the last save).
    #[serde(default)]
    pub state: ScheduleState,
}

/// Where schedule records live.
pub const SCHEDULES_PREFIX: &str = "schedules/";

fn record_name(provider: &str) -> Result<RecordName> {
    format!("{SCHEDULES_PREFIX}{provider}.json")
        .parse()
        .map_err(|_| Error::config(format!("{provider:?} is not a provider name")))
}

/// Saves a provider's schedule: a new state, so the failure count and any pause are
/// cleared (how a paused schedule is resumed).
pub async fn save_schedule<S: SnapshotStore + ?Sized>(
    store: &S,
    provider: &str,
    schedule: &Schedule,
    now: DateTime<Utc>,
) -> Result<ScheduleRecord> {
    let record = ScheduleRecord {
        provider: provider.to_string(),
        schedule: *schedule,
        saved_at: now,
        state: ScheduleState::default(),
    };
    put_schedule(store, &record).await?;
    Ok(record)
}

/// Stores a schedule record as it is (after a run updated its state).
pub async fn put_schedule<S: SnapshotStore + ?Sized>(
    store: &S,
    record: &ScheduleRecord,
) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(record)
        .map_err(|e| Error::invalid_data("cannot encode a schedule record").with_source(e))?;
    store
        .put_record(&record_name(&record.provider)?, &bytes)
        .await
}

/// A provider's stored schedule record, if any.
pub async fn load_schedule<S: SnapshotStore + ?Sized>(
    store: &S,
    provider: &str,
) -> Result<Option<ScheduleRecord>> {
    let name = record_name(provider)?;
    match store.get_record(&name).await? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::invalid_data(format!("record {name} is not valid: {e}"))),
    }
}

/// The stored record of a provider if it holds this schedule; otherwise the schedule is
/// saved (a changed schedule starts with a clear state).
pub async fn sync_schedule<S: SnapshotStore + ?Sized>(
    store: &S,
    provider: &str,
    schedule: &Schedule,
    now: DateTime<Utc>,
) -> Result<ScheduleRecord> {
    match load_schedule(store, provider).await? {
        Some(record) if record.schedule == *schedule => Ok(record),
        _ => save_schedule(store, provider, schedule, now).await,
    }
}

/// Every stored schedule record, by provider.
pub async fn list_schedules<S: SnapshotStore + ?Sized>(
    store: &S,
) -> Result<BTreeMap<String, ScheduleRecord>> {
    let mut out = BTreeMap::new();
    for name in store.list_records(SCHEDULES_PREFIX).await? {
        let Some(provider) = name
            .as_str()
            .strip_prefix(SCHEDULES_PREFIX)
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        if let Some(record) = load_schedule(store, provider).await? {
            out.insert(provider.to_string(), record);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::store::MemoryStore;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .with_timezone(&Utc)
    }

    fn t(hm: &str) -> NaiveTime {
        parse_time(hm).unwrap()
    }

    fn tz(name: &str) -> Tz {
        parse_timezone(name).unwrap()
    }

    /// Expected instants worked out by hand from the zones' 2026/2027 rules:
    /// New York EST -5 / EDT -4, switching 8 Mar 2026 02:00 -> 03:00 and 1 Nov 2026
    /// 02:00 -> 01:00 (14 Mar / 7 Nov 2027); Berlin CET +1 / CEST +2, switching 29 Mar 2026
    /// 02:00 -> 03:00 and 25 Oct 2026 03:00 -> 02:00 (28 Mar / 31 Oct 2027); Sydney AEDT +11 /
    /// AEST +10, switching 5 Apr 2026 03:00 -> 02:00 and 4 Oct 2026 02:00 -> 03:00; Kolkata
    /// +5:30 all year; Santiago -3 / -4, switching 5 Apr 2026 00:00 -> 4 Apr 23:00 and
    /// 6 Sep 2026 00:00 -> 01:00 (a gap at midnight).
    #[test]
    fn next_run_table() {
        let cases: Vec<(&str, Frequency, &str, &str, &str)> = vec![
            // (zone, frequency, after, expected, why)
            (
                "America/New_York",
                Frequency::Daily { at: t("02:30") },
                "2026-03-07T12:00:00Z",
                "2026-03-08T07:00:00Z",
                "skipped 02:30 runs at 03:00 EDT",
            ),
            (
                "America/New_York",
                Frequency::Daily { at: t("02:30") },
                "2026-03-08T07:00:00Z",
                "2026-03-09T06:30:00Z",
                "next day 02:30 EDT",
            ),
            (
                "America/New_York",
                Frequency::Daily { at: t("02:30") },
                "2026-03-06T12:00:00Z",
                "2026-03-07T07:30:00Z",
                "day before: 02:30 EST",
            ),
            (
                "America/New_York",
                Frequency::Daily { at: t("01:30") },
                "2026-10-31T12:00:00Z",
                "2026-11-01T05:30:00Z",
                "repeated 01:30: first occurrence, EDT",
            ),
            (
                "America/New_York",
                Frequency::Daily { at: t("01:30") },
                "2026-11-01T05:30:00Z",
                "2026-11-02T06:30:00Z",
                "repeated 01:30 runs once",
            ),
            (
                "America/New_York",
                Frequency::Daily { at: t("01:30") },
                "2026-11-01T06:00:00Z",
                "2026-11-02T06:30:00Z",
                "not at the second 01:30 (06:30Z)",
            ),
            (
                "America/New_York",
                Frequency::Hourly,
                "2026-03-08T06:00:00Z",
                "2026-03-08T07:00:00Z",
                "01:00 EST -> 03:00 EDT, the skipped 02:00 is the same instant",
            ),
            (
                "America/New_York",
                Frequency::Hourly,
                "2026-03-08T07:00:00Z",
                "2026-03-08T08:00:00Z",
                "04:00 EDT",
            ),
            (
                "America/New_York",
                Frequency::Hourly,
                "2026-11-01T05:00:00Z",
                "2026-11-01T07:00:00Z",
                "repeated 01:00 runs once; next 02:00 EST",
            ),
            (
                "America/New_York",
                Frequency::Hourly,
                "2026-11-01T04:59:00Z",
                "2026-11-01T05:00:00Z",
                "01:00 EDT",
            ),
            (
                "America/New_York",
                Frequency::Weekly {
                    day: Weekday::Sun,
                    at: t("02:30"),
                },
                "2027-03-10T00:00:00Z",
                "2027-03-14T07:00:00Z",
                "weekly on the 2027 spring-forward Sunday",
            ),
            (
                "America/New_York",
                Frequency::Weekly {
                    day: Weekday::Sun,
                    at: t("01:15"),
                },
                "2027-11-01T00:00:00Z",
                "2027-11-07T05:15:00Z",
                "weekly on the 2027 fall-back Sunday, first 01:15",
            ),
            (
                "Europe/Berlin",
                Frequency::Daily { at: t("02:30") },
                "2026-03-28T12:00:00Z",
                "2026-03-29T01:00:00Z",
                "skipped 02:30 runs at 03:00 CEST",
            ),
            (
                "Europe/Berlin",
                Frequency::Daily { at: t("02:30") },
                "2026-10-24T12:00:00Z",
                "2026-10-25T00:30:00Z",
                "repeated 02:30: first occurrence, CEST",
            ),
            (
                "Europe/Berlin",
                Frequency::Daily { at: t("02:30") },
                "2026-10-25T00:30:00Z",
                "2026-10-26T01:30:00Z",
                "then 02:30 CET next day",
            ),
            (
                "Europe/Berlin",
                Frequency::EveryHours(6),
                "2026-03-29T00:00:00Z",
                "2026-03-29T04:00:00Z",
                "06:00 CEST",
            ),
            (
                "Europe/Berlin",
                Frequency::EveryHours(6),
                "2026-03-28T22:00:00Z",
                "2026-03-28T23:00:00Z",
                "00:00 CET",
            ),
            (
                "Europe/Berlin",
                Frequency::EveryHours(5),
                "2026-06-01T18:00:00Z",
                "2026-06-01T22:00:00Z",
                "20:00 is followed by 00:00 CEST",
            ),
            (
                "Europe/Berlin",
                Frequency::Weekly {
                    day: Weekday::Sun,
                    at: t("02:30"),
                },
                "2027-10-30T00:00:00Z",
                "2027-10-31T00:30:00Z",
                "2027 fall back, first 02:30",
            ),
            (
                "Europe/Berlin",
                Frequency::Monthly {
                    day: 31,
                    at: t("03:00"),
                },
                "2027-01-15T00:00:00Z",
                "2027-01-31T02:00:00Z",
                "31 January",
            ),
            (
                "Europe/Berlin",
                Frequency::Monthly {
                    day: 31,
                    at: t("03:00"),
                },
                "2027-02-01T00:00:00Z",
                "2027-02-28T02:00:00Z",
                "February: its last day",
            ),
            (
                "Europe/Berlin",
                Frequency::Monthly {
                    day: 31,
                    at: t("03:00"),
                },
                "2027-04-01T00:00:00Z",
                "2027-04-30T01:00:00Z",
                "April: the 30th, CEST",
            ),
            (
                "Europe/Berlin",
                Frequency::Monthly {
                    day: 29,
                    at: t("12:00"),
                },
                "2028-02-01T00:00:00Z",
                "2028-02-29T11:00:00Z",
                "leap year",
            ),
            (
                "Europe/Berlin",
                Frequency::Monthly {
                    day: 28,
                    at: t("02:30"),
                },
                "2027-03-01T00:00:00Z",
                "2027-03-28T01:00:00Z",
                "monthly on the spring-forward day",
            ),
            (
                "Australia/Sydney",
                Frequency::Daily { at: t("02:30") },
                "2026-10-03T00:00:00Z",
                "2026-10-03T16:00:00Z",
                "skipped 02:30 runs at 03:00 AEDT",
            ),
            (
                "Australia/Sydney",
                Frequency::Daily { at: t("02:30") },
                "2026-04-04T00:00:00Z",
                "2026-04-04T15:30:00Z",
                "repeated 02:30: first, AEDT",
            ),
            (
                "Australia/Sydney",
                Frequency::Daily { at: t("02:30") },
                "2026-04-04T15:30:00Z",
                "2026-04-05T16:30:00Z",
                "then 02:30 AEST",
            ),
            (
                "Australia/Sydney",
                Frequency::Monthly {
                    day: 1,
                    at: t("00:00"),
                },
                "2026-12-15T00:00:00Z",
                "2026-12-31T13:00:00Z",
                "1 January 2027 00:00 AEDT",
            ),
            (
                "Asia/Kolkata",
                Frequency::Hourly,
                "2026-06-01T00:10:00Z",
                "2026-06-01T00:30:00Z",
                "06:00 IST",
            ),
            (
                "Asia/Kolkata",
                Frequency::Weekly {
                    day: Weekday::Mon,
                    at: t("09:00"),
                },
                "2026-12-31T00:00:00Z",
                "2027-01-04T03:30:00Z",
                "Monday 4 January 2027",
            ),
            (
                "Asia/Kolkata",
                Frequency::Daily { at: t("23:45") },
                "2026-12-31T18:15:00Z",
                "2027-01-01T18:15:00Z",
                "strictly after: not the same instant",
            ),
            (
                "America/Santiago",
                Frequency::Daily { at: t("00:00") },
                "2026-09-05T12:00:00Z",
                "2026-09-06T04:00:00Z",
                "midnight skipped: 01:00 -03",
            ),
            (
                "America/Santiago",
                Frequency::Daily { at: t("23:30") },
                "2026-04-04T12:00:00Z",
                "2026-04-05T02:30:00Z",
                "repeated 23:30: first, -03",
            ),
            (
                "UTC",
                Frequency::Daily { at: t("02:00") },
                "2026-07-01T02:00:00Z",
                "2026-07-02T02:00:00Z",
                "UTC",
            ),
        ];
        for (zone, frequency, after, expected, why) in cases {
            let schedule = Schedule::new(frequency, tz(zone)).unwrap();
            assert_eq!(
                schedule.next_run(utc(after)),
                utc(expected),
                "{zone} {} after {after}: {why}",
                schedule.describe()
            );
        }
    }

    #[test]
    fn next_runs_are_strictly_increasing_across_a_year() {
        for zone in [
            "America/New_York",
            "Europe/Berlin",
            "Australia/Sydney",
            "Asia/Kolkata",
            "America/Santiago",
        ] {
            for frequency in [
                Frequency::Hourly,
                Frequency::EveryHours(3),
                Frequency::Daily { at: t("02:30") },
                Frequency::Weekly {
                    day: Weekday::Sun,
                    at: t("02:00"),
                },
                Frequency::Monthly {
                    day: 31,
                    at: t("00:00"),
                },
            ] {
                let s = Schedule::new(frequency, tz(zone)).unwrap();
                let runs = s.next_runs(utc("2026-01-01T00:00:00Z"), 400);
                for w in runs.windows(2) {
                    assert!(w[0] < w[1], "{zone} {s}: {} then {}", w[0], w[1]);
                    let gap = w[1] - w[0];
                    let max = match frequency {
                        Frequency::Hourly => TimeDelta::hours(2),
                        Frequency::EveryHours(_) => TimeDelta::hours(4),
                        Frequency::Daily { .. } => TimeDelta::hours(25),
                        Frequency::Weekly { .. } => TimeDelta::hours(24 * 7 + 1),
                        Frequency::Monthly { .. } => TimeDelta::days(32),
                    };
                    assert!(gap <= max, "{zone} {s}: gap {gap} from {}", w[0]);
                }
            }
        }
    }

    #[test]
    fn parse_errors_are_typed_and_say_what_is_wrong() {
        let cases = [
            (
                "[schedule.okta]\nfrequency = \"daily\"\nat = \"02:00\"\ntimezone = \"Mars/Olympus\"\n",
                "unknown time zone",
            ),
            (
                "[schedule.okta]\nfrequency = \"daily\"\nat = \"25:00\"\n",
                "invalid time",
            ),
            (
                "[schedule.okta]\nfrequency = \"daily\"\nat = \"2pm\"\n",
                "invalid time",
            ),
            ("[schedule.okta]\nfrequency = \"daily\"\n", "needs `at`"),
            (
                "[schedule.okta]\nfrequency = \"monthly\"\nday = 0\nat = \"02:00\"\n",
                "day = 0",
            ),
            (
                "[schedule.okta]\nfrequency = \"monthly\"\nday = 32\nat = \"02:00\"\n",
                "day = 32",
            ),
            (
                "[schedule.okta]\nfrequency = \"monthly\"\nday = \"monday\"\nat = \"02:00\"\n",
                "is a number",
            ),
            (
                "[schedule.okta]\nfrequency = \"weekly\"\nday = \"funday\"\nat = \"02:00\"\n",
                "unknown weekday",
            ),
            (
                "[schedule.okta]\nfrequency = \"weekly\"\nday = 3\nat = \"02:00\"\n",
                "weekday name",
            ),
            (
                "[schedule.okta]\nfrequency = \"weekly\"\nat = \"02:00\"\n",
                "needs `day`",
            ),
            (
                "[schedule.okta]\nfrequency = \"every_hours\"\nhours = 0\n",
                "1 to 24",
            ),
            (
                "[schedule.okta]\nfrequency = \"every_hours\"\nhours = 25\n",
                "1 to 24",
            ),
            (
                "[schedule.okta]\nfrequency = \"every_hours\"\n",
                "needs `hours`",
            ),
            (
                "[schedule.okta]\nfrequency = \"hourly\"\nat = \"02:00\"\n",
                "does not apply",
            ),
            (
                "[schedule.okta]\nfrequency = \"fortnightly\"\n",
                "unknown frequency",
            ),
            (
                "[schedule.okta]\nfrequency = \"daily\"\nat = \"02:00\"\ncolour = \"blue\"\n",
                "colour",
            ),
            (
                "[schedule]\ntimezone = \"Nowhere\"\n",
                "[schedule] unknown time zone",
            ),
            ("[schedule]\nokta = 3\n", "unknown key"),
            ("schedule = 3\n", "must be a table"),
            ("[schedule\n", "invalid TOML"),
        ];
        for (text, needle) in cases {
            let err = ScheduleConfig::from_toml_str(text).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{text}");
            assert!(err.to_string().contains(needle), "{text}: {err}");
            if text.contains("[schedule.okta]") {
                assert!(err.to_string().contains("[schedule.okta]"), "{err}");
            }
        }
    }

    #[test]
    fn config_applies_the_default_zone_and_round_trips_through_json() {
        let config = ScheduleConfig::from_toml_str(
            "[okta]\norg_url = \"x\"\n[schedule]\ntimezone = \"Asia/Kolkata\"\n\
             [schedule.okta]\nfrequency = \"every_hours\"\nhours = 6\n\
             [schedule.entra]\nfrequency = \"monthly\"\nday = 31\nat = \"01:00\"\ntimezone = \"UTC\"\n\
             [schedule.auth0]\nfrequency = \"weekly\"\nday = \"Sun\"\nat = \"03:00\"\n",
        )
        .unwrap();
        assert_eq!(config.schedules.len(), 3);
        assert_eq!(
            config.schedules["okta"].describe(),
            "every 6 hours (Asia/Kolkata)"
        );
        assert_eq!(
            config.schedules["entra"].describe(),
            "monthly on day 31 at 01:00 (UTC)"
        );
        assert_eq!(
            config.schedules["auth0"].describe(),
            "weekly on sunday at 03:00 (Asia/Kolkata)"
        );
        for s in config.schedules.values() {
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(
                &serde_json::from_str::<Schedule>(&json).unwrap(),
                s,
                "{json}"
            );
        }
        assert!(
            ScheduleConfig::from_toml_str("[okta]\n")
                .unwrap()
                .schedules
                .is_empty()
        );
        assert!(
            serde_json::from_str::<Schedule>(r#"{"frequency":"monthly","day":0,"at":"01:00"}"#)
                .is_err()
        );
    }

    #[test]
    fn three_failures_pause_for_a_day_and_a_success_or_a_save_clears() {
        let daily = Schedule::new(Frequency::Daily { at: t("02:00") }, Tz::UTC).unwrap();
        let mut state = ScheduleState::default();
        let day = |d: u32| utc(&format!("2026-05-{d:02}T02:05:00Z"));
        assert_eq!(state.record_failure(day(1), "boom 1"), None);
        assert_eq!(state.record_failure(day(2), "boom 2"), None);
        assert!(
            state
                .warning(day(2))
                .unwrap()
                .contains("2 consecutive failures")
        );
        let paused = state.record_failure(day(3), "boom 3").unwrap();
        assert_eq!(paused.failures, 3);
        assert_eq!(paused.until, utc("2026-05-04T02:05:00Z"));
        assert!(state.is_paused(day(3)));
        let warning = state.warning(day(3)).unwrap();
        assert!(
            warning.contains("paused until 2026-05-04 02:05 UTC") && warning.contains("boom 3"),
            "{warning}"
        );
        // The 02:00 slot of 4 May is inside the pause: the next run is 5 May.
        assert_eq!(state.next_due(&daily, day(3)), utc("2026-05-05T02:00:00Z"));
        assert!(!state.is_paused(utc("2026-05-04T02:05:00Z")));
        // A fourth failure pauses again.
        assert!(state.record_failure(day(5), "boom 4").is_some());
        assert_eq!(state.consecutive_failures, 4);
        state.record_success(day(7));
        assert_eq!(state.consecutive_failures, 0);
        assert_eq!(state.paused_until, None);
        assert_eq!(state.warning(day(7)), None);
        assert_eq!(state.next_due(&daily, day(7)), utc("2026-05-08T02:00:00Z"));
        // A pause ending exactly on a slot runs that slot.
        let mut s = ScheduleState {
            paused_until: Some(utc("2026-05-10T02:00:00Z")),
            ..ScheduleState::default()
        };
        assert_eq!(s.next_due(&daily, day(9)), utc("2026-05-10T02:00:00Z"));
        s.record_success(day(10));
        assert!(!s.is_paused(day(10)));
    }

    #[tokio::test]
    async fn saving_again_clears_the_count_and_the_pause() {
        let store = MemoryStore::new();
        let daily =
            Schedule::new(Frequency::Daily { at: t("02:00") }, tz("Europe/Berlin")).unwrap();
        let now = utc("2026-05-01T00:00:00Z");
        let mut record = sync_schedule(&store, "okta", &daily, now).await.unwrap();
        for d in 1..=3 {
            record
                .state
                .record_failure(now + TimeDelta::days(d), "denied");
        }
        put_schedule(&store, &record).await.unwrap();
        // The same schedule again keeps the state...
        let kept = sync_schedule(&store, "okta", &daily, now).await.unwrap();
        assert_eq!(kept.state.consecutive_failures, 3);
        assert!(kept.state.paused_until.is_some());
        // ...saving it clears it, and so does a changed schedule.
        let saved = save_schedule(&store, "okta", &daily, now).await.unwrap();
        assert_eq!(saved.state, ScheduleState::default());
        let loaded = load_schedule(&store, "okta").await.unwrap().unwrap();
        assert_eq!(loaded, saved);
        put_schedule(&store, &kept).await.unwrap();
        let hourly = Schedule::new(Frequency::Hourly, Tz::UTC).unwrap();
        let changed = sync_schedule(&store, "okta", &hourly, now).await.unwrap();
        assert_eq!(changed.state.consecutive_failures, 0);
        assert_eq!(list_schedules(&store).await.unwrap().len(), 1);
        assert!(load_schedule(&store, "entra").await.unwrap().is_none());
        assert!(load_schedule(&store, "../x").await.is_err());
    }
}
