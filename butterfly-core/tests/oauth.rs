//! The shared OAuth 2.0 client-credentials hook against a loopback token server: the client
//! assertion's claims and headers, the form fields, caching, refresh after a 401, grants,
//! typed refusals, and that neither `Debug` nor an error ever shows the secret or the key.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use butterfly_core::http::oauth::{self, JWT_BEARER};
use butterfly_core::http::{
    AuthHook, ClientAssertion, ClientAuth, ClientCredentialsAuth, HttpClient, RetryConfig,
};
use butterfly_core::{Error, ErrorKind};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

/// A throwaway RSA 2048 key generated with `openssl genrsa` for these tests only; it protects
/// nothing.
const TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----\n\
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDJXR8sT14bnuMA\n\
BmKD343cevQM0lfEaGfndr4U1687gEZuqTSx6tBcvGGX9XI4dVbON2Ia4cHn283f\n\
L1DOL5npiUle1Et+VW7Z+IZQmR2kHCc7gEXqpAPDMS85+N4GwU4+U0uoQ96m6epi\n\
EXfO0yUaF24G6BgqNAlsfsAlRQW1Qr/dqchrkDlzpWn/nILF2pRLrJYYMGdBRVdt\n\
fZcGNXXcnPD25qpiig1z44M6HDlGERlk1e8IASvgqyqPriMTmREBQBsEQtzfkZ0P\n\
iQyuO5UvXdH6QjvFicS8hyd0or2U9X6z96W0Z3ADfSvlAUynZ4l5n38e9zbsYWig\n\
g3grV+HpAgMBAAECggEAAf1mNpZBsjDtohVOEarKwHYkFYDaHm4gMbq8CeFwQTyl\n\
JYiNRWFSRgpUBhAGPQ3WyeKk+OpIc+G5jPYvHJx+jz7cr1/Wb6UJO4Tv0dnTf8jJ\n\
7/X2aulMQrholLBzhDpSiz3gOmVSTNC0sNumlRAD1rhKzW1reLZLLgvqGuwt0GLY\n\
HPl+28wqHIMY9RfyBC5LcKBIlMqgQtrFdUaJBV0eyof0tmH5md7tUQjxEue+QMZp\n\
HU1aVFnWQu4ipcCPRMafVSujN++C47/d14abkV/UqXASqqL8w7i0uKXWQbRynBik\n\
xhQl229HFr/ks85cK4hpR1L79pZ3Iw9z6sWJOtDEwQKBgQDlc/feMzBFqG/lxw9R\n\
UBv5nt/xFp6dTD+Q79GTEbfecCPlZ5eHiJTub4pMBuVaDKZJcpmTCCiej74wHig5\n\
Mf/r1odmkfP0GUym71CrCkxd+to6GyA/k3ZTrQCbx2+MBj08bAZrRoABG4obXVkz\n\
oSiX0cDDc5BGw0GZ1O0EqHtLKQKBgQDgqTHoIL9A2uOBeiilrMO+oNozO0x+UOot\n\
10HckJMS1772+Dvr6uT9CXvopayB1Ge+OOgo7SbsYG6m+5him9K3QloTohjS1OSG\n\
GoIqNT5oXLECqlmcpoArTN8UO58VFEb185QppXA+bDsGxDXRnjPzSsYpL5sHE8rg\n\
8HeRkAF4wQKBgBZSugK8KC4evQQ14Z+fk5ktg8wIz1WuXWDUdCdCygiyEEv5UBy3\n\
hQXNhD7xTM79/A+ZPqe3W3xRr8cup+somiVvsayg9oMBExwKnGaHkfZyuVh92x1U\n\
U2bAphaByLBuyvZd7CHzsfBppX4UDuGfBDwBBCf/zkGULYWx2X1ihtxBAoGAaEiB\n\
fwO8Y0l3s4FV3tmcHx+hSYisEDJVEaRK0SxW6Lc20IMXpYHqez5swugsdDN5WIYn\n\
1d+HYs+8bUx6RsOYAzMMhvKGXU8vKMSjSR5f8qecDuWuJRXwhqjvIAAw7uLzsXU4\n\
gEBoIsGwgIqRhNTPvo4l/7Y2Wwmn8dQNXIcg98ECgYBcVNzAOuDnAtXLx9yHPuc6\n\
u0oSz4wc8s6iZRJGocnlkbVbIw52ZzjLV1qSOwi944dsL8M6za+s0MYlOVrXbh44\n\
eibsQUalPEowZZHQ+8M4AL2pfW3Ax15us9NH9UxZAcmZZPgcoWIQQe7RkJydMMOG\n\
1LQpBrJxcpgJM8udpHjRCA==\n\
-----END PRIVATE KEY-----";
const TEST_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----\n\
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAyV0fLE9eG57jAAZig9+N\n\
3Hr0DNJXxGhn53a+FNevO4BGbqk0serQXLxhl/VyOHVWzjdiGuHB59vN3y9Qzi+Z\n\
6YlJXtRLflVu2fiGUJkdpBwnO4BF6qQDwzEvOfjeBsFOPlNLqEPepunqYhF3ztMl\n\
GhduBugYKjQJbH7AJUUFtUK/3anIa5A5c6Vp/5yCxdqUS6yWGDBnQUVXbX2XBjV1\n\
3Jzw9uaqYooNc+ODOhw5RhEZZNXvCAEr4Ksqj64jE5kRAUAbBELc35GdD4kMrjuV\n\
L13R+kI7xYnEvIcndKK9lPV+s/eltGdwA30r5QFMp2eJeZ9/Hvc27GFooIN4K1fh\n\
6QIDAQAB\n\
-----END PUBLIC KEY-----";

