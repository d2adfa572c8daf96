//! Configuration and the one HTTP error mapping of the 1Password Connect provider.

use std::fmt;
use std::sync::Arc;

use butterfly_core::http;
use butterfly_core::{Error, ErrorKind, Result};
use reqwest::header::HeaderMap;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

/// The setting holding the Connect server's URL (the CLI's `--base-url` fills it in).
pub const HOST_VAR: &str = "OP_CONNECT_HOST";
/// The setting holding the Connect server access token.
pub const TOKEN_VAR: &str = "OP_CONNECT_TOKEN";
/// The opt-in for plain `http` to a Connect server that is not on this machine.
pub const ALLOW_HTTP_VAR: &str = "OP_CONNECT_ALLOW_HTTP";
/// The opt-in for keeping the values of fields that are not secrets (notes, usernames, URLs).
pub const KEEP_VALUES_VAR: &str = "OP_CONNECT_KEEP_VALUES";

/// Settings of a 1Password Connect provider: the customer's Connect server and an access token
/// it issued.
///
/// `Debug` never shows the token.
#[derive(Clone, Deserialize)]
pub struct OnePasswordConfig {
    /// The Connect server's URL (`https://connect.example.com`, or with `/v1`); the API root is
    /// `<host>/v1`.
    pub host: String,
    /// The Connect server access token (a JWT) with read access to the vaults to back up.
    pub token: SecretString,
    /// Accept plain `http` to a host that is not loopback (Connect servers often sit on a
    /// private network). Off by default: `https`, or `http` to 127.0.0.1, ::1 and localhost.
    #[serde(default)]
    pub allow_http: bool,
    /// Keep the values of fields that are not secrets (notes, usernames, URLs, dates, menus).
    /// Off by default: only their id, label, type, purpose and section are stored. Secret values
    /// (concealed, one-time password and SSH key fields, and every field whose purpose is
    /// `PASSWORD`) are never stored, whatever this says.
    #[serde(default)]
    pub keep_values: bool,
    /// Share of the client's request budget to use (default 0.5).
    #[serde(default)]
    pub max_share: Option<f64>,
    /// For a fake Connect server whose clock runs that many times faster.
    #[serde(default)]
    pub rate_scale: Option<f64>,
}

impl fmt::Debug for OnePasswordConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnePasswordConfig")
            .field("host", &self.host)
            .field("token", &"[redacted]")
            .field("allow_http", &self.allow_http)
            .field("keep_values", &self.keep_values)
            .field("max_share", &self.max_share)
            .field("rate_scale", &self.rate_scale)
            .finish()
    }
}

/// A yes/no setting: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`; anything else is a
/// `Config` error naming the setting.
fn flag(var: &str, value: Option<String>) -> Result<bool> {
    let Some(v) = value else { return Ok(false) };
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Error::config(format!(
            "{var} must be true or false, got {v:?}"
        ))),
    }
}

impl OnePasswordConfig {
    /// A configuration for `host` and `token`, with every opt-in off.
    pub fn new(host: impl Into<String>, token: SecretString) -> OnePasswordConfig {
        OnePasswordConfig {
            host: host.into(),
            token,
            allow_http: false,
            keep_values: false,
            max_share: None,
            rate_scale: None,
        }
    }

    /// Reads `OP_CONNECT_*` settings through `get` (the process environment, a config file's
    /// `[onepassword]` table, or both): `OP_CONNECT_HOST`, `OP_CONNECT_TOKEN`, optional
    /// `OP_CONNECT_ALLOW_HTTP`, `OP_CONNECT_KEEP_VALUES` (both `true`/`false`, default false)
    /// and `OP_CONNECT_RATE_SCALE` (for a fake server whose clock runs faster).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<OnePasswordConfig> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let missing = |var: &str, key: &str, what: &str| {
            butterfly_core::registry::missing_setting("onepassword", var, key, what)
        };
        let config = OnePasswordConfig {
            host: get(HOST_VAR).ok_or_else(|| {
                missing(
                    HOST_VAR,
                    "host",
                    "the URL of your 1Password Connect server (https://connect.example.com)",
                )
            })?,
            token: SecretString::from(get(TOKEN_VAR).ok_or_else(|| {
                missing(
                    TOKEN_VAR,
                    "token",
                    "a Connect server access token with read access to the vaults to back up",
                )
            })?),
            allow_http: flag(ALLOW_HTTP_VAR, get(ALLOW_HTTP_VAR))?,
            keep_values: flag(KEEP_VALUES_VAR, get(KEEP_VALUES_VAR))?,
            max_share: None,
            rate_scale: match get("OP_CONNECT_RATE_SCALE") {
                None => None,
                Some(v) => match v.trim().parse::<f64>() {
                    Ok(f) if f.is_finite() && f > 0.0 => Some(f),
                    _ => {
                        return Err(Error::config(
                            "OP_CONNECT_RATE_SCALE must be a positive number",
                        ));
                    }
                },
            },
        };
        config.api_root()?;
        Ok(config)
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<OnePasswordConfig> {
        OnePasswordConfig::from_vars(|k| std::env::var(k).ok())
    }

    /// The API root `<host>/v1/`, validated: `https`, or plain `http` to a loopback host, or to
    /// any host when [`allow_http`](Self::allow_http) is set. Nothing is sent: a refused URL is
    /// refused before any connection.
    pub fn api_root(&self) -> Result<url::Url> {
        let host = self.host.trim().trim_end_matches('/');
        if host.is_empty() {
            return Err(Error::config(format!("{HOST_VAR} is empty")));
        }
        let root = if host.ends_with("/v1") {
            format!("{host}/")
        } else {
            format!("{host}/v1/")
        };
        http::validate_base_url_with(&root, self.allow_http).map_err(|e| {
            if e.message().contains("refusing plain http") {
                Error::config(format!(
                    "{}; a Connect server on a private network may be reached over plain http by setting {ALLOW_HTTP_VAR}=true ([onepassword] allow_http = true)",
                    e.message()
                ))
            } else {
                Error::config(format!("{HOST_VAR}: {}", e.message()))
            }
        })
    }

    /// Whether requests would go over plain `http` to a host that is not loopback (allowed
    /// only with [`allow_http`](Self::allow_http)): the provider warns about it once.
    pub fn plain_http_to_remote(&self) -> bool {
        let Ok(root) = self.api_root() else {
            return false;
        };
        let loopback = match root.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        root.scheme() == "http" && !loopback
    }
}

