//! Configuration, authentication and the one HTTP error mapping of the Auth0 provider.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use butterfly_core::http::{self, ClientAssertion, ClientAuth, ClientCredentialsAuth, oauth};
use butterfly_core::{Error, ErrorKind, Result};
use reqwest::header::HeaderMap;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

/// How the provider authenticates to the token endpoint (client credentials grant).
#[derive(Clone, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Auth0Auth {
    /// `client_secret_post`: the machine-to-machine application's client secret.
    ClientSecret {
        /// The application's client id.
        client_id: String,
        /// Its client secret.
        client_secret: SecretString,
    },
    /// `private_key_jwt`: a client assertion signed with the application's private key
    /// (recommended: no shared secret).
    PrivateKeyJwt {
        /// The application's client id.
        client_id: String,
        /// PEM private key (RSA).
        private_key: SecretString,
        /// Key id of the registered credential.
        key_id: Option<String>,
    },
}

impl fmt::Debug for Auth0Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth0Auth::ClientSecret { client_id, .. } => f
                .debug_struct("ClientSecret")
                .field("client_id", client_id)
                .field("client_secret", &"[redacted]")
                .finish(),
            Auth0Auth::PrivateKeyJwt {
                client_id, key_id, ..
            } => f
                .debug_struct("PrivateKeyJwt")
                .field("client_id", client_id)
                .field("private_key", &"[redacted]")
                .field("key_id", key_id)
                .finish(),
        }
    }
}

/// Auth0's Management API token bucket: `burst` requests at once, refilled at `refill`
/// per second. Enterprise tenants: burst 50, 16 per second; free tenants: 2 per second (burst 2).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct TokenBucket {
    /// Bucket size (what `x-ratelimit-limit` announces).
    pub burst: u32,
    /// Tokens added per second.
    pub refill: f64,
}

impl TokenBucket {
    /// The Enterprise tier's bucket.
    pub const ENTERPRISE: TokenBucket = TokenBucket {
        burst: 50,
        refill: 16.0,
    };
    /// The free tier's bucket.
    pub const FREE: TokenBucket = TokenBucket {
        burst: 2,
        refill: 2.0,
    };

    /// The bucket with time running `scale` times faster (for fakes whose clock is scaled).
    pub fn scaled(self, scale: f64) -> TokenBucket {
        TokenBucket {
            burst: self.burst,
            refill: self.refill * scale,
        }
    }

    /// The time the bucket needs to refill completely: the period the announced limit spans.
    pub fn period(&self) -> Duration {
        Duration::from_secs_f64(self.burst as f64 / self.refill.max(f64::MIN_POSITIVE))
    }
}

/// Settings of an Auth0 provider.
#[derive(Debug, Clone, Deserialize)]
pub struct Auth0Config {
    /// The tenant domain (`acme.eu.auth0.com`) or a custom domain (`login.acme.com`);
    /// `https://` is optional.
    pub domain: String,
    /// Credentials.
    pub auth: Auth0Auth,
    /// The API audience; default `https://{domain}/api/v2/`.
    #[serde(default)]
    pub audience: Option<String>,
    /// Another root to send requests to (a proxy, or a fake tenant on loopback).
    #[serde(default)]
    pub base_url: Option<String>,
    /// The tenant's rate limit (default: Enterprise).
    #[serde(default)]
    pub rate_limit: Option<TokenBucket>,
    /// Share of the rate limit to use (default 0.5: sign-ins keep the other half).
    #[serde(default)]
    pub max_share: Option<f64>,
    /// Above this many users (by `include_totals`), users are read through a users-exports
    /// job instead of the search listing, which stops at 1,000 (default 1,000).
    #[serde(default)]
    pub export_threshold: Option<u64>,
    /// How long to wait for a users-exports job (default one hour).
    #[serde(default)]
    pub export_timeout: Option<Duration>,
}

