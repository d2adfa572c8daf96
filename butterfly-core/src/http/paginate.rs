//! Pagination styles of identity-provider APIs, as pure functions over headers and bodies.

use reqwest::header::HeaderMap;
use serde_json::Value;

/// How to find the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextPage {
    /// RFC 8288 `Link: <…>; rel="next"` (Okta).
    LinkHeader,
    /// `body["@odata.nextLink"]` (Microsoft Graph).
    ODataNextLink,
    /// `body["_links"]["next"]["href"]` (PingOne).
    HalNext,
    /// `page`/`per_page` numbering (Auth0): stops at a short page or when `total` is reached.
    PageNumber {
        /// Query parameter of the page number (first page is 0).
        page_param: String,
        /// Query parameter of the page size.
        per_page_param: String,
        /// Page size.
        per_page: u32,
        /// Member holding the items (`None`: the body is the array).
        items_field: Option<String>,
        /// Member holding the total, when the API returns one.
        total_field: Option<String>,
    },
    /// `from`/`take` checkpoints (Auth0): `body[next_field]` is the next `from`.
    Checkpoint {
        /// Query parameter of the checkpoint.
        from_param: String,
        /// Query parameter of the page size.
        take_param: String,
        /// Page size.
        take: u32,
        /// Member holding the next checkpoint.
        next_field: String,
    },
}

/// The `rel="next"` target of a `Link` header, if any.
///
/// ```
/// use reqwest::header::{HeaderMap, HeaderValue, LINK};
/// let mut h = HeaderMap::new();
/// h.append(LINK, HeaderValue::from_static("<https://x/api/v1/users?limit=2>; rel=\"self\""));
/// h.append(LINK, HeaderValue::from_static("<https://x/api/v1/users?after=00u2&limit=2>; rel=\"next\""));
/// assert_eq!(butterfly_core::http::paginate::link_next(&h).as_deref(), Some("https://x/api/v1/users?after=00u2&limit=2"));
/// ```
pub fn link_next(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(reqwest::header::LINK) {
        let Ok(text) = value.to_str() else { continue };
        for part in split_links(text) {
            let part = part.trim();
            let Some(end) = part.find('>') else { continue };
            let url = part.strip_prefix('<').map(|p| &p[..end - 1]);
            let is_next = part[end + 1..].split(';').any(|param| {
                let param = param.trim();
                param
                    .strip_prefix("rel=")
                    .map(|v| {
                        v.trim_matches('"')
                            .split_ascii_whitespace()
                            .any(|r| r.eq_ignore_ascii_case("next"))
                    })
                    .unwrap_or(false)
            });
            if is_next && let Some(url) = url {
                return Some(url.to_string());
            }
        }
    }
    None
}

/// Splits a Link header into its entries at commas outside `<…>` and quotes.
fn split_links(text: &str) -> Vec<&str> {
    let (mut out, mut start, mut in_url, mut in_quote) = (Vec::new(), 0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            '<' if !in_quote => in_url = true,
            '>' if !in_quote => in_url = false,
            '"' if !in_url => in_quote = !in_quote,
            ',' if !in_url && !in_quote => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// `@odata.nextLink` of a Graph page.
pub fn odata_next(body: &Value) -> Option<String> {
    body.get("@odata.nextLink")?.as_str().map(str::to_string)
}

/// `_links.next.href` of a HAL page.
pub fn hal_next(body: &Value) -> Option<String> {
    body.pointer("/_links/next/href")?
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, LINK};
    use serde_json::json;

    #[test]
    fn link_header_variants() {
        let mut h = HeaderMap::new();
        h.insert(
            LINK,
            HeaderValue::from_static(
                "<https://a/x?a=1,2>; rel=\"self\", <https://a/x?after=b>; rel=\"next\"",
            ),
        );
        assert_eq!(link_next(&h).as_deref(), Some("https://a/x?after=b"));
        let mut h = HeaderMap::new();
        h.insert(
            LINK,
            HeaderValue::from_static("<https://a/x>; rel=\"self\""),
        );
        assert_eq!(link_next(&h), None);
        assert_eq!(link_next(&HeaderMap::new()), None);
        let mut h = HeaderMap::new();
        h.insert(
            LINK,
            HeaderValue::from_static("garbage; rel=next, <https://a/y>; rel=next"),
        );
        assert_eq!(link_next(&h).as_deref(), Some("https://a/y"));
    }

    #[test]
    fn body_links() {
        assert_eq!(
            odata_next(&json!({"@odata.nextLink": "https://g/next"})).as_deref(),
            Some("https://g/next")
        );
        assert_eq!(odata_next(&json!({"value": []})), None);
        assert_eq!(
            hal_next(&json!({"_links": {"next": {"href": "https://p/n"}}})).as_deref(),
            Some("https://p/n")
        );
        assert_eq!(hal_next(&json!([])), None);
    }
}