/// The client secret every test plants; no Debug output or error may contain it.
const SECRET: &str = "SECRET-client-secret";

/// A token request as the server saw it: headers (lowercase name → value) and form fields.
type TokenRequest = (BTreeMap<String, String>, BTreeMap<String, String>);

/// What the loopback server saw and will answer.
#[derive(Default)]
struct Server {
    /// Each token request.
    token_requests: Mutex<Vec<TokenRequest>>,
    /// Replies to send instead of a fresh token, in order.
    replies: Mutex<VecDeque<(u16, Value)>>,
    /// Tokens the API refuses with a 401.
    revoked: Mutex<Vec<String>>,
    /// Tokens issued so far.
    issued: AtomicUsize,
    /// The `Authorization` values the API saw.
    api_calls: Mutex<Vec<String>>,
}

impl Server {
    fn token_requests(&self) -> Vec<TokenRequest> {
        self.token_requests.lock().unwrap().clone()
    }

    fn reply(&self, status: u16, body: Value) {
        self.replies.lock().unwrap().push_back((status, body));
    }
}

async fn token(
    State(s): State<Arc<Server>>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, Json<Value>) {
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let form = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    s.token_requests.lock().unwrap().push((headers, form));
    if let Some((status, body)) = s.replies.lock().unwrap().pop_front() {
        return (StatusCode::from_u16(status).unwrap(), Json(body));
    }
    let n = s.issued.fetch_add(1, Ordering::SeqCst) + 1;
    (
        StatusCode::OK,
        Json(json!({
            "access_token": format!("tok-{n}"),
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "read:users read:groups",
        })),
    )
}

async fn api(State(s): State<Arc<Server>>, headers: HeaderMap) -> (StatusCode, Json<Value>) {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    s.api_calls.lock().unwrap().push(auth.clone());
    let token = auth.strip_prefix("Bearer ").unwrap_or("");
    if token.is_empty() || s.revoked.lock().unwrap().iter().any(|t| t == token) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_token"})),
        );
    }
    (StatusCode::OK, Json(json!({"ok": true})))
}

/// Starts the server on 127.0.0.1: `{base}token` issues tokens, `{base}api` checks them.
async fn serve() -> (String, Arc<Server>) {
    let state = Arc::new(Server::default());
    let app = Router::new()
        .route("/token", post(token))
        .route("/api", get(api))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, state)
}

fn secret() -> SecretString {
    SecretString::from(SECRET.to_string())
}

fn assertion() -> ClientAssertion {
    ClientAssertion::from_rsa_pem(&SecretString::from(TEST_KEY.to_string())).unwrap()
}

fn client(base: &str, auth: Arc<ClientCredentialsAuth>) -> HttpClient {
    HttpClient::builder(base)
        .auth(auth)
        .retry(RetryConfig {
            max_retries: 2,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
        })
        .build()
        .unwrap()
}

/// The verified claims and header of a client assertion signed with the test key.
fn verify(assertion: &str, audience: &str) -> (Value, jsonwebtoken::Header) {
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(TEST_PUBLIC_KEY.as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "sub", "aud"]);
    let data = jsonwebtoken::decode::<Value>(assertion, &key, &validation).unwrap();
    (data.claims, data.header)
}