fn positive(name: &str, value: Option<String>) -> Result<Option<f64>> {
    match value {
        None => Ok(None),
        Some(v) => match v.trim().parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 => Ok(Some(f)),
            _ => Err(Error::config(format!("{name} must be a positive number"))),
        },
    }
}

/// The setting that points the provider at another API root (the CLI's `--base-url`).
pub const BASE_URL_VAR: &str = "AUTH0_BASE_URL";

impl Auth0Config {
    /// Reads `AUTH0_*` settings through `get` (the process environment, a config file, or
    /// both): `AUTH0_DOMAIN`, `AUTH0_CLIENT_ID`, then `AUTH0_CLIENT_SECRET` or
    /// `AUTH0_PRIVATE_KEY_FILE` (or `AUTH0_PRIVATE_KEY`) with optional `AUTH0_PRIVATE_KEY_ID`;
    /// optional `AUTH0_AUDIENCE`, `AUTH0_BASE_URL` (without `AUTH0_DOMAIN` it names the tenant
    /// too), `AUTH0_TIER` (`enterprise` or `free`) and
    /// `AUTH0_RATE_SCALE` (for a fake tenant whose clock runs that many times faster).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Auth0Config> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let base_url = get(BASE_URL_VAR);
        let domain = get("AUTH0_DOMAIN").or_else(|| base_url.clone()).ok_or_else(|| {
            Error::config(
                "AUTH0_DOMAIN is not set: set it to the tenant or custom domain (acme.eu.auth0.com; [auth0] domain in a config file), or give the API root as AUTH0_BASE_URL (the CLI's --base-url)",
            )
        })?;
        let client_id = get("AUTH0_CLIENT_ID").ok_or_else(|| {
            Error::config(
                "AUTH0_CLIENT_ID is not set: the machine-to-machine application's client id ([auth0] client_id in a config file)",
            )
        })?;
        let pem = match (get("AUTH0_PRIVATE_KEY"), get("AUTH0_PRIVATE_KEY_FILE")) {
            (Some(pem), _) => Some(pem),
            (None, Some(path)) => Some(std::fs::read_to_string(&path).map_err(|e| {
                Error::config(format!("cannot read AUTH0_PRIVATE_KEY_FILE {path}: {e}"))
            })?),
            (None, None) => None,
        };
        let auth = match (get("AUTH0_CLIENT_SECRET"), pem) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "set either AUTH0_CLIENT_SECRET or AUTH0_PRIVATE_KEY_FILE, not both",
                ));
            }
            (Some(secret), None) => Auth0Auth::ClientSecret {
                client_id,
                client_secret: SecretString::from(secret),
            },
            (None, Some(pem)) => Auth0Auth::PrivateKeyJwt {
                client_id,
                private_key: SecretString::from(pem),
                key_id: get("AUTH0_PRIVATE_KEY_ID"),
            },
            (None, None) => {
                return Err(Error::config(
                    "no Auth0 credentials: set AUTH0_CLIENT_SECRET or AUTH0_PRIVATE_KEY_FILE",
                ));
            }
        };
        let tier = match get("AUTH0_TIER").as_deref().map(str::to_ascii_lowercase) {
            None => None,
            Some(t) if t == "enterprise" => Some(TokenBucket::ENTERPRISE),
            Some(t) if t == "free" => Some(TokenBucket::FREE),
            Some(t) => {
                return Err(Error::config(format!(
                    "AUTH0_TIER must be enterprise or free, not {t:?}"
                )));
            }
        };
        let rate_limit = match positive("AUTH0_RATE_SCALE", get("AUTH0_RATE_SCALE"))? {
            Some(scale) => Some(tier.unwrap_or(TokenBucket::ENTERPRISE).scaled(scale)),
            None => tier,
        };
        Ok(Auth0Config {
            domain,
            auth,
            audience: get("AUTH0_AUDIENCE"),
            base_url,
            rate_limit,
            max_share: None,
            export_threshold: None,
            export_timeout: None,
        })
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Auth0Config> {
        Auth0Config::from_vars(|k| std::env::var(k).ok())
    }

    /// The tenant URL (`https://{domain}/`), validated.
    pub fn tenant_url(&self) -> Result<url::Url> {
        let d = self.domain.trim();
        let with_scheme = if d.contains("://") {
            d.to_string()
        } else {
            format!("https://{d}")
        };
        http::validate_base_url(&with_scheme)
    }

    /// The audience the token is asked for.
    pub fn audience(&self) -> Result<String> {
        match &self.audience {
            Some(a) => Ok(a.clone()),
            None => Ok(format!("{}api/v2/", self.tenant_url()?)),
        }
    }
}

