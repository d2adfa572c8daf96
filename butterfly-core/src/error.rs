//! The one error type of butterfly.
//!
//! Every failure is an [`Error`] with an [`ErrorKind`] that says what kind of failure it is,
//! an [`ErrorStatus`] that says whether retrying can help, a message, and a chain of context
//! lines that say where it happened. Neither `Display` nor `Debug` ever contains a secret: messages are
//! built from our own words, status codes and provider error codes, never from credentials,
//! and provider bodies are only quoted after [`scrub`] has removed anything that looks like
//! a credential.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A specialised `Result` whose error is butterfly's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The credentials were rejected or could not be turned into a token (HTTP 401).
    Auth,
    /// The credentials are valid but lack a scope or role (HTTP 403).
    Denied,
    /// The resource, snapshot or endpoint does not exist (HTTP 404).
    NotFound,
    /// The provider's rate limit was hit (HTTP 429). Temporary; once the HTTP stack's retry
    /// budget is spent the error is [`Persistent`](ErrorStatus::Persistent).
    RateLimited,
    /// A failure that may pass on its own: 5xx, connection reset, timeout.
    Transient,
    /// Data we received or read does not have the shape we expect (malformed or truncated JSON).
    InvalidData,
    /// Stored data does not match its hash: corruption or tampering.
    Integrity,
    /// A configuration value is missing or wrong.
    Config,
    /// The operation conflicts with the current state (HTTP 409, a stale restore plan).
    Conflict,
    /// A local I/O failure (filesystem).
    Io,
    /// The tenant does not have the feature (not enabled or not licensed).
    Unsupported,
}

impl ErrorKind {
    /// The status a new error of this kind starts with: [`Temporary`](ErrorStatus::Temporary)
    /// for [`RateLimited`](ErrorKind::RateLimited) and [`Transient`](ErrorKind::Transient),
    /// [`Permanent`](ErrorStatus::Permanent) for every other kind.
    pub fn default_status(self) -> ErrorStatus {
        match self {
            ErrorKind::RateLimited | ErrorKind::Transient => ErrorStatus::Temporary,
            _ => ErrorStatus::Permanent,
        }
    }

    /// Whether a new error of this kind may succeed if tried again (its
    /// [`default_status`](Self::default_status) is temporary). An [`Error`] whose retries are
    /// spent is not retryable whatever its kind: ask [`Error::is_retryable`].
    pub fn is_retryable(self) -> bool {
        self.default_status().is_retryable()
    }

    /// A short stable name (`"rate_limited"`), as used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::Denied => "denied",
            ErrorKind::NotFound => "not_found",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Transient => "transient",
            ErrorKind::InvalidData => "invalid_data",
            ErrorKind::Integrity => "integrity",
            ErrorKind::Config => "config",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Io => "io",
            ErrorKind::Unsupported => "unsupported",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether trying an operation again can help, as opendal has it: a rate limit hit once is
/// [`Temporary`](ErrorStatus::Temporary), the same rate limit still hit when the retry budget
/// is spent is [`Persistent`](ErrorStatus::Persistent), and neither a missing scope nor a
/// tampered blob will ever pass on a retry ([`Permanent`](ErrorStatus::Permanent)).
///
/// ```
/// use butterfly_core::error::ErrorStatus;
/// use butterfly_core::{Error, ErrorKind};
///
/// let err = Error::new(ErrorKind::RateLimited, "HTTP 429 on /api/v1/users");
/// assert_eq!(err.error_status(), ErrorStatus::Temporary);
/// assert!(err.is_retryable());
///
/// // What a retry loop returns when it gives up.
/// let spent = err.set_persistent().context("GET /api/v1/users after 5 attempts");
/// assert_eq!(spent.error_status(), ErrorStatus::Persistent);
/// assert!(!spent.is_retryable());
/// assert_eq!(spent.kind(), ErrorKind::RateLimited);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorStatus {
    /// Trying again will not help until something else changes (credentials, scopes,
    /// configuration, data).
    Permanent,
    /// Trying again may help: a rate limit, a 5xx, a reset connection, a timeout.
    Temporary,
    /// Was temporary, but the retries allowed for it are spent: stop retrying and report it.
    Persistent,
}

