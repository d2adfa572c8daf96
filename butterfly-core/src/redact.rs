//! Secret redaction: every secret field becomes a typed [`SecretPlaceholder`].
//!
//! Redaction runs in the backup orchestrator before a resource reaches a snapshot, so no
//! store ever sees a secret. Two nets catch secrets: the kind's declared
//! [`secret_fields`](crate::kind::ResourceKind::secret_fields), and a default list of member
//! names that are always secret ([`ALWAYS_SECRET`]), for fields a kinds table forgot.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::kind::ResourceKind;
use crate::pointer;
use crate::resource::Resource;

/// Member names that are treated as secrets in every kind, wherever they appear.
pub const ALWAYS_SECRET: &[&str] = &[
    "client_secret",
    "clientSecret",
    "password",
    "privateKey",
    "private_key",
    "sharedSecret",
    "shared_secret",
    "secretText",
    "apiToken",
    "api_token",
    "authToken",
    "access_token",
    "refresh_token",
    "signing_secret",
];

/// The JSON member that marks a placeholder object.
pub const PLACEHOLDER_TAG: &str = "$butterfly_secret";

/// What stands in a snapshot where a secret was: which secret, of which resource, and what to
/// do about it after a restore.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SecretPlaceholder {
    /// Kind id of the resource.
    pub kind: String,
    /// Provider id of the resource.
    pub resource: String,
    /// JSON Pointer of the field.
    pub field: String,
    /// What the secret is (`"OAuth client secret"`).
    pub secret: String,
    /// What an operator must do (`"rotate or re-enter after restore"`).
    pub action: String,
}

impl SecretPlaceholder {
    /// The JSON value stored in place of the secret: `{"$butterfly_secret": {...}}`.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            PLACEHOLDER_TAG.to_string(),
            serde_json::to_value(self).unwrap_or(Value::Null),
        );
        Value::Object(map)
    }

    /// Reads a placeholder back from a stored value.
    pub fn from_value(value: &Value) -> Option<SecretPlaceholder> {
        let inner = value.as_object()?.get(PLACEHOLDER_TAG)?;
        serde_json::from_value(inner.clone()).ok()
    }
}

/// Replaces every secret in `resource` by a placeholder. Returns how many were replaced.
/// Absent, `null` and empty-string fields are left alone (there is nothing to rotate).
pub fn redact(kind: &dyn ResourceKind, resource: &mut Resource) -> usize {
    redact_counted(kind, resource).replaced
}

/// What [`redact_counted`] did to one resource.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Redacted {
    /// Secrets replaced by placeholders in this pass.
    pub replaced: usize,
    /// Placeholders the body holds afterwards: the ones just made and any it already had
    /// (a resource carried over from an earlier snapshot).
    pub placeholders: usize,
}

/// [`redact`], also counting the placeholders the body holds afterwards, in the same walk
/// (a backup reports that count per kind without walking every body again).
///
/// A body shared with another snapshot (carried over by an incremental backup) is only read,
/// unless it holds a secret to replace: then it gets a copy of its own first, and the other
/// snapshot keeps its body as it was.
pub fn redact_counted(kind: &dyn ResourceKind, resource: &mut Resource) -> Redacted {
    if Arc::get_mut(&mut resource.body).is_none()
        && let Some(placeholders) = redacted_already(kind, &resource.body)
    {
        return Redacted {
            replaced: 0,
            placeholders,
        };
    }
    let Resource {
        id,
        kind: kid,
        body,
        ..
    } = resource;
    let body = Arc::make_mut(body);
    let (rid, kid) = (&*id, &*kid);
    // Whether it replaced `v`.
    let replace = |at: &str, v: &mut Value, what: &str| {
        if v.is_null() || v.as_str() == Some("") || is_placeholder(v) {
            return false;
        }
        *v = SecretPlaceholder {
            kind: kid.clone(),
            resource: rid.clone(),
            field: at.to_string(),
            secret: what.to_string(),
            action: "rotate or re-enter after restore".to_string(),
        }
        .to_value();
        true
    };
    let mut replaced = 0;
    for field in kind.secret_fields() {
        pointer::for_each_mut(body, field.pointer, &mut |at, v| {
            replaced += usize::from(replace(at, v, field.secret));
        });
    }
    // One path buffer for the whole walk: pointers are only built when a field matches.
    // The walk meets every placeholder object already in the body (those just made from
    // declared fields included); the ones it makes itself it does not enter.
    let mut at = String::new();
    let mut by_name = 0;
    let found = redact_by_name(body, &mut at, &mut |at, v| {
        by_name += usize::from(replace(at, v, "secret value"));
    });
    Redacted {
        replaced: replaced + by_name,
        placeholders: found + by_name,
    }
}