/// The client-credentials token hook: asks `token_url` for a Management API token for
/// `audience` (with the client secret, or a client assertion whose `aud` is the tenant URL),
/// and reads the granted scopes from the response (for the access probe).
pub(crate) fn token_auth(
    auth: &Auth0Auth,
    audience: String,
    token_url: String,
    assertion_audience: String,
) -> Result<ClientCredentialsAuth> {
    let (client_id, credential) = match auth {
        Auth0Auth::ClientSecret {
            client_id,
            client_secret,
        } => (client_id, ClientAuth::SecretPost(client_secret.clone())),
        Auth0Auth::PrivateKeyJwt {
            client_id,
            private_key,
            key_id,
        } => (
            client_id,
            ClientAuth::PrivateKeyJwt(
                ClientAssertion::from_rsa_pem(private_key)
                    .map_err(|_| Error::config("the Auth0 private key is not a valid RSA PEM key"))?
                    .key_id(key_id.clone())
                    .audience(assertion_audience)
                    .lifetime(Duration::from_secs(60)),
            ),
        ),
    };
    Ok(
        ClientCredentialsAuth::new("Auth0", token_url, client_id, credential)
            .param("audience", audience)
            .grants(Arc::new(oauth::scope_grants)),
    )
}

/// Whether a 403 says the tenant's plan lacks the feature (rather than a missing scope).
fn not_entitled(code: &str, message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    matches!(
        code,
        "feature_not_enabled"
            | "operation_not_supported"
            | "insufficient_plan"
            | "tenant_not_entitled"
    ) || m.contains("not entitled")
        || m.contains("upgrade your subscription")
        || m.contains("not enabled for this tenant")
        || m.contains("feature is not enabled")
}

/// The scope named by an `Insufficient scope, expected any of: read:x` message.
pub fn scope_in(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find("expected")?;
    let rest = &message[at + "expected".len()..];
    let rest = rest.trim_start_matches(' ');
    let rest = rest.strip_prefix("any of").unwrap_or(rest);
    let rest = rest.trim_start_matches([':', ' ']);
    let scope: String = rest
        .split([',', ' '])
        .next()?
        .trim_end_matches('.')
        .to_string();
    scope.contains(':').then_some(scope)
}

/// The one function mapping an Auth0 HTTP failure to an error kind.
///
/// 401 is `Auth`; 403 `insufficient_scope` (or "Insufficient scope" in the message) is
/// `Denied` naming the scope; 403 "not entitled" / "upgrade your subscription" / a feature
/// not enabled is `Unsupported`; other 403s `Denied`; 404 `NotFound`; 409 `Conflict`; 429
/// `RateLimited`; 5xx `Transient`; other 4xx `InvalidData`. The message keeps Auth0's
/// `errorCode` and message (they never hold secrets).
pub fn map_error(status: u16, _headers: &HeaderMap, body: &[u8]) -> Error {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |k: &str| parsed.get(k).and_then(Value::as_str).unwrap_or("");
    let code = text("errorCode");
    let message = match text("message") {
        "" => text("error_description"),
        m => m,
    };
    let scope_missing =
        code == "insufficient_scope" || message.to_ascii_lowercase().contains("insufficient scope");
    let kind = match status {
        401 => ErrorKind::Auth,
        403 if scope_missing => ErrorKind::Denied,
        403 if not_entitled(code, message) => ErrorKind::Unsupported,
        403 => ErrorKind::Denied,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Transient,
        _ => ErrorKind::InvalidData,
    };
    let text = match (kind, scope_in(message)) {
        (ErrorKind::Denied, Some(scope)) => scope,
        _ if !code.is_empty() => format!("{code}: {message}"),
        _ if !message.is_empty() => format!("HTTP {status}: {message}"),
        _ => format!("HTTP {status}"),
    };
    Error::new(kind, text).with_status(status)
}

