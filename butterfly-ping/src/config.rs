//! Configuration, authentication and the one HTTP error mapping of the PingOne provider.

use std::fmt;
use std::sync::Arc;

use butterfly_core::http::{self, ClientAuth, ClientCredentialsAuth};
use butterfly_core::{Error, ErrorKind, Result};
use reqwest::header::HeaderMap;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

/// The regions PingOne serves from: the top-level domain of `api.pingone.<region>` and
/// `auth.pingone.<region>` (North America `com`, Europe `eu`, Asia-Pacific `asia`, Canada
/// `ca`, Australia `com.au`), as the servers of the Platform API description list them.
pub const REGIONS: &[&str] = &["com", "eu", "asia", "ca", "com.au"];

/// The setting that points the provider at another API root (the CLI's `--base-url`).
pub const BASE_URL_VAR: &str = "PINGONE_API_URL";

/// Settings of a PingOne provider: a worker application of one environment, read with the
/// client credentials grant.
#[derive(Clone, Deserialize)]
pub struct PingConfig {
    /// The environment id (a UUID).
    pub environment_id: String,
    /// The worker application's client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: SecretString,
    /// The region (`com`, `eu`, `asia`, `ca`, `com.au`; default `com`).
    #[serde(default = "default_region")]
    pub region: String,
    /// Another API root instead of `https://api.pingone.<region>/v1` (a proxy, a fake).
    #[serde(default)]
    pub api_url: Option<String>,
    /// Another auth root instead of `https://auth.pingone.<region>` (the token endpoint is
    /// `<root>/<environmentId>/as/token`); defaults to the API root's origin when
    /// [`api_url`](Self::api_url) is set, as for a fake environment serving both.
    #[serde(default)]
    pub auth_url: Option<String>,
    /// Share of the rate limits to use (default 0.5: sign-ins keep the other half).
    #[serde(default)]
    pub max_share: Option<f64>,
    /// For a fake environment whose clock runs that many times faster.
    #[serde(default)]
    pub rate_scale: Option<f64>,
}

fn default_region() -> String {
    "com".into()
}

impl fmt::Debug for PingConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PingConfig")
            .field("environment_id", &self.environment_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("region", &self.region)
            .field("api_url", &self.api_url)
            .field("auth_url", &self.auth_url)
            .field("max_share", &self.max_share)
            .field("rate_scale", &self.rate_scale)
            .finish()
    }
}

/// Whether `s` is a UUID in its 8-4-4-4-12 hexadecimal form.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

impl PingConfig {
    /// Reads `PINGONE_*` settings through `get` (the process environment, a config file, or
    /// both): `PINGONE_ENVIRONMENT_ID`, `PINGONE_CLIENT_ID`, `PINGONE_CLIENT_SECRET`, optional
    /// `PINGONE_REGION` (default `com`), `PINGONE_API_URL`, `PINGONE_AUTH_URL` and
    /// `PINGONE_RATE_SCALE` (for a fake environment whose clock runs that many times faster).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<PingConfig> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let missing = |var: &str, key: &str, what: &str| {
            butterfly_core::registry::missing_setting("ping", var, key, what)
        };
        let config = PingConfig {
            environment_id: get("PINGONE_ENVIRONMENT_ID").ok_or_else(|| {
                missing(
                    "PINGONE_ENVIRONMENT_ID",
                    "environment_id",
                    "the environment's id (a UUID, in the admin console's environment settings)",
                )
            })?,
            client_id: get("PINGONE_CLIENT_ID").ok_or_else(|| {
                missing(
                    "PINGONE_CLIENT_ID",
                    "client_id",
                    "the worker application's client id",
                )
            })?,
            client_secret: SecretString::from(get("PINGONE_CLIENT_SECRET").ok_or_else(|| {
                missing(
                    "PINGONE_CLIENT_SECRET",
                    "client_secret",
                    "the worker application's client secret",
                )
            })?),
            region: get("PINGONE_REGION").unwrap_or_else(default_region),
            api_url: get(BASE_URL_VAR),
            auth_url: get("PINGONE_AUTH_URL"),
            max_share: None,
            rate_scale: match get("PINGONE_RATE_SCALE") {
                None => None,
                Some(v) => match v.trim().parse::<f64>() {
                    Ok(f) if f.is_finite() && f > 0.0 => Some(f),
                    _ => {
                        return Err(Error::config(
                            "PINGONE_RATE_SCALE must be a positive number",
                        ));
                    }
                },
            },
        };
        config.validate()?;
        Ok(config)
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<PingConfig> {
        PingConfig::from_vars(|k| std::env::var(k).ok())
    }

    /// Checks the region and the environment id; each error names the setting to fix.
    pub fn validate(&self) -> Result<()> {
        let region = self.region.trim().to_ascii_lowercase();
        if !REGIONS.contains(&region.as_str()) {
            return Err(Error::config(format!(
                "PINGONE_REGION {:?} is not a PingOne region: use one of {}",
                self.region,
                REGIONS.join(", ")
            )));
        }
        if !is_uuid(self.environment_id.trim()) {
            return Err(Error::config(format!(
                "PINGONE_ENVIRONMENT_ID {:?} is not an environment id: PingOne environment ids are UUIDs",
                self.environment_id
            )));
        }
        if self.client_id.trim().is_empty() {
            return Err(Error::config("PINGONE_CLIENT_ID is empty"));
        }
        Ok(())
    }

    /// The API root (`https://api.pingone.<region>/v1/`, or the override), validated, with a
    /// trailing slash.
    pub fn api_root(&self) -> Result<url::Url> {
        let root = match &self.api_url {
            Some(u) => u.trim().trim_end_matches('/').to_string(),
            None => format!("https://api.pingone.{}/v1", self.region.trim()),
        };
        http::validate_base_url(&format!("{root}/"))
    }

    /// The token endpoint: `<auth root>/<environmentId>/as/token`.
    pub fn token_url(&self) -> Result<String> {
        let root = match (&self.auth_url, &self.api_url) {
            (Some(a), _) => a.trim().trim_end_matches('/').to_string(),
            (None, Some(_)) => {
                let api = self.api_root()?;
                api.origin().ascii_serialization()
            }
            (None, None) => format!("https://auth.pingone.{}", self.region.trim()),
        };
        let url = http::validate_base_url(&format!("{root}/"))?;
        Ok(format!("{url}{}/as/token", self.environment_id.trim()))
    }
}

