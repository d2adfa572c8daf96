//! Configuration, authentication and the one HTTP error mapping of the Entra provider.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use butterfly_core::http::{self, ClientAssertion, ClientAuth, ClientCredentialsAuth};
use butterfly_core::{Error, ErrorKind, Result};
use reqwest::header::HeaderMap;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

/// A Microsoft cloud: where Graph and the token authority live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cloud {
    /// The global service (`graph.microsoft.com`).
    #[default]
    Global,
    /// US Government L4 (GCC High): `graph.microsoft.us`.
    Usgov,
    /// US Government L5 (DoD): `dod-graph.microsoft.us`.
    UsgovDod,
    /// Microsoft Entra operated by 21Vianet: `microsoftgraph.chinacloudapi.cn`.
    China,
}

impl Cloud {
    /// Parses `global`, `usgov`, `usgov-dod` or `china`.
    pub fn parse(name: &str) -> Result<Cloud> {
        match name.trim().to_ascii_lowercase().as_str() {
            "global" | "public" | "" => Ok(Cloud::Global),
            "usgov" | "usgovernment" | "gcch" => Ok(Cloud::Usgov),
            "usgov-dod" | "dod" => Ok(Cloud::UsgovDod),
            "china" => Ok(Cloud::China),
            other => Err(Error::config(format!(
                "unknown ENTRA_CLOUD {other:?}: use global, usgov, usgov-dod or china"
            ))),
        }
    }

    /// The Graph root of the cloud (without `/v1.0`).
    pub fn graph_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://graph.microsoft.com",
            Cloud::Usgov => "https://graph.microsoft.us",
            Cloud::UsgovDod => "https://dod-graph.microsoft.us",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }

    /// The token authority of the cloud.
    pub fn authority_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::Usgov | Cloud::UsgovDod => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }
}

/// How the provider authenticates (OAuth 2.0 client credentials of an app registration).
#[derive(Clone, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum EntraAuth {
    /// A client secret.
    ClientSecret {
        /// The secret value.
        secret: SecretString,
    },
    /// A certificate: an RS256 client assertion carrying the certificate's thumbprint as `x5t`
    /// (recommended: nothing reusable ever travels).
    Certificate {
        /// PEM private key of the certificate (RSA; a PEM holding key and certificate works).
        private_key: SecretString,
        /// Thumbprint: the SHA-1 hex the portal shows, or its base64url form.
        thumbprint: String,
    },
}

impl fmt::Debug for EntraAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntraAuth::ClientSecret { .. } => f
                .debug_struct("ClientSecret")
                .field("secret", &"[redacted]")
                .finish(),
            EntraAuth::Certificate { thumbprint, .. } => f
                .debug_struct("Certificate")
                .field("private_key", &"[redacted]")
                .field("thumbprint", thumbprint)
                .finish(),
        }
    }
}

/// Settings of an Entra provider.
#[derive(Debug, Clone, Deserialize)]
pub struct EntraConfig {
    /// Directory (tenant) id, a GUID (or a verified domain).
    pub tenant_id: String,
    /// Application (client) id of the backup app.
    pub client_id: String,
    /// Credentials.
    pub auth: EntraAuth,
    /// The cloud (default global).
    #[serde(default)]
    pub cloud: Cloud,
    /// Graph root instead of the cloud's (a proxy, or a fake tenant on loopback).
    #[serde(default)]
    pub graph_url: Option<String>,
    /// Token authority instead of the cloud's.
    #[serde(default)]
    pub authority_url: Option<String>,
    /// Share of Graph's per-10-second budget to use (default 0.5).
    #[serde(default)]
    pub max_share: Option<f64>,
    /// Graph resource units per `budget_period` the client plans with (default 3,500 per
    /// 10 s, one app's identity budget in a small tenant; larger tenants get 5,000 or 8,000).
    #[serde(default)]
    pub budget: Option<u32>,
    /// The window of the budget (default 10 s; shorter for fakes whose clock runs faster).
    #[serde(default)]
    pub budget_period: Option<Duration>,
    /// A file keeping the `users/delta` and `groups/delta` cursors between runs, so a backup
    /// given the previous snapshot reads only what changed (default: cursors live in memory).
    #[serde(default)]
    pub delta_state_file: Option<std::path::PathBuf>,
}

/// The setting that points the provider at another API root (the CLI's `--base-url`): the
/// Graph root.
pub const BASE_URL_VAR: &str = "ENTRA_GRAPH_URL";