pub(crate) fn error_mapper() -> http::ErrorMapper {
    Arc::new(map_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn config_from_vars() {
        let c = Auth0Config::from_vars(vars(&[
            ("AUTH0_DOMAIN", "acme.eu.auth0.com"),
            ("AUTH0_CLIENT_ID", "abc"),
            ("AUTH0_CLIENT_SECRET", "s3cr3t-value"),
        ]))
        .unwrap();
        assert_eq!(c.audience().unwrap(), "https://acme.eu.auth0.com/api/v2/");
        assert!(!format!("{c:?}").contains("s3cr3t-value"));
        let custom = Auth0Config::from_vars(vars(&[
            ("AUTH0_DOMAIN", "login.acme.com"),
            ("AUTH0_CLIENT_ID", "abc"),
            ("AUTH0_CLIENT_SECRET", "x"),
            ("AUTH0_AUDIENCE", "https://acme.eu.auth0.com/api/v2/"),
            ("AUTH0_RATE_SCALE", "10"),
        ]))
        .unwrap();
        assert_eq!(
            custom.audience().unwrap(),
            "https://acme.eu.auth0.com/api/v2/"
        );
        assert_eq!(custom.rate_limit.unwrap().refill, 160.0);
        for bad in [
            vec![("AUTH0_CLIENT_ID", "abc"), ("AUTH0_CLIENT_SECRET", "x")],
            vec![
                ("AUTH0_DOMAIN", "a.auth0.com"),
                ("AUTH0_CLIENT_SECRET", "x"),
            ],
            vec![("AUTH0_DOMAIN", "a.auth0.com"), ("AUTH0_CLIENT_ID", "abc")],
            vec![
                ("AUTH0_DOMAIN", "a.auth0.com"),
                ("AUTH0_CLIENT_ID", "abc"),
                ("AUTH0_CLIENT_SECRET", "x"),
                ("AUTH0_PRIVATE_KEY", "pem"),
            ],
            vec![
                ("AUTH0_DOMAIN", "a.auth0.com"),
                ("AUTH0_CLIENT_ID", "abc"),
                ("AUTH0_PRIVATE_KEY_FILE", "/nonexistent/key.pem"),
            ],
            vec![
                ("AUTH0_DOMAIN", "a.auth0.com"),
                ("AUTH0_CLIENT_ID", "abc"),
                ("AUTH0_CLIENT_SECRET", "x"),
                ("AUTH0_RATE_SCALE", "-1"),
            ],
        ] {
            let err = Auth0Config::from_vars(vars(&bad)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{bad:?}");
        }
    }

    #[test]
    fn scopes_are_read_from_messages() {
        assert_eq!(
            scope_in("Insufficient scope, expected any of: read:client_grants").as_deref(),
            Some("read:client_grants")
        );
        assert_eq!(
            scope_in("Insufficient scope; expected: update:roles.").as_deref(),
            Some("update:roles")
        );
        assert_eq!(scope_in("Not Found"), None);
        let e = map_error(
            403,
            &HeaderMap::new(),
            br#"{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: read:client_grants","errorCode":"insufficient_scope"}"#,
        );
        assert_eq!(e.kind(), ErrorKind::Denied);
        assert_eq!(e.message(), "read:client_grants");
        let e = map_error(
            403,
            &HeaderMap::new(),
            br#"{"statusCode":403,"error":"Forbidden","message":"Please upgrade your subscription to use bot detection"}"#,
        );
        assert_eq!(e.kind(), ErrorKind::Unsupported);
    }
}
