//! The OAuth 2.0 client-credentials grant (RFC 6749 §4.4) as an [`AuthHook`], once for every
//! provider: the client authenticates with a secret (`client_secret_post` or
//! `client_secret_basic`) or a signed client assertion (`private_key_jwt`, RFC 7523), the token
//! is cached until shortly before it expires, and a 401 drops it.
//!
//! A provider supplies only what differs: the token endpoint, the client id, extra form fields
//! (`scope`, `audience`), assertion claims and headers (`aud`, `kid`, `x5t`), how to read the
//! granted permissions, and, when it must, how to map a token-endpoint refusal.
//!
//! ```no_run
//! use std::sync::Arc;
//! use butterfly_core::http::{ClientAssertion, ClientAuth, ClientCredentialsAuth, HttpClient};
//! use secrecy::SecretString;
//!
//! # fn main() -> butterfly_core::Result<()> {
//! let pem = SecretString::from(std::fs::read_to_string("key.pem").unwrap());
//! let assertion = ClientAssertion::from_rsa_pem(&pem)?.key_id(Some("key-1".into()));
//! let auth = ClientCredentialsAuth::new(
//!     "Okta",
//!     "https://acme.okta.com/oauth2/v1/token",
//!     "0oa-client-id",
//!     ClientAuth::PrivateKeyJwt(assertion),
//! )
//! .param("scope", "okta.users.read okta.groups.read");
//! let client = HttpClient::builder("https://acme.okta.com/").auth(Arc::new(auth)).build()?;
//! # let _ = client;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::auth::{AuthHook, TokenCache};
use crate::error::{Error, ErrorKind, Result};

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a token lives when the response does not say (`expires_in` is only RECOMMENDED).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Maps a refusal of the token endpoint (status and parsed JSON body, `Null` when not JSON)
/// to an error. The message must not quote the request, which holds the credential.
pub type TokenErrorMapper = Arc<dyn Fn(u16, &Value) -> Error + Send + Sync>;

/// Reads the permissions a token response grants (`None`: the response does not say, and the
/// last known grants stand).
pub type GrantReader = Arc<dyn Fn(&Value) -> Option<Vec<String>> + Send + Sync>;

/// How the client proves its identity to the token endpoint.
#[non_exhaustive]
pub enum ClientAuth {
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    SecretPost(SecretString),
    /// `client_secret_basic`: the id and secret in an HTTP Basic `Authorization` header.
    SecretBasic(SecretString),
    /// `private_key_jwt`: a client assertion signed with the client's private key.
    PrivateKeyJwt(ClientAssertion),
}

impl ClientAuth {
    /// The RFC 7591 name of the method (`client_secret_post`, `private_key_jwt`, ...).
    pub fn method(&self) -> &'static str {
        match self {
            ClientAuth::SecretPost(_) => "client_secret_post",
            ClientAuth::SecretBasic(_) => "client_secret_basic",
            ClientAuth::PrivateKeyJwt(_) => "private_key_jwt",
        }
    }
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientAuth::SecretPost(_) | ClientAuth::SecretBasic(_) => f
                .debug_struct("ClientAuth")
                .field("method", &self.method())
                .field("secret", &"[redacted]")
                .finish(),
            ClientAuth::PrivateKeyJwt(assertion) => f
                .debug_struct("ClientAuth")
                .field("method", &self.method())
                .field("assertion", assertion)
                .finish(),
        }
    }
}

/// The signing side of `private_key_jwt`: a private key, the JWT header fields that name it,
/// and the assertion's audience and lifetime. Claims are `iss` = `sub` = the client id, `aud`,
/// `iat`, `nbf`, `exp` and a random `jti`; the algorithm is RS256.
pub struct ClientAssertion {
    key: EncodingKey,
    // Boxed: a JWT header is large, and it sits inside every `ClientAuth`.
    header: Box<Header>,
    audience: Option<String>,
    lifetime: Duration,
}

impl fmt::Debug for ClientAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAssertion")
            .field("key", &"[redacted]")
            .field("alg", &self.header.alg)
            .field("kid", &self.header.kid)
            .field("x5t", &self.header.x5t)
            .field("audience", &self.audience)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

