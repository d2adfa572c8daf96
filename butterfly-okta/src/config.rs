//! Configuration, authentication and the one HTTP error mapping of the Okta provider.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use butterfly_core::http::{self, ClientAssertion, ClientAuth, ClientCredentialsAuth};
use butterfly_core::{Error, ErrorKind, Result};
use reqwest::header::HeaderMap;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

/// How the provider authenticates.
#[derive(Clone, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum OktaAuth {
    /// OAuth 2.0 client credentials with `private_key_jwt` (recommended).
    PrivateKeyJwt {
        /// The service app's client id.
        client_id: String,
        /// PEM private key (RSA).
        private_key: SecretString,
        /// Key id registered for the service app.
        key_id: Option<String>,
        /// Scopes to request; default: the read scopes of every kind.
        scopes: Option<Vec<String>>,
    },
    /// An SSWS API token.
    ApiToken {
        /// The token.
        token: SecretString,
    },
}

impl fmt::Debug for OktaAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OktaAuth::PrivateKeyJwt {
                client_id,
                key_id,
                scopes,
                ..
            } => f
                .debug_struct("PrivateKeyJwt")
                .field("client_id", client_id)
                .field("private_key", &"[redacted]")
                .field("key_id", key_id)
                .field("scopes", scopes)
                .finish(),
            OktaAuth::ApiToken { .. } => f
                .debug_struct("ApiToken")
                .field("token", &"[redacted]")
                .finish(),
        }
    }
}

/// Settings of an Okta provider.
#[derive(Debug, Clone, Deserialize)]
pub struct OktaConfig {
    /// The org URL (`https://acme.okta.com`).
    pub org_url: String,
    /// Another API root to use instead of the org URL (a proxy, or a fake tenant on loopback).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Credentials.
    pub auth: OktaAuth,
    /// Share of each rate-limit bucket to use (default 0.5).
    #[serde(default)]
    pub max_share: Option<f64>,
    /// Override of the per-minute bucket limits, for orgs with other limits (or fakes whose
    /// time runs faster): bucket name → limit per `bucket_period`.
    #[serde(default)]
    pub bucket_limits: Option<Vec<(String, u32)>>,
    /// The window the bucket limits apply to (default one minute).
    #[serde(default)]
    pub bucket_period: Option<Duration>,
}

/// The setting that points the provider at another API root (the CLI's `--base-url`).
pub const BASE_URL_VAR: &str = "OKTA_BASE_URL";

