//! Authentication hooks: a fixed header value, or a token fetched and cached until shortly
//! before it expires. The OAuth 2.0 client-credentials hook built on [`TokenCache`] is
//! [`super::oauth::ClientCredentialsAuth`].

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::SecretString;

use crate::error::Result;

/// Supplies the `Authorization` header of each request.
#[async_trait]
pub trait AuthHook: Send + Sync + fmt::Debug {
    /// The header value for the next request; fetches or refreshes a token as needed.
    async fn authorization(&self, http: &reqwest::Client) -> Result<SecretString>;
    /// Called after a 401 so the hook drops its cached token (the request is retried once).
    fn invalidate(&self) {}
}

/// A fixed header value, such as `SSWS <token>`.
pub struct StaticAuth(SecretString);

impl StaticAuth {
    /// A hook that always sends `value`.
    pub fn new(value: SecretString) -> StaticAuth {
        StaticAuth(value)
    }
}

impl fmt::Debug for StaticAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticAuth([redacted])")
    }
}

#[async_trait]
impl AuthHook for StaticAuth {
    async fn authorization(&self, _http: &reqwest::Client) -> Result<SecretString> {
        Ok(self.0.clone())
    }
}

/// Caches a bearer token until `skew` before it expires. Concurrent callers share one refresh.
pub struct TokenCache {
    slot: tokio::sync::Mutex<Option<(SecretString, Instant)>>,
    invalid: AtomicBool,
    skew: Duration,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("token", &"[redacted]")
            .field("skew", &self.skew)
            .finish()
    }
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache::new(Duration::from_secs(60))
    }
}

impl TokenCache {
    /// A cache that refreshes `skew` before expiry.
    pub fn new(skew: Duration) -> TokenCache {
        TokenCache {
            slot: tokio::sync::Mutex::new(None),
            invalid: AtomicBool::new(false),
            skew,
        }
    }

    /// The cached token, or a new one from `fetch` (which returns the token and its lifetime).
    pub async fn get_or_refresh<F, Fut>(&self, fetch: F) -> Result<SecretString>
    where
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<(SecretString, Duration)>> + Send,
    {
        // Holding the lock across the fetch makes concurrent callers wait for one refresh.
        let mut slot = self.slot.lock().await;
        if self.invalid.swap(false, Ordering::SeqCst) {
            *slot = None;
        }
        if let Some((token, expires)) = slot.as_ref()
            && Instant::now() + self.skew < *expires
        {
            return Ok(token.clone());
        }
        let (token, lifetime) = fetch().await?;
        *slot = Some((token.clone(), Instant::now() + lifetime));
        Ok(token)
    }

    /// Drops the cached token.
    pub fn invalidate(&self) {
        self.invalid.store(true, Ordering::SeqCst);
    }
}
