//! Configuration, the service account's session and the one HTTP error mapping of the
//! Workflows provider.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use butterfly_core::http::{self, AuthHook, TokenCache};
use butterfly_core::{Error, ErrorKind, Result};
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::routes;

/// The setting holding the Workflows org URL (the CLI's `--base-url` fills it in).
pub const ORG_URL_VAR: &str = "WORKFLOWS_ORG_URL";
/// The setting holding the service account's username.
pub const USERNAME_VAR: &str = "WORKFLOWS_USERNAME";
/// The setting holding the service account's password.
pub const PASSWORD_VAR: &str = "WORKFLOWS_PASSWORD";
/// For a fake org whose clock runs that many times faster.
pub const RATE_SCALE_VAR: &str = "WORKFLOWS_RATE_SCALE";

/// Settings of a Workflows provider: the org and a service account that signs in with a
/// password (Workflow Administrator role, a sign-on rule that skips MFA for it).
///
/// `Debug` never shows the password.
#[derive(Clone, Deserialize)]
pub struct WorkflowsConfig {
    /// The Workflows org URL (`https://acme.workflows.okta.com`); plain `http` only to this
    /// machine (a fake org).
    pub org_url: String,
    /// The service account's username (`workflows-backup@acme.com`).
    pub username: String,
    /// The service account's password.
    pub password: SecretString,
    /// Share of the client's request budget to use (default 0.5).
    #[serde(default)]
    pub max_share: Option<f64>,
    /// For a fake org whose clock runs that many times faster.
    #[serde(default)]
    pub rate_scale: Option<f64>,
}

impl fmt::Debug for WorkflowsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowsConfig")
            .field("org_url", &self.org_url)
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("max_share", &self.max_share)
            .field("rate_scale", &self.rate_scale)
            .finish()
    }
}

impl WorkflowsConfig {
    /// A configuration for an org and a service account.
    pub fn new(
        org_url: impl Into<String>,
        username: impl Into<String>,
        password: SecretString,
    ) -> WorkflowsConfig {
        WorkflowsConfig {
            org_url: org_url.into(),
            username: username.into(),
            password,
            max_share: None,
            rate_scale: None,
        }
    }

    /// Reads `WORKFLOWS_*` settings through `get` (the process environment, a config file's
    /// `[workflows]` table, or both): `WORKFLOWS_ORG_URL`, `WORKFLOWS_USERNAME`,
    /// `WORKFLOWS_PASSWORD`, optional `WORKFLOWS_RATE_SCALE`.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<WorkflowsConfig> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let missing = |var: &str, key: &str, what: &str| {
            butterfly_core::registry::missing_setting("workflows", var, key, what)
        };
        let config = WorkflowsConfig {
            org_url: get(ORG_URL_VAR).ok_or_else(|| {
                missing(
                    ORG_URL_VAR,
                    "org_url",
                    "your Workflows org URL (https://acme.workflows.okta.com)",
                )
            })?,
            username: get(USERNAME_VAR).ok_or_else(|| {
                missing(
                    USERNAME_VAR,
                    "username",
                    "the service account with the Workflow Administrator role",
                )
            })?,
            password: SecretString::from(get(PASSWORD_VAR).ok_or_else(|| {
                missing(PASSWORD_VAR, "password", "the service account's password")
            })?),
            max_share: None,
            rate_scale: match get(RATE_SCALE_VAR) {
                None => None,
                Some(v) => match v.trim().parse::<f64>() {
                    Ok(f) if f.is_finite() && f > 0.0 => Some(f),
                    _ => {
                        return Err(Error::config(format!(
                            "{RATE_SCALE_VAR} must be a positive number"
                        )));
                    }
                },
            },
        };
        config.api_root()?;
        Ok(config)
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<WorkflowsConfig> {
        WorkflowsConfig::from_vars(|k| std::env::var(k).ok())
    }

    /// The API root `<org>/app/api/`, validated: `https`, or plain `http` to this machine.
    pub fn api_root(&self) -> Result<url::Url> {
        let org = self.org_url.trim().trim_end_matches('/');
        if org.is_empty() {
            return Err(Error::config(format!("{ORG_URL_VAR} is empty")));
        }
        http::validate_base_url(&format!("{org}/{}", routes::API_ROOT))
            .map_err(|e| Error::config(format!("{ORG_URL_VAR}: {}", e.message())))
    }
}

/// The service account's session: signs in with the password at [`routes::LOGIN`], caches
/// the session token until shortly before it expires, and signs in again after a 401.
pub struct SessionAuth {
    login_url: String,
    username: String,
    password: SecretString,
    cache: TokenCache,
}

impl fmt::Debug for SessionAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionAuth")
            .field("login_url", &self.login_url)
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

impl SessionAuth {
    /// A session for the configured service account.
    pub fn new(config: &WorkflowsConfig) -> Result<SessionAuth> {
        let root = config.api_root()?;
        Ok(SessionAuth {
            login_url: format!("{root}{}", routes::LOGIN),
            username: config.username.clone(),
            password: config.password.clone(),
            cache: TokenCache::new(Duration::from_secs(60)),
        })
    }

