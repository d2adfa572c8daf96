//! Error mapping: turns an answer that is not 2xx into an [`Error`] through the provider's
//! mapper, and sorts failures into what the retry layer may try again and what it may not.

use std::future::Future;

use reqwest::header::HeaderMap;

use crate::error::{Error, Result};
use crate::http::{ErrorMapper, Response};

/// A failed attempt, as the retry layer sees it.
#[derive(Debug)]
pub(crate) enum Failure {
    /// An answer that is never retried (a 4xx other than 429, a 401 already re-sent, a 3xx):
    /// the mapped error, returned as is.
    Final(Error),
    /// A 429 or 5xx: the mapped error, with the answer's status and headers for the wait.
    Answer {
        /// The provider's error for the answer.
        error: Error,
        /// The status (429 or 5xx).
        status: u16,
        /// The answer's headers (`Retry-After`, reset).
        headers: HeaderMap,
    },
    /// No answer: connection refused or reset, timeout, truncated body, or a failing auth
    /// hook.
    NoAnswer(Error),
}

/// Maps every answer that is not 2xx with the provider's one function.
pub(crate) struct ErrorLayer<'a> {
    /// The provider's mapper.
    pub map: &'a ErrorMapper,
}

impl ErrorLayer<'_> {
    /// Awaits `next` and passes on a 2xx answer; anything else becomes a [`Failure`].
    pub async fn call(
        &self,
        next: impl Future<Output = Result<Response>>,
    ) -> Result<Response, Failure> {
        let resp = next.await.map_err(Failure::NoAnswer)?;
        match resp.status {
            200..=299 => Ok(resp),
            status @ (429 | 500..=599) => Err(Failure::Answer {
                error: (self.map)(status, &resp.headers, &resp.body),
                status,
                headers: resp.headers,
            }),
            status => {
                tracing::debug!(status, "failed");
                Err(Failure::Final((self.map)(
                    status,
                    &resp.headers,
                    &resp.body,
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::error::ErrorKind;
    use crate::http::default_error;
    use crate::http::layer::testing::answer;

    async fn layer_call(map: &ErrorMapper, result: Result<Response>) -> Result<Response, Failure> {
        ErrorLayer { map }.call(async { result }).await
    }

    #[tokio::test]
    async fn a_2xx_passes_through() {
        let map: ErrorMapper = Arc::new(default_error);
        let resp = layer_call(&map, Ok(answer(204, &[]))).await.unwrap();
        assert_eq!(resp.status, 204);
    }

    #[tokio::test]
    async fn rate_limits_and_5xx_are_answers_the_retry_layer_may_repeat() {
        let map: ErrorMapper = Arc::new(default_error);
        for status in [429, 500, 503] {
            match layer_call(&map, Ok(answer(status, &[("retry-after", "3")]))).await {
                Err(Failure::Answer {
                    error,
                    status: s,
                    headers,
                }) => {
                    assert_eq!(s, status);
                    assert_eq!(error.status(), Some(status));
                    assert_eq!(headers["retry-after"], "3");
                }
                other => panic!("{status}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn other_statuses_are_final_and_go_through_the_mapper() {
        let map: ErrorMapper = Arc::new(|status, _, body| {
            assert_eq!(body, b"{}");
            Error::new(ErrorKind::Denied, format!("mapped {status}"))
        });
        for status in [301, 400, 401, 403, 404, 409] {
            match layer_call(&map, Ok(answer(status, &[]))).await {
                Err(Failure::Final(error)) => {
                    assert_eq!(error.kind(), ErrorKind::Denied);
                    assert_eq!(error.message(), format!("mapped {status}"));
                }
                other => panic!("{status}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn no_answer_is_kept_apart() {
        let map: ErrorMapper = Arc::new(default_error);
        let err = Error::new(ErrorKind::Transient, "cannot connect");
        match layer_call(&map, Err(err)).await {
            Err(Failure::NoAnswer(e)) => assert_eq!(e.message(), "cannot connect"),
            other => panic!("{other:?}"),
        }
    }
}