/// When `body` holds nothing [`redact_counted`] would replace, the placeholders it holds;
/// `None` when it would replace something. Reads only.
fn redacted_already(kind: &dyn ResourceKind, body: &Value) -> Option<usize> {
    let untouched = |v: &Value| v.is_null() || v.as_str() == Some("") || is_placeholder(v);
    for field in kind.secret_fields() {
        if !pointer::select(body, field.pointer)
            .into_iter()
            .all(|(_, v)| untouched(v))
        {
            return None;
        }
    }
    scan_by_name(body)
}

/// The read-only twin of [`redact_by_name`]: the placeholders met, or `None` at the first
/// member with a secret name and a value to replace.
fn scan_by_name(value: &Value) -> Option<usize> {
    let mut found = 0;
    match value {
        Value::Object(map) => {
            if map.contains_key(PLACEHOLDER_TAG) {
                return Some(1);
            }
            for (k, v) in map {
                if v.is_object() || v.is_array() {
                    found += scan_by_name(v)?;
                } else if is_secret_name(k) && !(v.is_null() || v.as_str() == Some("")) {
                    return None;
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                if v.is_object() || v.is_array() {
                    found += scan_by_name(v)?;
                }
            }
        }
        _ => {}
    }
    Some(found)
}

/// Whether `value` is a placeholder object (without reading it).
pub fn is_placeholder(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|m| m.contains_key(PLACEHOLDER_TAG))
}

/// Shortest and longest names in [`ALWAYS_SECRET`]: most member names are ruled out by
/// their length alone.
const SECRET_NAME_LEN: (usize, usize) = {
    let (mut min, mut max, mut i) = (usize::MAX, 0, 0);
    while i < ALWAYS_SECRET.len() {
        let n = ALWAYS_SECRET[i].len();
        if n < min {
            min = n;
        }
        if n > max {
            max = n;
        }
        i += 1;
    }
    (min, max)
};

fn is_secret_name(name: &str) -> bool {
    (SECRET_NAME_LEN.0..=SECRET_NAME_LEN.1).contains(&name.len()) && ALWAYS_SECRET.contains(&name)
}

/// Walks objects and arrays, calling `f` on scalar members with a secret name; returns how
/// many placeholder objects it met (it does not enter them).
fn redact_by_name(
    value: &mut Value,
    at: &mut String,
    f: &mut dyn FnMut(&str, &mut Value),
) -> usize {
    let mut found = 0;
    match value {
        Value::Object(map) => {
            if map.contains_key(PLACEHOLDER_TAG) {
                return 1;
            }
            for (k, v) in map.iter_mut() {
                let nested = v.is_object() || v.is_array();
                let secret = !nested && is_secret_name(k);
                if !secret && !nested {
                    continue;
                }
                let len = at.len();
                at.push('/');
                if k.contains(['~', '/']) {
                    at.push_str(&pointer::escape(k));
                } else {
                    at.push_str(k);
                }
                if secret {
                    f(at, v);
                } else {
                    found += redact_by_name(v, at, f);
                }
                at.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                if !v.is_object() && !v.is_array() {
                    continue;
                }
                let len = at.len();
                use std::fmt::Write as _;
                let _ = write!(at, "/{i}");
                found += redact_by_name(v, at, f);
                at.truncate(len);
            }
        }
        _ => {}
    }
    found
}

/// Every placeholder in a resource (used to build the rotation checklist of a restore).
pub fn placeholders(resource: &Resource) -> Vec<SecretPlaceholder> {
    let mut out = Vec::new();
    collect(&resource.body, &mut out);
    out
}