impl EntraConfig {
    /// Reads `ENTRA_*` settings through `get` (the process environment, a config table, or
    /// both): `ENTRA_TENANT_ID`, `ENTRA_CLIENT_ID`, then either `ENTRA_CLIENT_SECRET` or
    /// `ENTRA_CERTIFICATE_FILE` (or `ENTRA_CERTIFICATE` holding the PEM) with
    /// `ENTRA_CERTIFICATE_THUMBPRINT`; optional `ENTRA_CLOUD` (`global`, `usgov`, `usgov-dod`,
    /// `china`), `ENTRA_GRAPH_URL`, `ENTRA_AUTHORITY_URL`, `ENTRA_DELTA_STATE_FILE` and
    /// `ENTRA_RATE_SCALE` (for a fake tenant whose clock runs that many times faster).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<EntraConfig> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let tenant_id = get("ENTRA_TENANT_ID").ok_or_else(|| {
            Error::config(
                "ENTRA_TENANT_ID is not set: the directory (tenant) id or domain the backup app is registered in ([entra] tenant_id in a config file)",
            )
        })?;
        let client_id = get("ENTRA_CLIENT_ID").ok_or_else(|| {
            Error::config(
                "ENTRA_CLIENT_ID is not set: the application (client) id of the backup app registration ([entra] client_id in a config file)",
            )
        })?;
        let cert = get("ENTRA_CERTIFICATE").or(get("ENTRA_CERTIFICATE_FILE").map(|p| p + "\0"));
        let auth = match (get("ENTRA_CLIENT_SECRET"), cert) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "set either ENTRA_CLIENT_SECRET or ENTRA_CERTIFICATE_FILE, not both",
                ));
            }
            (Some(secret), None) => EntraAuth::ClientSecret {
                secret: SecretString::from(secret),
            },
            (None, Some(cert)) => {
                let pem = match cert.strip_suffix('\0') {
                    Some(path) => std::fs::read_to_string(path).map_err(|e| {
                        Error::config(format!("cannot read ENTRA_CERTIFICATE_FILE {path}: {e}"))
                    })?,
                    None => cert,
                };
                let thumbprint = get("ENTRA_CERTIFICATE_THUMBPRINT").ok_or_else(|| {
                    Error::config("ENTRA_CERTIFICATE_FILE needs ENTRA_CERTIFICATE_THUMBPRINT")
                })?;
                EntraAuth::Certificate {
                    private_key: SecretString::from(pem),
                    thumbprint,
                }
            }
            (None, None) => {
                return Err(Error::config(
                    "no Entra credentials: set ENTRA_CLIENT_SECRET, or ENTRA_CERTIFICATE_FILE and ENTRA_CERTIFICATE_THUMBPRINT",
                ));
            }
        };
        let cloud = match get("ENTRA_CLOUD") {
            Some(c) => Cloud::parse(&c)?,
            None => Cloud::Global,
        };
        let budget_period = match get("ENTRA_RATE_SCALE") {
            None => None,
            Some(scale) => match scale.parse::<f64>() {
                Ok(f) if f.is_finite() && f > 0.0 => Some(Duration::from_secs_f64(10.0 / f)),
                _ => return Err(Error::config("ENTRA_RATE_SCALE must be a positive number")),
            },
        };
        Ok(EntraConfig {
            tenant_id,
            client_id,
            auth,
            cloud,
            graph_url: get("ENTRA_GRAPH_URL"),
            authority_url: get("ENTRA_AUTHORITY_URL"),
            max_share: None,
            budget: None,
            budget_period,
            delta_state_file: get("ENTRA_DELTA_STATE_FILE").map(Into::into),
        })
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<EntraConfig> {
        EntraConfig::from_vars(|k| std::env::var(k).ok())
    }

    /// The Graph root (validated), with a trailing slash.
    pub fn graph_root(&self) -> Result<url::Url> {
        http::validate_base_url(self.graph_url.as_deref().unwrap_or(self.cloud.graph_url()))
    }

    /// The token endpoint (validated).
    pub fn token_url(&self) -> Result<String> {
        let authority = http::validate_base_url(
            self.authority_url
                .as_deref()
                .unwrap_or(self.cloud.authority_url()),
        )?;
        let tenant = self.tenant_id.trim();
        if tenant.is_empty()
            || !tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(Error::config(
                "ENTRA_TENANT_ID must be a GUID or a domain name",
            ));
        }
        Ok(format!("{authority}{tenant}/oauth2/v2.0/token"))
    }
}