impl ClientAssertion {
    /// An RS256 assertion signed with an RSA key in PEM (PKCS#1 or PKCS#8; a PEM that also
    /// holds the certificate works). The error never quotes the key.
    pub fn from_rsa_pem(pem: &SecretString) -> Result<ClientAssertion> {
        let key = EncodingKey::from_rsa_pem(pem.expose_secret().as_bytes())
            .map_err(|_| Error::config("the private key is not a valid RSA PEM key"))?;
        Ok(ClientAssertion {
            key,
            header: Box::new(Header::new(Algorithm::RS256)),
            audience: None,
            lifetime: Duration::from_secs(300),
        })
    }

    /// Names the registered key in the `kid` header.
    #[must_use]
    pub fn key_id(self, key_id: Option<String>) -> ClientAssertion {
        match key_id {
            Some(kid) => self.header_field("kid", kid),
            None => self,
        }
    }

    /// Sets a JWT header field: `kid`, `x5t` (a certificate's SHA-1 thumbprint, base64url),
    /// `x5t#S256`, `x5u`, `jku`, `typ`, `cty`, or any other name as a string field.
    #[must_use]
    pub fn header_field(mut self, name: &str, value: impl Into<String>) -> ClientAssertion {
        let value = value.into();
        let h = &mut self.header;
        match name {
            "kid" => h.kid = Some(value),
            "x5t" => h.x5t = Some(value),
            "x5t#S256" => h.x5t_s256 = Some(value),
            "x5u" => h.x5u = Some(value),
            "jku" => h.jku = Some(value),
            "typ" => h.typ = Some(value),
            "cty" => h.cty = Some(value),
            // `alg` is fixed by the key; other registered fields are not strings.
            "alg" | "x5c" | "jwk" | "crit" => {}
            other => h.extras.insert(other, value),
        }
        self
    }

    /// The `aud` claim; default: the token endpoint's URL.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> ClientAssertion {
        self.audience = Some(audience.into());
        self
    }

    /// How long the assertion is valid (`exp` − `iat`); default five minutes.
    #[must_use]
    pub fn lifetime(mut self, lifetime: Duration) -> ClientAssertion {
        self.lifetime = lifetime;
        self
    }

    /// A freshly signed assertion for `client_id`, with `aud` defaulting to `token_url`.
    pub fn sign(&self, client_id: &str, token_url: &str) -> Result<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": self.audience.as_deref().unwrap_or(token_url),
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime.as_secs(),
            // A fresh id per assertion: servers refuse a replayed jti.
            "jti": format!("{:032x}", rand::random::<u128>()),
        });
        jsonwebtoken::encode(&self.header, &claims, &self.key)
            .map_err(|_| Error::config("cannot sign the client assertion"))
    }
}

/// The permissions in the standard `scope` field of a token response (RFC 6749 §5.1),
/// space-separated; `None` when the response has none.
pub fn scope_grants(response: &Value) -> Option<Vec<String>> {
    let scope = response.get("scope")?.as_str()?;
    Some(scope.split_whitespace().map(str::to_string).collect())
}

/// The shared mapping of a token-endpoint refusal: 429 is `RateLimited`, 5xx `Transient`,
/// anything else `Auth`; the message names the service and gives the first line of the
/// server's `error_description` (or its `error` code), never the request.
pub fn token_error(service: &str, status: u16, body: &Value) -> Error {
    let kind = match status {
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Transient,
        _ => ErrorKind::Auth,
    };
    // Entra's description runs on with trace and correlation ids; its first line names the
    // AADSTS code and the reason.
    let reason = body
        .get("error_description")
        .or(body.get("error"))
        .and_then(Value::as_str)
        .and_then(|s| s.lines().next())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or("no reason given");
    Error::new(
        kind,
        format!("the {service} token endpoint refused the client credentials: {reason}"),
    )
    .with_status(status)
}

/// The client-credentials [`AuthHook`]: exchanges the client's credential for a bearer token
/// at the token endpoint, caches it until a minute before it expires (concurrent callers share
/// one exchange), drops it after a 401, and remembers the permissions the last token granted.
pub struct ClientCredentialsAuth {
    service: String,
    token_url: String,
    client_id: String,
    auth: ClientAuth,
    params: Vec<(String, String)>,
    cache: TokenCache,
    grants: Option<GrantReader>,
    granted: Mutex<Option<Vec<String>>>,
    map_error: Option<TokenErrorMapper>,
}