/// Every text a caller could print about a hook and an error.
fn shown(auth: &ClientCredentialsAuth, err: &Error) -> String {
    format!("{auth:?} {err} {err:?}")
}

fn assert_hidden(text: &str) {
    assert!(!text.contains("SECRET"), "{text}");
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    // A line of the key's base64 body.
    assert!(
        !text.contains(&TEST_KEY.lines().nth(3).unwrap()[..40]),
        "{text}"
    );
}

#[tokio::test]
async fn private_key_jwt_signs_an_assertion_with_the_claims_and_headers() {
    let (base, server) = serve().await;
    let token_url = format!("{base}token");
    let auth = ClientCredentialsAuth::new(
        "Example",
        &token_url,
        "client-1",
        ClientAuth::PrivateKeyJwt(
            assertion()
                .key_id(Some("key-7".into()))
                .header_field("x5t", "thumb-print_x5t"),
        ),
    )
    .param("scope", "okta.users.read okta.groups.read");
    let http = reqwest::Client::new();
    let value = auth.authorization(&http).await.unwrap();
    assert_eq!(value.expose_secret(), "Bearer tok-1");
    auth.invalidate();
    auth.authorization(&http).await.unwrap();

    let requests = server.token_requests();
    assert_eq!(requests.len(), 2);
    let (headers, form) = &requests[0];
    assert!(!headers.contains_key("authorization"), "{headers:?}");
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["client_id"], "client-1");
    assert_eq!(form["scope"], "okta.users.read okta.groups.read");
    assert_eq!(form["client_assertion_type"], JWT_BEARER);
    assert!(!form.contains_key("client_secret"));

    // The audience defaults to the token endpoint, and the signature verifies with the key.
    let (claims, header) = verify(&form["client_assertion"], &token_url);
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), Some("key-7"));
    assert_eq!(header.x5t.as_deref(), Some("thumb-print_x5t"));
    assert_eq!(claims["iss"], "client-1");
    assert_eq!(claims["sub"], "client-1");
    assert_eq!(claims["aud"], token_url.as_str());
    let iat = claims["iat"].as_u64().unwrap();
    assert_eq!(claims["nbf"].as_u64(), Some(iat));
    assert_eq!(claims["exp"].as_u64(), Some(iat + 300), "default lifetime");
    let jti = claims["jti"].as_str().unwrap();
    assert_eq!(jti.len(), 32);
    assert!(jti.chars().all(|c| c.is_ascii_hexdigit()));
    // Each exchange signs a fresh assertion: servers refuse a replayed jti.
    let (again, _) = verify(&requests[1].1["client_assertion"], &token_url);
    assert_ne!(again["jti"], claims["jti"]);
}

#[tokio::test]
async fn the_assertion_audience_lifetime_and_extra_header_fields_are_the_providers() {
    let (base, server) = serve().await;
    let auth = ClientCredentialsAuth::new(
        "Example",
        format!("{base}token"),
        "client-2",
        ClientAuth::PrivateKeyJwt(
            assertion()
                .key_id(None)
                .audience("https://tenant.example/")
                .lifetime(Duration::from_secs(60))
                .header_field("x-custom", "v"),
        ),
    )
    .param("audience", "https://tenant.example/api/v2/");
    auth.authorization(&reqwest::Client::new()).await.unwrap();
    let (_, form) = &server.token_requests()[0];
    assert_eq!(form["audience"], "https://tenant.example/api/v2/");
    let (claims, header) = verify(&form["client_assertion"], "https://tenant.example/");
    assert_eq!(header.kid, None);
    assert_eq!(
        header.extras.get::<String>("x-custom").unwrap().as_deref(),
        Some("v")
    );
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        60
    );
}

#[tokio::test]
async fn client_secret_post_puts_the_secret_in_the_form() {
    let (base, server) = serve().await;
    let auth = ClientCredentialsAuth::new(
        "Example",
        format!("{base}token"),
        "client-3",
        ClientAuth::SecretPost(secret()),
    )
    .param("scope", "https://graph.example/.default");
    auth.authorization(&reqwest::Client::new()).await.unwrap();
    let (headers, form) = &server.token_requests()[0];
    assert!(!headers.contains_key("authorization"));
    assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["client_id"], "client-3");
    assert_eq!(form["client_secret"], SECRET);
    assert_eq!(form["scope"], "https://graph.example/.default");
    assert!(!form.contains_key("client_assertion"));
}