/// The client-credentials hook of a worker application (`client_secret_basic`, PingOne's
/// default token endpoint authentication method for worker apps).
pub fn token_auth(config: &PingConfig) -> Result<ClientCredentialsAuth> {
    Ok(ClientCredentialsAuth::new(
        "PingOne",
        config.token_url()?,
        config.client_id.trim(),
        ClientAuth::SecretBasic(config.client_secret.clone()),
    )
    .error_mapper(Arc::new(token_error)))
}

/// A refusal of the token endpoint, naming the settings to fix: `invalid_client` is the
/// worker application's id or secret (or an app of another environment); a 404 is an
/// environment the region's auth host does not know.
pub fn token_error(status: u16, body: &Value) -> Error {
    let code = body.get("error").and_then(Value::as_str).unwrap_or("");
    let hint = match (status, code) {
        (_, "invalid_client") | (401, _) => {
            "check PINGONE_CLIENT_ID and PINGONE_CLIENT_SECRET: the worker application of PINGONE_ENVIRONMENT_ID, with the client_secret_basic token endpoint method"
        }
        (_, "unauthorized_client" | "unsupported_grant_type") => {
            "the application is not a worker application allowed the client_credentials grant"
        }
        (404, _) => {
            "no such environment at this auth host: check PINGONE_ENVIRONMENT_ID and PINGONE_REGION"
        }
        _ => "",
    };
    let error = http::oauth::token_error("PingOne", status, body);
    if hint.is_empty() {
        return error;
    }
    Error::new(error.kind(), format!("{}; {hint}", error.message())).with_status(status)
}