fn collect(value: &Value, out: &mut Vec<SecretPlaceholder>) {
    if let Some(p) = SecretPlaceholder::from_value(value) {
        out.push(p);
        return;
    }
    match value {
        Value::Object(map) => map.values().for_each(|v| collect(v, out)),
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::{Category, KindSpec, SecretField};
    use serde_json::json;

    const APP: KindSpec = KindSpec {
        secret_fields: &[
            SecretField {
                pointer: "/credentials/oauthClient/client_secret",
                secret: "OAuth client secret",
            },
            SecretField {
                pointer: "/settings/signing/kids/*/pem",
                secret: "SAML signing key",
            },
        ],
        ..KindSpec::new("t.app", "Apps", Category::Application)
    };

    #[test]
    fn declared_and_default_secrets_become_placeholders() {
        let mut r = Resource::new(
            &APP,
            "0oa1",
            None,
            json!({
                "label": "CRM",
                "credentials": {"oauthClient": {"client_id": "abc", "client_secret": "SENTINEL-1"}},
                "settings": {"signing": {"kids": [{"pem": "SENTINEL-2"}]}, "hook": {"password": "SENTINEL-3"}},
                "empty": {"password": ""}
            }),
        );
        assert_eq!(redact(&APP, &mut r), 3);
        let text = r.body.to_string();
        assert!(!text.contains("SENTINEL"), "{text}");
        let found = placeholders(&r);
        assert_eq!(found.len(), 3);
        assert!(found.iter().any(|p| p.secret == "OAuth client secret"
            && p.field == "/credentials/oauthClient/client_secret"
            && p.resource == "0oa1"));
        // Idempotent: a second pass changes nothing.
        let before = r.body.clone();
        assert_eq!(redact(&APP, &mut r), 0);
        assert_eq!(before, r.body);
        assert_eq!(r.body["credentials"]["oauthClient"]["client_id"], "abc");
    }

    #[test]
    fn the_counted_pass_reports_placeholders_old_and_new() {
        let mut r = Resource::new(
            &APP,
            "0oa2",
            None,
            json!({
                "credentials": {"oauthClient": {"client_secret": "SENTINEL-1"}},
                "settings": {"signing": {"kids": [{"pem": "SENTINEL-2"}, {"pem": null}]}},
                "list": [{"apiToken": "SENTINEL-3"}, {"nested": {"password": "SENTINEL-4"}}],
                "plain": {"password_hint": "not a secret name", "name": "x"}
            }),
        );
        let first = redact_counted(&APP, &mut r);
        assert_eq!(
            first,
            Redacted {
                replaced: 4,
                placeholders: 4
            }
        );
        assert_eq!(placeholders(&r).len(), 4);
        assert_eq!(r.body["plain"]["password_hint"], "not a secret name");
        // A resource carried over from an earlier snapshot: nothing new, all still counted.
        let mut again = r.clone();
        assert_eq!(
            redact_counted(&APP, &mut again),
            Redacted {
                replaced: 0,
                placeholders: 4
            }
        );
        assert_eq!(again, r);
        // Read, not copied: the carried-over body is still the one the earlier snapshot holds.
        assert!(Arc::ptr_eq(&again.body, &r.body));
    }

    #[test]
    fn a_shared_body_with_a_secret_gets_its_own_redacted_copy() {
        let raw = Resource::new(
            &APP,
            "0oa3",
            None,
            json!({
                "label": "CRM",
                "credentials": {"oauthClient": {"client_secret": "SENTINEL-1"}},
                "hook": {"password": "SENTINEL-2"}
            }),
        );
        for secret in ["/credentials/oauthClient/client_secret", "/hook/password"] {
            let mut shared = raw.clone();
            // Only one of the two secrets is left: each path must find it on its own.
            let other = if secret == "/hook/password" {
                "/credentials/oauthClient/client_secret"
            } else {
                "/hook/password"
            };
            *Arc::make_mut(&mut shared.body).pointer_mut(other).unwrap() = Value::Null;
            let kept = shared.clone();
            assert!(Arc::ptr_eq(&kept.body, &shared.body));
            let done = redact_counted(&APP, &mut shared);
            assert_eq!(done.replaced, 1, "{secret}");
            assert_eq!(done.placeholders, 1, "{secret}");
            assert!(SecretPlaceholder::from_value(shared.body.pointer(secret).unwrap()).is_some());
            assert!(!Arc::ptr_eq(&kept.body, &shared.body));
            // The other holder's body is as it was.
            assert!(
                kept.body
                    .pointer(secret)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .starts_with("SENTINEL")
            );
        }
    }

    #[test]
    fn secrets_found_by_name_carry_their_full_escaped_pointer() {
        const PLAIN: KindSpec = KindSpec::new("t.plain", "Plain", Category::Directory);
        let mut r = Resource::new(
            &PLAIN,
            "r1",
            None,
            json!({
                "a": [1, {"x": true}, {"hooks": [{"apiToken": "SENTINEL-1"}]}],
                "b/c~d": {"password": "SENTINEL-2", "name": "kept"},
                "password": {"nested": "not a secret leaf"},
                "zz": "plain"
            }),
        );
        assert_eq!(redact(&PLAIN, &mut r), 2);
        let mut fields: Vec<String> = placeholders(&r).into_iter().map(|p| p.field).collect();
        fields.sort();
        assert_eq!(fields, ["/a/2/hooks/0/apiToken", "/b~1c~0d/password"]);
        assert_eq!(r.body["password"]["nested"], "not a secret leaf");
        assert_eq!(r.body["b/c~d"]["name"], "kept");
    }
}