impl ErrorStatus {
    /// Whether trying again may help: true only for [`Temporary`](ErrorStatus::Temporary).
    pub fn is_retryable(self) -> bool {
        self == ErrorStatus::Temporary
    }

    /// A short stable name (`"persistent"`), as used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorStatus::Permanent => "permanent",
            ErrorStatus::Temporary => "temporary",
            ErrorStatus::Persistent => "persistent",
        }
    }
}

impl fmt::Display for ErrorStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// butterfly's error: a kind, a retry status, a message, context lines and an optional source.
///
/// ```
/// use butterfly_core::{Error, ErrorKind};
///
/// let err = Error::new(ErrorKind::NotFound, "snapshot 20260101T000000Z-okta does not exist")
///     .context("loading the base snapshot for diff");
/// assert_eq!(err.kind(), ErrorKind::NotFound);
/// assert!(err.to_string().contains("loading the base snapshot"));
/// ```
pub struct Error {
    kind: ErrorKind,
    error_status: ErrorStatus,
    message: String,
    context: Vec<String>,
    status: Option<u16>,
    retry_after: Option<Duration>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// A new error of `kind` with a message, with the kind's
    /// [`default_status`](ErrorKind::default_status). The message must not contain secrets.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            error_status: kind.default_status(),
            message: message.into(),
            context: Vec::new(),
            status: None,
            retry_after: None,
            source: None,
        }
    }

    /// Adds a line of context saying what was being done (outermost last).
    #[must_use]
    pub fn context(mut self, context: impl Into<String>) -> Self {
        self.context.push(context.into());
        self
    }

    /// Attaches the underlying error. Its `Display` is shown after [`scrub`]bing.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Records the HTTP status code that caused the error.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Records how long the provider asked us to wait before trying again.
    #[must_use]
    pub fn with_retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    /// Records that the retries for this error are spent: a
    /// [`Temporary`](ErrorStatus::Temporary) error becomes
    /// [`Persistent`](ErrorStatus::Persistent) and is no longer retryable. A permanent error
    /// stays permanent (it was never worth retrying), so a retry loop can call this on
    /// whatever error it gives up with.
    #[must_use]
    pub fn set_persistent(mut self) -> Self {
        if self.error_status == ErrorStatus::Temporary {
            self.error_status = ErrorStatus::Persistent;
        }
        self
    }

    /// Sets the retry status, for the rare error whose kind's
    /// [`default_status`](ErrorKind::default_status) is wrong for it.
    #[must_use]
    pub fn with_error_status(mut self, status: ErrorStatus) -> Self {
        self.error_status = status;
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether trying again can help: [`Temporary`](ErrorStatus::Temporary) until a retry
    /// loop gives up on it ([`set_persistent`](Self::set_persistent)). Named apart from
    /// [`status`](Self::status), which is the HTTP status code.
    pub fn error_status(&self) -> ErrorStatus {
        self.error_status
    }

    /// The message, without context.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The context lines, innermost first.
    pub fn contexts(&self) -> &[String] {
        &self.context
    }

    /// The HTTP status code, when the error came from an HTTP response.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// How long the provider asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Whether trying again may help: only while the [`error_status`](Self::error_status) is
    /// [`Temporary`](ErrorStatus::Temporary). A rate limit whose retry budget is spent is not
    /// retryable.
    pub fn is_retryable(&self) -> bool {
        self.error_status.is_retryable()
    }

    /// Shorthand for [`ErrorKind::Config`].
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, message)
    }

    /// Shorthand for [`ErrorKind::InvalidData`].
    pub fn invalid_data(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidData, message)
    }

    /// Shorthand for [`ErrorKind::Integrity`].
    pub fn integrity(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Integrity, message)
    }

    /// Shorthand for [`ErrorKind::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::NotFound, message)
    }

    /// Shorthand for [`ErrorKind::Io`] with the `std::io::Error` as source.
    pub fn io(context: impl Into<String>, err: std::io::Error) -> Self {
        let kind = if err.kind() == std::io::ErrorKind::NotFound {
            ErrorKind::NotFound
        } else {
            ErrorKind::Io
        };
        Error::new(kind, context).with_source(err)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, scrub(&self.message))?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        if let Some(source) = &self.source {
            write!(f, ": {}", scrub(&source.to_string()))?;
        }
        for ctx in &self.context {
            write!(f, "; while {}", scrub(ctx))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug is as safe as Display: the source's own Debug may carry request headers.
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("error_status", &self.error_status)
            .field("message", &scrub(&self.message))
            .field("status", &self.status)
            .field("retry_after", &self.retry_after)
            .field(
                "context",
                &self.context.iter().map(|c| scrub(c)).collect::<Vec<_>>(),
            )
            .field(
                "source",
                &self.source.as_ref().map(|s| scrub(&s.to_string())),
            )
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::io("I/O error", err)
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::new(ErrorKind::InvalidData, "malformed JSON").with_source(err)
    }
}