/// Base64url without padding (JWT segments, `x5t`).
pub(crate) fn b64url(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Decodes base64url (padding and the standard alphabet tolerated); `None` when malformed.
pub(crate) fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// The `x5t` header value of a thumbprint: hex (as the portal shows it) becomes base64url of
/// the bytes; anything else is taken as already encoded.
pub fn x5t_of(thumbprint: &str) -> String {
    let t: String = thumbprint
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    if t.len() == 40 && t.chars().all(|c| c.is_ascii_hexdigit()) {
        let bytes: Vec<u8> = (0..20)
            .filter_map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).ok())
            .collect();
        b64url(&bytes)
    } else {
        t
    }
}

/// The application permissions (`roles` claim) of an access token; empty when unreadable.
pub fn token_roles(token: &str) -> Vec<String> {
    let token = token.strip_prefix("Bearer ").unwrap_or(token);
    token
        .split('.')
        .nth(1)
        .and_then(b64url_decode)
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| {
            v.get("roles").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// The client-credentials token hook: a client secret (`client_secret_post`) or an RS256
/// client assertion carrying the certificate's `x5t`, exchanged for a Graph token whose
/// `roles` claim lists the granted application permissions.
pub(crate) fn token_auth(
    config: &EntraConfig,
    graph_root: &url::Url,
) -> Result<ClientCredentialsAuth> {
    let auth = match &config.auth {
        EntraAuth::ClientSecret { secret } => ClientAuth::SecretPost(secret.clone()),
        EntraAuth::Certificate {
            private_key,
            thumbprint,
        } => ClientAuth::PrivateKeyJwt(
            ClientAssertion::from_rsa_pem(private_key)
                .map_err(|_| Error::config("the Entra certificate key is not a valid RSA PEM key"))?
                .header_field("x5t", x5t_of(thumbprint))
                .lifetime(Duration::from_secs(600)),
        ),
    };
    let roles = |response: &Value| {
        let token = response.get("access_token").and_then(Value::as_str)?;
        Some(token_roles(token))
    };
    Ok(
        ClientCredentialsAuth::new("Entra", config.token_url()?, &config.client_id, auth)
            .param(
                "scope",
                format!("{}/.default", graph_root.as_str().trim_end_matches('/')),
            )
            .grants(Arc::new(roles)),
    )
}

/// The Graph error code of an error body (`error.code`, or `error` for token errors).
pub fn error_code(body: &Value) -> &str {
    match body.get("error") {
        Some(Value::Object(e)) => e.get("code").and_then(Value::as_str).unwrap_or(""),
        Some(Value::String(s)) => s,
        _ => "",
    }
}

/// Graph's code for an expired `$skiptoken`.
pub const EXPIRED_PAGE_TOKEN: &str = "Directory_ExpiredPageToken";

fn needs_licence(code: &str, message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    code.contains("License")
        || code.contains("Licence")
        || m.contains("premium license")
        || m.contains("p2 license")
        || m.contains("valid license")
        || m.contains("license required")
}

/// The one function mapping a Graph HTTP failure to an error kind.
///
/// 401 is `Auth`; 403 is `Denied` (`Authorization_RequestDenied`), or `Unsupported` when
/// Graph says the tenant lacks the licence (PIM without Entra ID P2); 400 and 403 with a
/// licence code are `Unsupported`; 404 `NotFound`; 409 `Conflict`; 429 `RateLimited`; 5xx
/// `Transient`; other 4xx `InvalidData`. The message starts with Graph's error code
/// (`Directory_ExpiredPageToken: ...`) and never quotes anything else from the body.
pub fn map_error(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = error_code(&parsed).to_string();
    let message = parsed
        .pointer("/error/message")
        .or(parsed.get("error_description"))
        .and_then(Value::as_str)
        .and_then(|s| s.lines().next())
        .unwrap_or("")
        .to_string();
    let kind = match status {
        400 | 403 if needs_licence(&code, &message) => ErrorKind::Unsupported,
        401 => ErrorKind::Auth,
        403 => ErrorKind::Denied,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Transient,
        _ => ErrorKind::InvalidData,
    };
    let text = if code.is_empty() {
        format!("HTTP {status}")
    } else if message.is_empty() {
        code
    } else {
        format!("{code}: {message}")
    };
    let mut err = Error::new(kind, text).with_status(status);
    if let Some(wait) = http::retry_after(headers) {
        err = err.with_retry_after(wait);
    }
    err
}

pub(crate) fn error_mapper() -> http::ErrorMapper {
    Arc::new(map_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips() {
        for s in [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "{\"roles\":[\"User.Read.All\"]}",
        ] {
            assert_eq!(b64url_decode(&b64url(s.as_bytes())).unwrap(), s.as_bytes());
        }
        assert_eq!(b64url(b"\xfb\xff"), "-_8");
        assert_eq!(b64url_decode("*"), None);
    }

    #[test]
    fn thumbprints_become_x5t() {
        let hex = "0123456789abcdef0123456789ABCDEF01234567";
        let x5t = x5t_of(hex);
        assert_eq!(b64url_decode(&x5t).unwrap().len(), 20);
        assert_eq!(x5t_of("already-encoded_x5t"), "already-encoded_x5t");
    }

    #[test]
    fn roles_are_read_from_the_token() {
        let payload = b64url(br#"{"roles":["User.Read.All","Group.Read.All"]}"#);
        let token = format!("e30.{payload}.sig");
        assert_eq!(token_roles(&token), vec!["User.Read.All", "Group.Read.All"]);
        assert!(token_roles("opaque").is_empty());
    }

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn config_from_vars() {
        let cfg = EntraConfig::from_vars(vars(&[
            ("ENTRA_TENANT_ID", "contoso.onmicrosoft.com"),
            ("ENTRA_CLIENT_ID", "11111111-2222-3333-4444-555555555555"),
            ("ENTRA_CLIENT_SECRET", "SECRET-value"),
            ("ENTRA_CLOUD", "usgov"),
        ]))
        .unwrap();
        assert!(!format!("{cfg:?}").contains("SECRET"));
        assert_eq!(
            cfg.graph_root().unwrap().as_str(),
            "https://graph.microsoft.us/"
        );
        assert_eq!(
            cfg.token_url().unwrap(),
            "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        let both = EntraConfig::from_vars(vars(&[
            ("ENTRA_TENANT_ID", "t"),
            ("ENTRA_CLIENT_ID", "c"),
            ("ENTRA_CLIENT_SECRET", "s"),
            ("ENTRA_CERTIFICATE", "pem"),
        ]))
        .unwrap_err();
        assert_eq!(both.kind(), ErrorKind::Config);
        let no_thumbprint = EntraConfig::from_vars(vars(&[
            ("ENTRA_TENANT_ID", "t"),
            ("ENTRA_CLIENT_ID", "c"),
            ("ENTRA_CERTIFICATE", "-----BEGIN PRIVATE KEY-----SECRET"),
        ]))
        .unwrap_err();
        assert!(no_thumbprint.to_string().contains("THUMBPRINT"));
        assert!(!no_thumbprint.to_string().contains("SECRET"));
        let none =
            EntraConfig::from_vars(vars(&[("ENTRA_TENANT_ID", "t"), ("ENTRA_CLIENT_ID", "c")]))
                .unwrap_err();
        assert!(none.to_string().contains("ENTRA_CLIENT_SECRET"));
        let missing = EntraConfig::from_vars(vars(&[])).unwrap_err();
        assert!(missing.to_string().contains("ENTRA_TENANT_ID"));
        let bad_tenant = EntraConfig::from_vars(vars(&[
            ("ENTRA_TENANT_ID", "../evil"),
            ("ENTRA_CLIENT_ID", "c"),
            ("ENTRA_CLIENT_SECRET", "s"),
        ]))
        .unwrap();
        assert_eq!(
            bad_tenant.token_url().unwrap_err().kind(),
            ErrorKind::Config
        );
        let http = EntraConfig::from_vars(vars(&[
            ("ENTRA_TENANT_ID", "t"),
            ("ENTRA_CLIENT_ID", "c"),
            ("ENTRA_CLIENT_SECRET", "s"),
            ("ENTRA_GRAPH_URL", "http://graph.example.invalid"),
        ]))
        .unwrap();
        assert_eq!(http.graph_root().unwrap_err().kind(), ErrorKind::Config);
    }

    #[test]
    fn clouds_and_urls() {
        assert_eq!(
            Cloud::parse("usgov-dod").unwrap().graph_url(),
            "https://dod-graph.microsoft.us"
        );
        assert_eq!(Cloud::parse("china").unwrap(), Cloud::China);
        assert!(Cloud::parse("mars").is_err());
    }
}