/// The one function mapping a PingOne HTTP failure to an error kind.
///
/// PingOne answers `{"id","code","message","details"?}`. 401 is `Auth`; 403 is `Denied`,
/// naming the role a detail names when there is one; 404 `NotFound`; 409 `Conflict`; 429
/// `RateLimited`; 5xx `Transient`; other 4xx `InvalidData` with the code, the message and the
/// targets of the details (never a value). An `INVALID_LICENSE` / "not enabled" answer is
/// `Unsupported`: the service is not part of the environment.
pub fn map_error(status: u16, _headers: &HeaderMap, body: &[u8]) -> Error {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |k: &str| parsed.get(k).and_then(Value::as_str).unwrap_or("");
    let (code, message) = (text("code"), text("message"));
    let details: Vec<&str> = parsed
        .get("details")
        .and_then(Value::as_array)
        .map(|d| {
            d.iter()
                .filter_map(|d| d.get("message").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let lower = message.to_ascii_lowercase();
    let not_enabled = code == "INVALID_LICENSE"
        || lower.contains("not enabled")
        || lower.contains("license")
        || lower.contains("not licensed");
    let kind = match status {
        401 => ErrorKind::Auth,
        403 | 400 | 404 if not_enabled => ErrorKind::Unsupported,
        403 => ErrorKind::Denied,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Transient,
        _ => ErrorKind::InvalidData,
    };
    let mut text = match (code, message) {
        ("", "") => format!("HTTP {status}"),
        ("", m) => format!("HTTP {status}: {m}"),
        (c, m) => format!("{c}: {m}"),
    };
    if !details.is_empty() {
        text = format!("{text} ({})", details.join("; "));
    }
    Error::new(kind, text).with_status(status)
}

pub(crate) fn error_mapper() -> http::ErrorMapper {
    Arc::new(map_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV: &str = "2a7c1b5e-4f0d-4c39-9b1e-0c5d7e8f9a10";

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: std::collections::BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("PINGONE_ENVIRONMENT_ID", ENV),
            ("PINGONE_CLIENT_ID", "worker"),
            ("PINGONE_CLIENT_SECRET", "SECRET-VALUE"),
        ]
    }

    #[test]
    fn regions_and_urls() {
        let c = PingConfig::from_vars(vars(&base())).unwrap();
        assert_eq!(
            c.api_root().unwrap().as_str(),
            "https://api.pingone.com/v1/"
        );
        assert_eq!(
            c.token_url().unwrap(),
            format!("https://auth.pingone.com/{ENV}/as/token")
        );
        let mut eu = base();
        eu.push(("PINGONE_REGION", "com.au"));
        let c = PingConfig::from_vars(vars(&eu)).unwrap();
        assert_eq!(
            c.api_root().unwrap().as_str(),
            "https://api.pingone.com.au/v1/"
        );
        let mut fake = base();
        fake.push(("PINGONE_API_URL", "http://127.0.0.1:9/v1"));
        let c = PingConfig::from_vars(vars(&fake)).unwrap();
        assert_eq!(
            c.token_url().unwrap(),
            format!("http://127.0.0.1:9/{ENV}/as/token")
        );
    }

    #[test]
    fn bad_settings_name_the_setting_and_never_the_secret() {
        let mut bad = base();
        bad.push(("PINGONE_REGION", "moon"));
        let e = PingConfig::from_vars(vars(&bad)).unwrap_err();
        assert!(e.to_string().contains("PINGONE_REGION"), "{e}");
        let mut bad = base();
        bad[0] = ("PINGONE_ENVIRONMENT_ID", "not-a-uuid");
        let e = PingConfig::from_vars(vars(&bad)).unwrap_err();
        assert!(e.to_string().contains("PINGONE_ENVIRONMENT_ID"), "{e}");
        let e = PingConfig::from_vars(vars(&base()[..2])).unwrap_err();
        assert!(e.to_string().contains("PINGONE_CLIENT_SECRET"), "{e}");
        let mut remote_http = base();
        remote_http.push(("PINGONE_API_URL", "http://idp.example.invalid/v1"));
        let c = PingConfig::from_vars(vars(&remote_http)).unwrap();
        assert_eq!(c.api_root().unwrap_err().kind(), ErrorKind::Config);
        let c = PingConfig::from_vars(vars(&base())).unwrap();
        assert!(!format!("{c:?}").contains("SECRET-VALUE"));
    }

    #[test]
    fn token_refusals_name_the_settings_to_fix() {
        let e = token_error(
            401,
            &serde_json::json!({"error": "invalid_client", "error_description": "Request denied: invalid client credentials"}),
        );
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert!(e.to_string().contains("PINGONE_CLIENT_SECRET"), "{e}");
        let e = token_error(404, &Value::Null);
        assert!(e.to_string().contains("PINGONE_REGION"), "{e}");
        assert_eq!(token_error(503, &Value::Null).kind(), ErrorKind::Transient);
    }

    #[test]
    fn errors_map_by_status_and_code() {
        let h = HeaderMap::new();
        let denied = map_error(
            403,
            &h,
            br#"{"id":"x","code":"ACCESS_FAILED","message":"The request could not be completed. You do not have access to this resource.","details":[{"code":"INSUFFICIENT_PERMISSIONS","message":"Role Environment Admin is required"}]}"#,
        );
        assert_eq!(denied.kind(), ErrorKind::Denied);
        assert!(denied.to_string().contains("Environment Admin"), "{denied}");
        let missing = map_error(
            404,
            &h,
            br#"{"id":"x","code":"NOT_FOUND","message":"Unable to find resource"}"#,
        );
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        assert_eq!(map_error(429, &h, b"").kind(), ErrorKind::RateLimited);
        assert_eq!(map_error(503, &h, b"<html>").kind(), ErrorKind::Transient);
        let invalid = map_error(400, &h, br#"{"code":"INVALID_DATA","message":"The request could not be completed. One or more validation errors were in the request.","details":[{"code":"REQUIRED_VALUE","target":"name","message":"name is required"}]}"#);
        assert_eq!(invalid.kind(), ErrorKind::InvalidData);
        assert!(invalid.to_string().contains("name is required"));
    }
}