impl fmt::Debug for ClientCredentialsAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params: Vec<&str> = self.params.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ClientCredentialsAuth")
            .field("service", &self.service)
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("auth", &self.auth)
            .field("params", &params)
            .finish()
    }
}

impl ClientCredentialsAuth {
    /// A hook for `client_id` at `token_url`; `service` names the provider in error messages
    /// ("the Okta token endpoint refused ...").
    pub fn new(
        service: impl Into<String>,
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        auth: ClientAuth,
    ) -> ClientCredentialsAuth {
        ClientCredentialsAuth {
            service: service.into(),
            token_url: token_url.into(),
            client_id: client_id.into(),
            auth,
            params: Vec::new(),
            cache: TokenCache::default(),
            grants: None,
            granted: Mutex::new(None),
            map_error: None,
        }
    }

    /// Adds a form field to the token request (`scope`, `audience`, `resource`).
    #[must_use]
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// Reads the granted permissions from each token response (see [`scope_grants`]).
    #[must_use]
    pub fn grants(mut self, reader: GrantReader) -> Self {
        self.grants = Some(reader);
        self
    }

    /// Maps token-endpoint refusals instead of [`token_error`].
    #[must_use]
    pub fn error_mapper(mut self, mapper: TokenErrorMapper) -> Self {
        self.map_error = Some(mapper);
        self
    }

    /// The permissions the last token granted, as the grant reader saw them (`None` before
    /// the first token, or without a reader).
    pub fn granted(&self) -> Option<Vec<String>> {
        self.granted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// One exchange: the token (as an `Authorization` value) and its lifetime.
    async fn exchange(&self, http: &reqwest::Client) -> Result<(SecretString, Duration)> {
        let mut form: Vec<(&str, String)> = vec![("grant_type", "client_credentials".into())];
        // With Basic the id travels in the header; a second copy in the body is refused by
        // some servers as two authentication methods.
        if !matches!(self.auth, ClientAuth::SecretBasic(_)) {
            form.push(("client_id", self.client_id.clone()));
        }
        for (k, v) in &self.params {
            form.push((k, v.clone()));
        }
        match &self.auth {
            ClientAuth::SecretPost(secret) => {
                form.push(("client_secret", secret.expose_secret().to_string()));
            }
            ClientAuth::SecretBasic(_) => {}
            ClientAuth::PrivateKeyJwt(assertion) => {
                let signed = assertion
                    .sign(&self.client_id, &self.token_url)
                    .map_err(|_| {
                        Error::config(format!("cannot sign the {} client assertion", self.service))
                    })?;
                form.push(("client_assertion_type", JWT_BEARER.into()));
                form.push(("client_assertion", signed));
            }
        }
        let mut request = http
            .post(&self.token_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form);
        if let ClientAuth::SecretBasic(secret) = &self.auth {
            // RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            request = request.basic_auth(enc(&self.client_id), Some(enc(secret.expose_secret())));
        }
        let resp = request.send().await.map_err(|e| {
            Error::new(
                ErrorKind::Transient,
                format!("cannot reach the {} token endpoint", self.service),
            )
            .with_source(e.without_url())
        })?;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status != 200 {
            return Err(match &self.map_error {
                Some(map) => map(status, &body),
                None => token_error(&self.service, status, &body),
            });
        }
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::invalid_data(format!(
                    "the {} token response has no access_token",
                    self.service
                ))
            })?;
        if let Some(grants) = self.grants.as_ref().and_then(|read| read(&body)) {
            *self.granted.lock().unwrap_or_else(|p| p.into_inner()) = Some(grants);
        }
        // Some servers send `expires_in` as a string.
        let lifetime = body
            .get("expires_in")
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.trim().parse().ok()))
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TOKEN_LIFETIME);
        Ok((SecretString::from(format!("Bearer {token}")), lifetime))
    }
}

#[async_trait]
impl AuthHook for ClientCredentialsAuth {
    async fn authorization(&self, http: &reqwest::Client) -> Result<SecretString> {
        self.cache.get_or_refresh(|| self.exchange(http)).await
    }

    fn invalidate(&self) {
        self.cache.invalidate();
    }
}