#[tokio::test]
async fn client_secret_basic_puts_the_form_encoded_pair_in_the_header() {
    let (base, server) = serve().await;
    let auth = ClientCredentialsAuth::new(
        "Example",
        format!("{base}token"),
        "client:1",
        ClientAuth::SecretBasic(SecretString::from("SECRET basic".to_string())),
    );
    auth.authorization(&reqwest::Client::new()).await.unwrap();
    let (headers, form) = &server.token_requests()[0];
    // base64("client%3A1:SECRET+basic"): RFC 6749 §2.3.1 form-encodes both parts first.
    assert_eq!(
        headers["authorization"],
        "Basic Y2xpZW50JTNBMTpTRUNSRVQrYmFzaWM="
    );
    assert_eq!(form["grant_type"], "client_credentials");
    assert!(!form.contains_key("client_id"));
    assert!(!form.contains_key("client_secret"));
}

#[tokio::test]
async fn one_token_serves_many_requests() {
    let (base, server) = serve().await;
    let auth = Arc::new(ClientCredentialsAuth::new(
        "Example",
        format!("{base}token"),
        "client-4",
        ClientAuth::SecretPost(secret()),
    ));
    let c = client(&base, auth);
    let calls = (0..20).map(|_| c.get("api"));
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    c.get("api").await.unwrap();
    assert_eq!(
        server.token_requests().len(),
        1,
        "concurrent callers share one exchange"
    );
    let seen = server.api_calls.lock().unwrap().clone();
    assert_eq!(seen.len(), 21);
    assert!(seen.iter().all(|a| a == "Bearer tok-1"));
}

#[tokio::test]
async fn a_401_drops_the_token_and_the_retry_uses_a_new_one() {
    let (base, server) = serve().await;
    let auth = Arc::new(ClientCredentialsAuth::new(
        "Example",
        format!("{base}token"),
        "client-5",
        ClientAuth::PrivateKeyJwt(assertion()),
    ));
    let c = client(&base, auth);
    c.get("api").await.unwrap();
    server.revoked.lock().unwrap().push("tok-1".into());
    c.get("api").await.unwrap();
    c.get("api").await.unwrap();
    assert_eq!(
        server.token_requests().len(),
        2,
        "one refresh after the 401"
    );
    let seen = server.api_calls.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            "Bearer tok-1",
            "Bearer tok-1",
            "Bearer tok-2",
            "Bearer tok-2"
        ]
    );
}

#[tokio::test]
async fn the_lifetime_comes_from_expires_in() {
    let (base, server) = serve().await;
    let auth = ClientCredentialsAuth::new(
        "Example",
        format!("{base}token"),
        "client-6",
        ClientAuth::SecretPost(secret()),
    );
    let http = reqwest::Client::new();
    // Thirty seconds (as a string, as some servers send it) is inside the refresh margin.
    server.reply(200, json!({"access_token": "short", "expires_in": "30"}));
    assert_eq!(
        auth.authorization(&http).await.unwrap().expose_secret(),
        "Bearer short"
    );
    // Without expires_in the token is kept for an hour.
    server.reply(200, json!({"access_token": "long"}));
    assert_eq!(
        auth.authorization(&http).await.unwrap().expose_secret(),
        "Bearer long"
    );
    assert_eq!(
        auth.authorization(&http).await.unwrap().expose_secret(),
        "Bearer long"
    );
    assert_eq!(server.token_requests().len(), 2);
}

#[tokio::test]
async fn granted_permissions_are_read_from_the_token_response() {
    let (base, server) = serve().await;
    let auth = ClientCredentialsAuth::new(
        "Example",
        format!("{base}token"),
        "client-7",
        ClientAuth::SecretPost(secret()),
    )
    .grants(Arc::new(oauth::scope_grants));
    assert_eq!(auth.granted(), None, "nothing before the first token");
    let http = reqwest::Client::new();
    auth.authorization(&http).await.unwrap();
    assert_eq!(
        auth.granted(),
        Some(vec!["read:users".to_string(), "read:groups".to_string()])
    );
    // A response that does not say keeps the last known grants.
    server.reply(200, json!({"access_token": "t", "expires_in": 3600}));
    auth.invalidate();
    auth.authorization(&http).await.unwrap();
    assert_eq!(auth.granted().map(|g| g.len()), Some(2));
    // A provider reader can look anywhere in the response (Entra reads the token's claims).
    let custom = ClientCredentialsAuth::new(
        "Example",
        format!("{base}token"),
        "client-7",
        ClientAuth::SecretPost(secret()),
    )
    .grants(Arc::new(|r: &Value| {
        Some(vec![r["token_type"].as_str()?.to_string()])
    }));
    custom.authorization(&http).await.unwrap();
    assert_eq!(custom.granted(), Some(vec!["Bearer".to_string()]));
}