/// The one function mapping a Connect server's HTTP failure to an error kind.
///
/// Connect answers `{"status","message"}`. 401 is `Auth`, naming `OP_CONNECT_TOKEN`; 403 is
/// `Denied` (a vault the token has no access to); 404 `NotFound`; 429 `RateLimited`; 5xx
/// `Transient`; other 4xx `InvalidData` with the server's message (never a value).
pub fn map_error(status: u16, _headers: &HeaderMap, body: &[u8]) -> Error {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = parsed
        .get("message")
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
    let (kind, text) = match status {
        401 => (
            ErrorKind::Auth,
            format!(
                "the Connect server refused the token ({said}): check {TOKEN_VAR}, an access token issued by this Connect server (not a service account token) that has not been revoked"
            ),
        ),
        403 => (
            ErrorKind::Denied,
            format!("{said}: the token in {TOKEN_VAR} has no read access to this vault"),
        ),
        404 => (ErrorKind::NotFound, said),
        409 => (ErrorKind::Conflict, said),
        429 => (ErrorKind::RateLimited, said),
        500..=599 => (ErrorKind::Transient, said),
        _ => (ErrorKind::InvalidData, said),
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
    fn the_api_root_is_host_slash_v1() {
        for host in [
            "https://connect.example.com",
            "https://connect.example.com/",
            "https://connect.example.com/v1",
        ] {
            let c = OnePasswordConfig::from_vars(vars(&[
                (HOST_VAR, host),
                (TOKEN_VAR, "SECRET-TOKEN"),
            ]))
            .unwrap();
            assert_eq!(
                c.api_root().unwrap().as_str(),
                "https://connect.example.com/v1/"
            );
            assert!(!c.keep_values && !c.allow_http);
            assert!(!format!("{c:?}").contains("SECRET-TOKEN"));
        }
    }

    #[test]
    fn missing_and_bad_settings_name_the_setting() {
        let e = OnePasswordConfig::from_vars(vars(&[(TOKEN_VAR, "t")])).unwrap_err();
        assert!(e.to_string().contains(HOST_VAR), "{e}");
        let e =
            OnePasswordConfig::from_vars(vars(&[(HOST_VAR, "https://c.example.com")])).unwrap_err();
        assert!(e.to_string().contains(TOKEN_VAR), "{e}");
        let e = OnePasswordConfig::from_vars(vars(&[
            (HOST_VAR, "https://c.example.com"),
            (TOKEN_VAR, "t"),
            (ALLOW_HTTP_VAR, "perhaps"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains(ALLOW_HTTP_VAR), "{e}");
    }

    #[test]
    fn errors_map_by_status_and_name_the_token_on_401() {
        let h = HeaderMap::new();
        let auth = map_error(
            401,
            &h,
            br#"{"status":401,"message":"Invalid token signature"}"#,
        );
        assert_eq!(auth.kind(), ErrorKind::Auth);
        assert!(auth.to_string().contains(TOKEN_VAR), "{auth}");
        assert!(
            auth.to_string().contains("Invalid token signature"),
            "{auth}"
        );
        let denied = map_error(
            403,
            &h,
            br#"{"status":403,"message":"vault abc is not in scope"}"#,
        );
        assert_eq!(denied.kind(), ErrorKind::Denied);
        assert_eq!(map_error(404, &h, b"").kind(), ErrorKind::NotFound);
        assert_eq!(map_error(429, &h, b"").kind(), ErrorKind::RateLimited);
        assert_eq!(map_error(503, &h, b"<html>").kind(), ErrorKind::Transient);
        assert_eq!(map_error(413, &h, b"{}").kind(), ErrorKind::InvalidData);
    }
}
