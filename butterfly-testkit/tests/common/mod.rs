//! HTTP helpers shared by the fake tenants' tests: tokens from the fakes' token endpoints and
//! one request helper. Each test binary uses only some of them.
#![allow(dead_code)]

use std::io::Read;

use butterfly_testkit::auth0::FakeAuth0;
use butterfly_testkit::entra::FakeEntra;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// A Management API token from the fake Auth0 tenant's client-credentials grant.
pub async fn auth0_token(fake: &FakeAuth0) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{}/oauth/token", fake.base_url()))
        .json(&json!({"grant_type": "client_credentials", "client_id": fake.client_id(), "client_secret": fake.client_secret(), "audience": fake.audience()}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// The fake Entra tenant's v2.0 token endpoint.
pub fn entra_token_url(fake: &FakeEntra) -> String {
    format!("{}/{}/oauth2/v2.0/token", fake.base_url(), fake.tenant_id())
}

/// A Graph token from the fake Entra tenant's client-credentials grant (a client secret).
pub async fn entra_token(fake: &FakeEntra) -> String {
    let resp = reqwest::Client::new()
        .post(entra_token_url(fake))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", fake.client_id()),
            ("client_secret", fake.client_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    body["access_token"].as_str().unwrap().to_string()
}

/// Sends `method url` with the bearer `token` (and `body` as JSON when given): the status, the
/// headers and the JSON body (`null` when the body is not JSON).
pub async fn request(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    token: &str,
    body: Option<&Value>,
) -> (u16, HeaderMap, Value) {
    let mut req = client.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(body);
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    (status, headers, resp.json().await.unwrap_or(Value::Null))
}

/// Downloads `url` (no token) and gunzips it into text.
pub async fn gunzipped(url: &str) -> String {
    let gz = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .unwrap();
    text
}