#[tokio::test]
async fn token_endpoint_refusals_are_typed_and_never_quote_the_secret() {
    let (base, server) = serve().await;
    let auth = ClientCredentialsAuth::new(
        "Example",
        format!("{base}token"),
        "client-8",
        ClientAuth::SecretPost(secret()),
    );
    let http = reqwest::Client::new();
    let cases = [
        (
            401,
            json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x\r\nCorrelation ID: y"}),
            ErrorKind::Auth,
            "the Example token endpoint refused the client credentials: AADSTS7000215: Invalid client secret provided.",
        ),
        (
            400,
            json!({"error": "invalid_client"}),
            ErrorKind::Auth,
            "the Example token endpoint refused the client credentials: invalid_client",
        ),
        (
            403,
            json!("not an object"),
            ErrorKind::Auth,
            "the Example token endpoint refused the client credentials: no reason given",
        ),
        (
            429,
            json!({"error": "too_many_requests"}),
            ErrorKind::RateLimited,
            "the Example token endpoint refused the client credentials: too_many_requests",
        ),
        (
            503,
            json!({}),
            ErrorKind::Transient,
            "the Example token endpoint refused the client credentials: no reason given",
        ),
        (
            200,
            json!({"token_type": "Bearer"}),
            ErrorKind::InvalidData,
            "the Example token response has no access_token",
        ),
    ];
    for (status, body, kind, message) in cases {
        server.reply(status, body);
        let err = auth.authorization(&http).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{status}: {err}");
        assert_eq!(err.message(), message);
        if status != 200 {
            assert_eq!(err.status(), Some(status));
        }
        assert_hidden(&shown(&auth, &err));
    }
    // A provider may map refusals itself.
    let mapped = ClientCredentialsAuth::new(
        "Example",
        format!("{base}token"),
        "client-8",
        ClientAuth::SecretPost(secret()),
    )
    .error_mapper(Arc::new(|status, body: &Value| {
        Error::new(ErrorKind::Config, format!("{status} {}", body["error"]))
    }));
    server.reply(400, json!({"error": "unauthorized_client"}));
    let err = mapped.authorization(&http).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert_eq!(err.message(), "400 \"unauthorized_client\"");
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_transient() {
    // A port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let auth = ClientCredentialsAuth::new(
        "Example",
        format!("http://{addr}/token"),
        "client-9",
        ClientAuth::PrivateKeyJwt(assertion()),
    );
    let err = auth
        .authorization(&reqwest::Client::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(err.message(), "cannot reach the Example token endpoint");
    assert!(
        !err.to_string().contains("/token"),
        "no URL in the error: {err}"
    );
    assert_hidden(&shown(&auth, &err));
}

#[test]
fn debug_never_shows_the_secret_or_the_key() {
    for auth in [
        ClientAuth::SecretPost(secret()),
        ClientAuth::SecretBasic(secret()),
        ClientAuth::PrivateKeyJwt(assertion().key_id(Some("kid-1".into()))),
    ] {
        let method = auth.method();
        let hook = ClientCredentialsAuth::new("Example", "https://idp.example/token", "c", auth)
            .param("scope", "read");
        let text = format!("{hook:?}");
        assert!(text.contains(method) && text.contains("redacted"), "{text}");
        assert_hidden(&text);
    }
    let text = format!("{:?}", assertion());
    assert!(text.contains("RS256"), "{text}");
    assert_hidden(&text);
}

#[test]
fn a_bad_key_is_a_config_error_that_does_not_quote_it() {
    for pem in [
        "-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----",
        "SECRET",
        "",
    ] {
        let err = ClientAssertion::from_rsa_pem(&SecretString::from(pem.to_string())).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert_hidden(&format!("{err} {err:?}"));
    }
}
