//! JSON Pointer (RFC 6901) helpers with `*` wildcard patterns.
//!
//! Kind descriptors name fields by pointer patterns: `/credentials/oauthClient/client_secret`,
//! or `/conditions/people/groups/include/*` where `*` matches any array index or object key.

use serde_json::Value;

/// Escapes one reference token (`~` → `~0`, `/` → `~1`).
pub fn escape(token: &str) -> String {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1")
    } else {
        token.to_string()
    }
}

/// Unescapes one reference token.
pub fn unescape(token: &str) -> String {
    if token.contains('~') {
        token.replace("~1", "/").replace("~0", "~")
    } else {
        token.to_string()
    }
}

/// Appends a token to a pointer.
pub fn push(pointer: &str, token: &str) -> String {
    format!("{pointer}/{}", escape(token))
}

fn tokens(pattern: &str) -> impl Iterator<Item = &str> {
    pattern.split('/').skip(1)
}

/// Whether a concrete pointer matches a pattern (`*` matches one token).
///
/// ```
/// use butterfly_core::pointer::matches;
/// assert!(matches("/groups/*/id", "/groups/3/id"));
/// assert!(!matches("/groups/*/id", "/groups/3/name"));
/// ```
pub fn matches(pattern: &str, pointer: &str) -> bool {
    let mut p = tokens(pattern);
    let mut c = tokens(pointer);
    loop {
        match (p.next(), c.next()) {
            (None, None) => return true,
            (Some(pt), Some(ct)) => {
                if pt != "*" && unescape(pt) != unescape(ct) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// Whether `pointer` equals `prefix` or lies below it (prefix may contain `*`).
pub fn is_under(prefix: &str, pointer: &str) -> bool {
    let mut p = tokens(prefix);
    let mut c = tokens(pointer);
    loop {
        match (p.next(), c.next()) {
            (None, _) => return true,
            (Some(pt), Some(ct)) => {
                if pt != "*" && unescape(pt) != unescape(ct) {
                    return false;
                }
            }
            (Some(_), None) => return false,
        }
    }
}

/// Every value selected by a pattern, with its concrete pointer.
///
/// ```
/// use butterfly_core::pointer::select;
/// let v = serde_json::json!({"include": ["a", "b"]});
/// let found: Vec<_> = select(&v, "/include/*").into_iter().map(|(p, v)| (p, v.clone())).collect();
/// assert_eq!(found.len(), 2);
/// assert_eq!(found[1].0, "/include/1");
/// ```
pub fn select<'v>(value: &'v Value, pattern: &str) -> Vec<(String, &'v Value)> {
    let toks: Vec<String> = tokens(pattern).map(unescape).collect();
    let mut out = Vec::new();
    select_rec(value, &toks, String::new(), &mut out);
    out
}

fn select_rec<'v>(
    value: &'v Value,
    toks: &[String],
    at: String,
    out: &mut Vec<(String, &'v Value)>,
) {
    let Some((first, rest)) = toks.split_first() else {
        out.push((at, value));
        return;
    };
    match value {
        Value::Object(map) => {
            if first == "*" {
                for (k, v) in map {
                    select_rec(v, rest, push(&at, k), out);
                }
            } else if let Some(v) = map.get(first.as_str()) {
                select_rec(v, rest, push(&at, first), out);
            }
        }
        Value::Array(items) => {
            if first == "*" {
                for (i, v) in items.iter().enumerate() {
                    select_rec(v, rest, format!("{at}/{i}"), out);
                }
            } else if let Ok(i) = first.parse::<usize>()
                && let Some(v) = items.get(i)
            {
                select_rec(v, rest, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Applies `f` to every value selected by a pattern, mutably.
pub fn for_each_mut(value: &mut Value, pattern: &str, f: &mut dyn FnMut(&str, &mut Value)) {
    let toks: Vec<String> = tokens(pattern).map(unescape).collect();
    for_each_rec(value, &toks, String::new(), f);
}

fn for_each_rec(
    value: &mut Value,
    toks: &[String],
    at: String,
    f: &mut dyn FnMut(&str, &mut Value),
) {
    let Some((first, rest)) = toks.split_first() else {
        f(&at, value);
        return;
    };
    match value {
        Value::Object(map) => {
            if first == "*" {
                for (k, v) in map.iter_mut() {
                    for_each_rec(v, rest, push(&at, k), f);
                }
            } else if let Some(v) = map.get_mut(first.as_str()) {
                for_each_rec(v, rest, push(&at, first), f);
            }
        }
        Value::Array(items) => {
            if first == "*" {
                for (i, v) in items.iter_mut().enumerate() {
                    for_each_rec(v, rest, format!("{at}/{i}"), f);
                }
            } else if let Ok(i) = first.parse::<usize>()
                && let Some(v) = items.get_mut(i)
            {
                for_each_rec(v, rest, format!("{at}/{i}"), f);
            }
        }
        _ => {}
    }
}

/// Removes every value selected by a pattern (object members only; array items are kept).
pub fn remove_all(value: &mut Value, pattern: &str) {
    let toks: Vec<String> = tokens(pattern).map(unescape).collect();
    let Some((last, parent)) = toks.split_last() else {
        return;
    };
    let parent_pattern: String = parent.iter().map(|t| format!("/{}", escape(t))).collect();
    for_each_mut(value, &parent_pattern, &mut |_, v| {
        if let Value::Object(map) = v {
            if last == "*" {
                map.clear();
            } else {
                map.remove(last.as_str());
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escaping_round_trips() {
        assert_eq!(escape("a/b~c"), "a~1b~0c");
        assert_eq!(unescape("a~1b~0c"), "a/b~c");
        assert!(matches("/a~1b", "/a~1b"));
    }

    #[test]
    fn select_with_wildcards_in_objects_and_arrays() {
        let v = json!({"apps": {"x": {"secret": 1}, "y": {"secret": 2}}, "list": [{"id": "a"}, {"id": "b"}]});
        assert_eq!(select(&v, "/apps/*/secret").len(), 2);
        let ids: Vec<_> = select(&v, "/list/*/id")
            .into_iter()
            .map(|(_, v)| v.clone())
            .collect();
        assert_eq!(ids, vec![json!("a"), json!("b")]);
        assert!(select(&v, "/missing/*").is_empty());
        assert_eq!(select(&v, "/list/1/id")[0].1, &json!("b"));
    }

    #[test]
    fn remove_all_removes_members() {
        let mut v = json!({"a": [{"x": 1, "y": 2}, {"x": 3}], "_links": {"self": 1}});
        remove_all(&mut v, "/a/*/x");
        remove_all(&mut v, "/_links");
        assert_eq!(v, json!({"a": [{"y": 2}, {}]}));
    }

    #[test]
    fn is_under_prefixes() {
        assert!(is_under("/_links", "/_links/self/href"));
        assert!(is_under("/a/*", "/a/1/b"));
        assert!(!is_under("/a/b", "/a"));
    }
}
