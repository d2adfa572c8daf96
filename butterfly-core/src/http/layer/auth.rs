//! Authentication, at two depths. [`AuthorizeLayer`] adds the `Authorization` header right
//! above the transport, so the credential is fetched after every wait and a long pacing wait
//! never sends a stale token. [`ReauthLayer`] sits above the gate: after a 401 it has the hook
//! drop its credential and sends once more, through gate and limiter like any request.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::header::{HeaderMap, HeaderValue};
use secrecy::ExposeSecret;

use crate::error::{Error, ErrorKind, Result};
use crate::http::{AuthHook, Response};

/// Adds the auth hook's `Authorization` header.
pub(crate) struct AuthorizeLayer<'a> {
    /// The hook, or `None` for a request sent without it (token endpoints).
    pub hook: Option<&'a dyn AuthHook>,
    /// The client the hook may use to fetch a token.
    pub client: &'a reqwest::Client,
}

impl AuthorizeLayer<'_> {
    /// Adds the header to `headers` (replacing one the request set) and sends them on.
    pub async fn call<F, Fut>(&self, mut headers: HeaderMap, next: F) -> Result<Response>
    where
        F: FnOnce(HeaderMap) -> Fut,
        Fut: Future<Output = Result<Response>>,
    {
        if let Some(hook) = self.hook {
            let token = hook.authorization(self.client).await?;
            let mut value = HeaderValue::from_str(token.expose_secret()).map_err(|_| {
                Error::new(
                    ErrorKind::Auth,
                    "the credential is not a valid header value",
                )
            })?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        next(headers).await
    }
}

/// After a 401, invalidates the auth hook and sends once more: once per request, however
/// many times the retry layer calls it.
pub(crate) struct ReauthLayer<'a> {
    hook: Option<&'a dyn AuthHook>,
    resent: AtomicBool,
}

impl<'a> ReauthLayer<'a> {
    /// A layer for one request of a client with `hook` (none: a 401 is passed on).
    pub fn new(hook: Option<&'a dyn AuthHook>) -> ReauthLayer<'a> {
        ReauthLayer {
            hook,
            resent: AtomicBool::new(false),
        }
    }

    /// Calls `next`, and once more after the first 401.
    pub async fn call<F, Fut>(&self, mut next: F) -> Result<Response>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Response>>,
    {
        loop {
            let resp = next().await?;
            if resp.status == 401
                && let Some(hook) = self.hook
                && !self.resent.swap(true, Ordering::Relaxed)
            {
                hook.invalidate();
                continue;
            }
            return Ok(resp);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;

    use async_trait::async_trait;
    use secrecy::SecretString;

    use super::*;
    use crate::http::layer::testing::answer;

    #[derive(Debug, Default)]
    struct Hook {
        fetches: AtomicUsize,
        invalidations: AtomicUsize,
        value: Option<&'static str>,
    }

    #[async_trait]
    impl AuthHook for Hook {
        async fn authorization(&self, _http: &reqwest::Client) -> Result<SecretString> {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst);
            Ok(SecretString::from(
                self.value
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("Bearer token-{n}")),
            ))
        }
        fn invalidate(&self) {
            self.invalidations.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A `next` answering the statuses of `script` in turn, counting calls.
    fn scripted(script: &[u16]) -> (Mutex<Vec<u16>>, AtomicUsize) {
        (
            Mutex::new(script.iter().rev().copied().collect()),
            AtomicUsize::new(0),
        )
    }

    async fn run(layer: &ReauthLayer<'_>, script: &(Mutex<Vec<u16>>, AtomicUsize)) -> u16 {
        layer
            .call(|| async {
                script.1.fetch_add(1, Ordering::SeqCst);
                let status = script.0.lock().unwrap().pop().expect("script ran out");
                Ok(answer(status, &[]))
            })
            .await
            .unwrap()
            .status
    }

    #[tokio::test]
    async fn a_401_invalidates_the_hook_and_sends_once_more() {
        let hook = Hook::default();
        let layer = ReauthLayer::new(Some(&hook));
        let script = scripted(&[401, 200]);
        assert_eq!(run(&layer, &script).await, 200);
        assert_eq!(script.1.load(Ordering::SeqCst), 2);
        assert_eq!(hook.invalidations.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_second_401_is_passed_on_even_across_retry_attempts() {
        let hook = Hook::default();
        let layer = ReauthLayer::new(Some(&hook));
        let script = scripted(&[401, 401]);
        assert_eq!(run(&layer, &script).await, 401);
        // The retry layer calls the same layer again for its next attempt: no second re-send.
        let script = scripted(&[401]);
        assert_eq!(run(&layer, &script).await, 401);
        assert_eq!(hook.invalidations.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn without_a_hook_a_401_is_passed_on() {
        let layer = ReauthLayer::new(None);
        let script = scripted(&[401]);
        assert_eq!(run(&layer, &script).await, 401);
        assert_eq!(script.1.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn authorize_adds_a_sensitive_header_and_replaces_the_requests_own() {
        let hook = Hook::default();
        let client = reqwest::Client::new();
        let layer = AuthorizeLayer {
            hook: Some(&hook),
            client: &client,
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            HeaderValue::from_static("Basic mine"),
        );
        let seen = layer
            .call(headers, |h| async move {
                let v = h.get(reqwest::header::AUTHORIZATION).unwrap();
                assert!(v.is_sensitive());
                assert_eq!(h.get_all(reqwest::header::AUTHORIZATION).iter().count(), 1);
                Ok(answer(200, &[("seen", v.to_str().unwrap())]))
            })
            .await
            .unwrap();
        assert_eq!(seen.headers["seen"], "Bearer token-0");
    }

    #[tokio::test]
    async fn authorize_without_a_hook_adds_nothing() {
        let client = reqwest::Client::new();
        let layer = AuthorizeLayer {
            hook: None,
            client: &client,
        };
        layer
            .call(HeaderMap::new(), |h| async move {
                assert!(h.get(reqwest::header::AUTHORIZATION).is_none());
                Ok(answer(200, &[]))
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_credential_that_is_no_header_value_is_an_auth_error_never_sent() {
        let hook = Hook {
            value: Some("Bearer bad\nvalue"),
            ..Hook::default()
        };
        let client = reqwest::Client::new();
        let layer = AuthorizeLayer {
            hook: Some(&hook),
            client: &client,
        };
        let err = layer
            .call(HeaderMap::new(), |_| async {
                panic!("sent with an invalid credential")
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert!(!err.to_string().contains("bad"), "{err}");
    }
}