impl OktaConfig {
    /// Reads `OKTA_*` settings through `get` (the process environment, a config file, or both):
    /// `OKTA_ORG_URL`, then either `OKTA_API_TOKEN` or `OKTA_CLIENT_ID` with
    /// `OKTA_PRIVATE_KEY_FILE` (or `OKTA_PRIVATE_KEY`), `OKTA_PRIVATE_KEY_ID` and optional
    /// `OKTA_SCOPES`; optional `OKTA_BASE_URL` (without `OKTA_ORG_URL` it is the org URL too);
    /// optional `OKTA_RATE_SCALE` (for a fake tenant whose clock runs that many times faster:
    /// the per-minute buckets shrink accordingly).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<OktaConfig> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let base_url = get(BASE_URL_VAR);
        let org_url = get("OKTA_ORG_URL").or_else(|| base_url.clone()).ok_or_else(|| {
            Error::config(
                "OKTA_ORG_URL is not set: set it to https://<org>.okta.com ([okta] org_url in a config file), or give the API root as OKTA_BASE_URL (the CLI's --base-url)",
            )
        })?;
        let auth = match (get("OKTA_API_TOKEN"), get("OKTA_CLIENT_ID")) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "set either OKTA_API_TOKEN or OKTA_CLIENT_ID, not both",
                ));
            }
            (Some(token), None) => OktaAuth::ApiToken {
                token: SecretString::from(token),
            },
            (None, Some(client_id)) => {
                let pem = match (get("OKTA_PRIVATE_KEY"), get("OKTA_PRIVATE_KEY_FILE")) {
                    (Some(pem), _) => pem,
                    (None, Some(path)) => std::fs::read_to_string(&path).map_err(|e| {
                        Error::config(format!("cannot read OKTA_PRIVATE_KEY_FILE {path}: {e}"))
                    })?,
                    (None, None) => {
                        return Err(Error::config(
                            "OKTA_CLIENT_ID needs OKTA_PRIVATE_KEY_FILE (or OKTA_PRIVATE_KEY)",
                        ));
                    }
                };
                OktaAuth::PrivateKeyJwt {
                    client_id,
                    private_key: SecretString::from(pem),
                    key_id: get("OKTA_PRIVATE_KEY_ID"),
                    scopes: get("OKTA_SCOPES").map(|s| {
                        s.split([' ', ','])
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    }),
                }
            }
            (None, None) => {
                return Err(Error::config(
                    "no Okta credentials: set OKTA_CLIENT_ID and OKTA_PRIVATE_KEY_FILE, or OKTA_API_TOKEN",
                ));
            }
        };
        let bucket_period = match get("OKTA_RATE_SCALE") {
            None => None,
            Some(scale) => match scale.parse::<f64>() {
                Ok(f) if f.is_finite() && f > 0.0 => Some(Duration::from_secs_f64(60.0 / f)),
                _ => return Err(Error::config("OKTA_RATE_SCALE must be a positive number")),
            },
        };
        Ok(OktaConfig {
            org_url,
            base_url,
            auth,
            max_share: None,
            bucket_limits: None,
            bucket_period,
        })
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<OktaConfig> {
        OktaConfig::from_vars(|k| std::env::var(k).ok())
    }
}

/// The `private_key_jwt` token hook: a client assertion signed with the service app's key
/// (RS256, `kid` when registered, `aud` the token endpoint) exchanged for a bearer token with
/// the scopes.
pub(crate) fn token_auth(
    client_id: &str,
    pem: &SecretString,
    key_id: Option<String>,
    scopes: Vec<String>,
    token_url: String,
) -> Result<ClientCredentialsAuth> {
    let assertion = ClientAssertion::from_rsa_pem(pem)
        .map_err(|_| Error::config("the Okta private key is not a valid RSA PEM key"))?
        .key_id(key_id);
    Ok(ClientCredentialsAuth::new(
        "Okta",
        token_url,
        client_id,
        ClientAuth::PrivateKeyJwt(assertion),
    )
    .param("scope", scopes.join(" ")))
}

/// The one function mapping an Okta HTTP failure to an error kind.
///
/// `401 E0000015` (feature not enabled) is `Unsupported`; other 401s are `Auth`; 403 is
/// `Denied` naming the scope from `www-authenticate` when Okta names it; 404 `NotFound`;
/// 429 `RateLimited`; 5xx `Transient`; 409 `Conflict`; other 4xx `InvalidData`.
pub fn map_error(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = parsed
        .get("errorCode")
        .and_then(Value::as_str)
        .unwrap_or("");
    let summary = parsed
        .get("errorSummary")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = match (status, code) {
        (401, "E0000015") | (403, "E0000015") => ErrorKind::Unsupported,
        (401, _) => ErrorKind::Auth,
        (403, _) => ErrorKind::Denied,
        (404, _) => ErrorKind::NotFound,
        (409, _) => ErrorKind::Conflict,
        (429, _) => ErrorKind::RateLimited,
        (500..=599, _) => ErrorKind::Transient,
        _ => ErrorKind::InvalidData,
    };
    let scope = headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("scope=\"").nth(1))
        .and_then(|v| v.split('"').next())
        .map(str::to_string);
    let message = match (kind, scope) {
        (ErrorKind::Denied, Some(scope)) => scope,
        _ if !code.is_empty() => format!("{code}: {summary}"),
        _ => format!("HTTP {status}"),
    };
    Error::new(kind, message).with_status(status)
}

pub(crate) fn error_mapper() -> http::ErrorMapper {
    Arc::new(map_error)
}