    async fn sign_in(&self, http: &reqwest::Client) -> Result<(SecretString, Duration)> {
        let body = json!({"username": self.username, "password": self.password.expose_secret()});
        let resp = http
            .post(&self.login_url)
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::Transient,
                    "the Workflows org did not answer the sign-in",
                )
                .with_source(e.without_url())
            })?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(|e| {
            Error::new(ErrorKind::Transient, "the sign-in answer broke off")
                .with_source(e.without_url())
        })?;
        if status != 200 {
            let e = map_error(status, &headers, &bytes);
            return Err(if status == 401 || status == 403 {
                Error::new(
                    ErrorKind::Auth,
                    format!(
                        "the Workflows sign-in of {USERNAME_VAR} was refused ({}): check {USERNAME_VAR} and {PASSWORD_VAR}, that the account signs in with a password (not federated) and that the Okta Workflows app's sign-on rule lets it in without MFA",
                        e.message()
                    ),
                )
                .with_status(status)
            } else {
                e.context("signing in to Workflows")
            });
        }
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|_| Error::invalid_data("the Workflows sign-in answer is not JSON"))?;
        let token = value
            .get("token")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid_data("the Workflows sign-in answer has no token"))?;
        let lifetime = value
            .get("expiresIn")
            .and_then(Value::as_u64)
            .unwrap_or(3600);
        Ok((
            SecretString::from(format!("Bearer {token}")),
            Duration::from_secs(lifetime.max(1)),
        ))
    }
}

#[async_trait]
impl AuthHook for SessionAuth {
    async fn authorization(&self, http: &reqwest::Client) -> Result<SecretString> {
        self.cache.get_or_refresh(|| self.sign_in(http)).await
    }

    fn invalidate(&self) {
        self.cache.invalidate();
    }
}

/// The one function mapping a Workflows HTTP failure to an error kind.
///
/// Errors answer `{"error": {"code", "message"}}`. 401 is `Auth` (the session expired or the
/// account cannot sign in); 403 `Denied` with the server's message (the missing role or
/// permission); 404 `NotFound`; 409 `Conflict`; 429 `RateLimited`; 5xx `Transient`; other 4xx
/// `InvalidData`.
pub fn map_error(status: u16, _headers: &HeaderMap, body: &[u8]) -> Error {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = parsed
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    let said = if message.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {message}")
    };
    let kind = match status {
        401 => ErrorKind::Auth,
        403 => ErrorKind::Denied,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Transient,
        _ => ErrorKind::InvalidData,
    };
    let text = if status == 401 {
        format!(
            "the Workflows session was refused ({said}): check {USERNAME_VAR} and {PASSWORD_VAR}"
        )
    } else {
        said
    };
    Error::new(kind, text).with_status(status)
}

pub(crate) fn error_mapper() -> http::ErrorMapper {
    Arc::new(map_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: std::collections::BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn settings_are_read_and_checked() {
        let c = WorkflowsConfig::from_vars(vars(&[
            (ORG_URL_VAR, "https://acme.workflows.okta.com/"),
            (USERNAME_VAR, "wf@acme.com"),
            (PASSWORD_VAR, "SECRET-PASSWORD"),
        ]))
        .unwrap();
        assert_eq!(
            c.api_root().unwrap().as_str(),
            "https://acme.workflows.okta.com/app/api/"
        );
        assert!(!format!("{c:?}").contains("SECRET-PASSWORD"));
        let e = WorkflowsConfig::from_vars(vars(&[(ORG_URL_VAR, "https://a.example.com")]))
            .unwrap_err();
        assert!(e.to_string().contains(USERNAME_VAR), "{e}");
        let e = WorkflowsConfig::from_vars(vars(&[
            (ORG_URL_VAR, "http://acme.workflows.okta.com"),
            (USERNAME_VAR, "u"),
            (PASSWORD_VAR, "p"),
        ]))
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains(ORG_URL_VAR), "{e}");
    }

    #[test]
    fn errors_map_by_status() {
        let h = HeaderMap::new();
        let denied = map_error(
            403,
            &h,
            br#"{"error":{"code":"forbidden","message":"Connector Builder permission required"}}"#,
        );
        assert_eq!(denied.kind(), ErrorKind::Denied);
        assert!(denied.to_string().contains("Connector Builder"), "{denied}");
        assert_eq!(map_error(401, &h, b"").kind(), ErrorKind::Auth);
        assert!(map_error(401, &h, b"").to_string().contains(PASSWORD_VAR));
        assert_eq!(map_error(429, &h, b"").kind(), ErrorKind::RateLimited);
        assert_eq!(map_error(502, &h, b"<html>").kind(), ErrorKind::Transient);
        assert_eq!(map_error(400, &h, b"{}").kind(), ErrorKind::InvalidData);
    }
}