/// Removes anything that looks like a credential from a text before it is shown:
/// `Authorization`-style values (`Bearer …`, `SSWS …`, `Basic …`), JWTs, and the values of
/// query parameters and JSON fields whose names say secret, password, token or key.
///
/// ```
/// let text = r#"token request failed: {"client_secret":"s3cr3t","error":"invalid_client"}"#;
/// let clean = butterfly_core::error::scrub(text);
/// assert!(!clean.contains("s3cr3t"));
/// assert!(clean.contains("invalid_client"));
/// ```
pub fn scrub(text: &str) -> String {
    const SENSITIVE: [&str; 8] = [
        "secret",
        "password",
        "token",
        "assertion",
        "private",
        "apikey",
        "api_key",
        "authorization",
    ];
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        // Authorization schemes: keep the scheme, drop the credential.
        if let Some(scheme) = ["Bearer ", "SSWS ", "Basic ", "DPoP "]
            .iter()
            .find(|s| rest.starts_with(**s))
        {
            out.push_str(scheme);
            out.push_str("[redacted]");
            i += scheme.len();
            while i < text.len() && !is_value_end(bytes[i]) {
                i += 1;
            }
            continue;
        }
        // JWTs: three base64url segments starting with eyJ.
        if rest.starts_with("eyJ") && looks_like_jwt(rest) {
            out.push_str("[redacted-jwt]");
            while i < text.len() && !is_value_end(bytes[i]) {
                i += 1;
            }
            continue;
        }
        // name=value or "name":"value" where the name is sensitive.
        let c = bytes[i];
        if c == b'=' || c == b':' {
            let name = trailing_name(&out).to_string();
            if SENSITIVE
                .iter()
                .any(|s| name.to_ascii_lowercase().contains(s))
                && !names_a_path(&out, &name, c)
            {
                out.push(c as char);
                i += 1;
                // skip whitespace and one opening quote
                while i < text.len() && bytes[i] == b' ' {
                    out.push(' ');
                    i += 1;
                }
                let quoted = i < text.len() && bytes[i] == b'"';
                if quoted {
                    out.push('"');
                    i += 1;
                    let start = i;
                    while i < text.len() && bytes[i] != b'"' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i = i.min(text.len());
                    if i > start {
                        out.push_str("[redacted]");
                    }
                } else if i < text.len() && !matches!(bytes[i], b'{' | b'[' | b'n') {
                    let start = i;
                    // An Authorization value is "scheme credential": take the whole line.
                    let whole_line = name.to_ascii_lowercase().contains("authorization");
                    while i < text.len()
                        && !(if whole_line {
                            matches!(bytes[i], b'\n' | b'\r' | b'"' | b',' | b';')
                        } else {
                            is_value_end(bytes[i])
                        })
                    {
                        i += 1;
                    }
                    if i > start {
                        out.push_str("[redacted]");
                    }
                }
                continue;
            }
        }
        let ch = rest.chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

fn is_value_end(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'&' | b'"' | b',' | b'}' | b']' | b'\n' | b'\r' | b'\t' | b';' | b'\''
    )
}

