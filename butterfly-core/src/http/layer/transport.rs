//! The transport: builds the `reqwest` request, sends it and reads the whole body. Every
//! status comes back as an answer; only a failure to get one is an error.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::error::{Error, ErrorKind, Result};
use crate::http::{Request, Response};

/// The message of a refused connection (the retry layer gives up on it early).
pub(crate) const CANNOT_CONNECT: &str = "cannot connect";
/// The message of a timeout (the retry layer gives up on it early).
pub(crate) const TIMED_OUT: &str = "the request timed out";

/// Sends one request with `reqwest`.
pub(crate) struct Transport<'a> {
    /// The client.
    pub client: &'a reqwest::Client,
    /// The request.
    pub req: &'a Request,
    /// Where it goes.
    pub url: &'a Url,
}

impl Transport<'_> {
    /// The request's headers: JSON accepted, then its own.
    pub fn headers(&self) -> Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        for (k, v) in &self.req.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| Error::config(format!("invalid header name {k:?}")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| Error::config(format!("invalid value for header {k}")))?;
            headers.insert(name, value);
        }
        Ok(headers)
    }

    /// Sends the request with `headers` and reads the whole body.
    pub async fn send(&self, headers: HeaderMap) -> Result<Response> {
        let req = self.req;
        let mut builder = self.client.request(req.method.clone(), self.url.clone());
        if !req.query.is_empty() {
            builder = builder.query(&req.query);
        }
        builder = builder.headers(headers);
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        if let Some(form) = &req.form {
            builder = builder.form(form);
        }
        let response = builder.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| {
            Error::new(ErrorKind::Transient, "the response body was cut off")
                .with_source(strip_url(e))
        })?;
        let mut url = self.url.clone();
        url.set_query(None);
        Ok(Response {
            status,
            headers,
            body,
            url: url.to_string(),
        })
    }
}

/// reqwest errors print the URL, which may hold query secrets: drop it.
fn strip_url(e: reqwest::Error) -> reqwest::Error {
    e.without_url()
}

fn transport_error(e: reqwest::Error) -> Error {
    let what = if e.is_timeout() {
        TIMED_OUT
    } else if e.is_connect() {
        CANNOT_CONNECT
    } else {
        "the connection failed"
    };
    Error::new(ErrorKind::Transient, what).with_source(strip_url(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport_headers(req: Request) -> Result<HeaderMap> {
        let client = reqwest::Client::new();
        let url = Url::parse("https://idp.example.invalid/x").unwrap();
        Transport {
            client: &client,
            req: &req,
            url: &url,
        }
        .headers()
    }

    #[test]
    fn headers_accept_json_and_carry_the_requests_own() {
        let h = transport_headers(Request::get("x").header("x-trace", "1")).unwrap();
        assert_eq!(h["accept"], "application/json");
        assert_eq!(h["x-trace"], "1");
    }

    #[test]
    fn an_invalid_header_is_a_config_error() {
        for req in [
            Request::get("x").header("bad name", "1"),
            Request::get("x").header("x-ok", "bad\nvalue"),
        ] {
            assert_eq!(
                transport_headers(req).unwrap_err().kind(),
                ErrorKind::Config
            );
        }
    }

    #[tokio::test]
    async fn a_refused_connection_is_cannot_connect_without_the_url() {
        // A port just released on loopback: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = reqwest::Client::new();
        let url = Url::parse(&format!("http://127.0.0.1:{port}/x?token=SECRET")).unwrap();
        let req = Request::get("x");
        let t = Transport {
            client: &client,
            req: &req,
            url: &url,
        };
        let err = t.send(t.headers().unwrap()).await.unwrap_err();
        assert_eq!(err.message(), CANNOT_CONNECT);
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }
}