fn looks_like_jwt(s: &str) -> bool {
    let token: &str = s
        .split(|c: char| is_value_end(c as u8) && c.is_ascii())
        .next()
        .unwrap_or("");
    token.split('.').count() == 3 && token.len() > 20
}

/// Whether `name`, just before separator `sep` at the end of `out`, is a file rather than a
/// field: a setting that names a file (`OKTA_PRIVATE_KEY_FILE`), or, before a `:`, a file name
/// or path (`/keys/okta-private.pem: No such file or directory`). Its value is a path or an
/// I/O error, not a credential.
fn names_a_path(out: &str, name: &str, sep: u8) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with("_file") || lower.ends_with("-file") {
        return true;
    }
    if sep != b':' {
        return false;
    }
    let before = out
        .strip_suffix('"')
        .unwrap_or(out)
        .strip_suffix(name)
        .and_then(|b| b.chars().last());
    name.contains('.') || matches!(before, Some('/' | '\\'))
}

/// The identifier just before a `=` or `:` in `out` (skipping one closing quote).
fn trailing_name(out: &str) -> &str {
    let trimmed = out.strip_suffix('"').unwrap_or(out);
    let start = trimmed
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .map(|p| p + 1)
        .unwrap_or(0);
    &trimmed[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_credentials_in_every_shape() {
        let cases = [
            "Authorization: SSWS 00abcdefSECRET",
            "header Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlU0VDUkVU",
            "client_secret=SECRETvalue&grant_type=client_credentials",
            r#"{"client_secret": "SECRETvalue", "ok": 1}"#,
            r#"{"password":"SECRETvalue"}"#,
            "api_token=SECRETvalue",
            "client_assertion=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.SECRETsig",
        ];
        for case in cases {
            let clean = scrub(case);
            assert!(!clean.contains("SECRET"), "{case} -> {clean}");
        }
        assert_eq!(scrub("plain words: 42 users"), "plain words: 42 users");
        // File names and settings that name files are not credentials: an I/O error about
        // them stays readable.
        for readable in [
            "cannot read OKTA_PRIVATE_KEY_FILE /etc/butterfly/okta-private.pem: No such file or directory (os error 2)",
            "cannot read /keys/private: Permission denied (os error 13)",
            "OKTA_PRIVATE_KEY_FILE: not set",
        ] {
            assert_eq!(scrub(readable), readable);
        }
        // A field that merely ends like a path is still a field.
        assert!(!scrub("private_key: SECRETpem").contains("SECRET"));
        assert_eq!(
            scrub("grant_type=client_credentials"),
            "grant_type=client_credentials"
        );
    }

    #[test]
    fn display_and_debug_never_show_a_secret() {
        let err = Error::new(
            ErrorKind::Auth,
            "token request failed: client_secret=SECRETx",
        )
        .with_status(401)
        .context("Authorization: Bearer SECRETtoken");
        assert!(!err.to_string().contains("SECRET"), "{err}");
        assert!(!format!("{err:?}").contains("SECRET"), "{err:?}");
        assert!(err.to_string().contains("HTTP 401"));
    }

    #[test]
    fn retryable_kinds() {
        assert!(ErrorKind::RateLimited.is_retryable());
        assert!(ErrorKind::Transient.is_retryable());
        assert!(!ErrorKind::Denied.is_retryable());
        assert!(!ErrorKind::Integrity.is_retryable());
    }

    const ALL_KINDS: [ErrorKind; 11] = [
        ErrorKind::Auth,
        ErrorKind::Denied,
        ErrorKind::NotFound,
        ErrorKind::RateLimited,
        ErrorKind::Transient,
        ErrorKind::InvalidData,
        ErrorKind::Integrity,
        ErrorKind::Config,
        ErrorKind::Conflict,
        ErrorKind::Io,
        ErrorKind::Unsupported,
    ];

    #[test]
    fn new_errors_take_their_kinds_default_status() {
        for kind in ALL_KINDS {
            let expected = match kind {
                ErrorKind::RateLimited | ErrorKind::Transient => ErrorStatus::Temporary,
                _ => ErrorStatus::Permanent,
            };
            assert_eq!(kind.default_status(), expected, "{kind}");
            let err = Error::new(kind, "x");
            assert_eq!(err.error_status(), expected, "{kind}");
            assert_eq!(
                err.is_retryable(),
                expected == ErrorStatus::Temporary,
                "{kind}"
            );
            assert_eq!(kind.is_retryable(), err.is_retryable(), "{kind}");
        }
        // The shorthands and conversions go through `new`.
        assert_eq!(Error::config("x").error_status(), ErrorStatus::Permanent);
        let io = Error::from(std::io::Error::other("disk"));
        assert_eq!(io.error_status(), ErrorStatus::Permanent);
    }

    #[test]
    fn a_spent_retry_budget_is_persistent_not_retryable() {
        let spent = Error::new(ErrorKind::RateLimited, "HTTP 429")
            .with_status(429)
            .with_retry_after(Duration::from_secs(60))
            .set_persistent()
            .context("GET /api/v1/users after 5 attempts");
        assert_eq!(spent.error_status(), ErrorStatus::Persistent);
        assert!(!spent.is_retryable());
        // Everything else is kept: the kind still says what failed.
        assert_eq!(spent.kind(), ErrorKind::RateLimited);
        assert_eq!(spent.status(), Some(429));
        assert_eq!(spent.retry_after(), Some(Duration::from_secs(60)));
        // Idempotent.
        assert_eq!(
            spent.set_persistent().error_status(),
            ErrorStatus::Persistent
        );
        let transient = Error::new(ErrorKind::Transient, "HTTP 503").set_persistent();
        assert_eq!(transient.error_status(), ErrorStatus::Persistent);
    }

    #[test]
    fn a_permanent_error_stays_permanent_when_a_retry_loop_gives_up() {
        for kind in [ErrorKind::Denied, ErrorKind::NotFound, ErrorKind::Auth] {
            let err = Error::new(kind, "x").set_persistent();
            assert_eq!(err.error_status(), ErrorStatus::Permanent, "{kind}");
            assert!(!err.is_retryable());
        }
    }

    #[test]
    fn the_status_can_be_set_explicitly() {
        let err = Error::new(
            ErrorKind::Conflict,
            "HTTP 409 while another change is applied",
        )
        .with_error_status(ErrorStatus::Temporary);
        assert!(err.is_retryable());
        assert_eq!(err.kind(), ErrorKind::Conflict);
        let err = Error::new(ErrorKind::Transient, "x").with_error_status(ErrorStatus::Permanent);
        assert!(!err.is_retryable());
        assert_eq!(err.set_persistent().error_status(), ErrorStatus::Permanent);
    }

    #[test]
    fn status_names_in_json_and_text() {
        for (status, name) in [
            (ErrorStatus::Permanent, "permanent"),
            (ErrorStatus::Temporary, "temporary"),
            (ErrorStatus::Persistent, "persistent"),
        ] {
            assert_eq!(status.to_string(), name);
            assert_eq!(status.as_str(), name);
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, serde_json::json!(name));
            assert_eq!(serde_json::from_value::<ErrorStatus>(json).unwrap(), status);
        }
        assert!(ErrorStatus::Temporary.is_retryable());
        assert!(!ErrorStatus::Persistent.is_retryable());
        assert!(!ErrorStatus::Permanent.is_retryable());
    }

    #[test]
    fn display_is_unchanged_and_debug_shows_the_status() {
        let err = Error::new(ErrorKind::RateLimited, "HTTP 429").set_persistent();
        assert_eq!(err.to_string(), "rate_limited: HTTP 429");
        assert!(format!("{err:?}").contains("Persistent"), "{err:?}");
    }
}
