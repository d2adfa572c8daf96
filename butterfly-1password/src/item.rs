//! What of an item is stored: its structure, never a secret value.
//!
//! An item as the Connect server returns it (`FullItem`) is rebuilt member by member from an
//! allow-list, so a member this code does not know (a newer server's) is dropped rather than
//! stored:
//!
//! - kept: `id`, `title`, `vault`, `category`, `urls` (label, primary, href), `favorite`,
//!   `tags`, `version`, `state`, `createdAt`, `updatedAt`, `lastEditedBy`, `sections` (id,
//!   label), and `files` as the list of file ids (the files themselves are the
//!   `onepassword.item_file` kind);
//! - each field: `id`, `label`, `type`, `purpose`, `section` (its id), and its `value` by
//!   these rules:
//!   - the value of a `CONCEALED`, `OTP` (`TOTP` in the 1.7.1 spec), `SSHKEY` field, of every
//!     field whose purpose is `PASSWORD`, and of a field of a type this code does not know,
//!     becomes a typed [`SecretPlaceholder`];
//!   - any other value (notes, usernames, URLs, dates, menus) is kept only with
//!     [`Values::Keep`] (`keep_values`), and otherwise dropped;
//!   - a field's other members (`totp`, the current one-time code; `entropy`;
//!     `passwordDetails`; `generate` and `recipe`; `reference`) are dropped.
//!
//! An unknown category or field type is reported as a warning naming the item; the item is
//! stored all the same.

use butterfly_core::redact::SecretPlaceholder;
use serde_json::{Map, Value, json};

/// The item categories of the Connect API (1.7.1 and the PR #88 corrections).
pub const CATEGORIES: &[&str] = &[
    "LOGIN",
    "PASSWORD",
    "API_CREDENTIAL",
    "SERVER",
    "DATABASE",
    "CREDIT_CARD",
    "MEMBERSHIP",
    "PASSPORT",
    "SOFTWARE_LICENSE",
    "OUTDOOR_LICENSE",
    "SECURE_NOTE",
    "WIRELESS_ROUTER",
    "BANK_ACCOUNT",
    "DRIVER_LICENSE",
    "IDENTITY",
    "REWARD_PROGRAM",
    "DOCUMENT",
    "EMAIL_ACCOUNT",
    "SOCIAL_SECURITY_NUMBER",
    "MEDICAL_RECORD",
    "SSH_KEY",
    "CUSTOM",
];

/// Field types whose value is never stored.
pub const SECRET_TYPES: &[&str] = &["CONCEALED", "OTP", "TOTP", "SSHKEY"];

/// Field types whose value is stored only on request ([`Values::Keep`]).
pub const PLAIN_TYPES: &[&str] = &["STRING", "EMAIL", "URL", "DATE", "MONTH_YEAR", "MENU"];

/// What happens to the values of fields that are not secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Values {
    /// Dropped (the default): only the field's structure is stored.
    Drop,
    /// Kept (the user opted in with `keep_values`).
    Keep,
}

/// The kind id placeholders name.
const KIND: &str = "onepassword.item";

/// What a placeholder tells an operator.
const ACTION: &str = "kept only in 1Password: never part of a backup";

fn take_str(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// The stored body of an item and the warnings about it. `id` is the resource id
/// (`{vaultId}/{itemId}`) that placeholders name.
pub fn sanitize(id: &str, item: &Value, values: Values) -> (Value, Vec<String>) {
    let mut out = Map::new();
    let mut warnings = Vec::new();
    const KEPT: &[&str] = &[
        "id",
        "title",
        "category",
        "favorite",
        "tags",
        "version",
        "state",
        "createdAt",
        "updatedAt",
        "lastEditedBy",
    ];
    for key in KEPT {
        if let Some(v) = item.get(*key) {
            out.insert((*key).to_string(), v.clone());
        }
    }
    if let Some(vault) = item.get("vault").and_then(|v| v.get("id")) {
        out.insert("vault".into(), json!({ "id": vault }));
    }
    match item.get("category").and_then(Value::as_str) {
        Some(c) if CATEGORIES.contains(&c) => {}
        other => warnings.push(format!(
            "item {id}: unknown category {:?}; stored with its structure",
            other.unwrap_or("(none)")
        )),
    }
    if let Some(urls) = item.get("urls").and_then(Value::as_array) {
        let urls: Vec<Value> = urls
            .iter()
            .map(|u| {
                let mut m = Map::new();
                for k in ["label", "primary", "href"] {
                    if let Some(v) = u.get(k) {
                        m.insert(k.into(), v.clone());
                    }
                }
                Value::Object(m)
            })
            .collect();
        out.insert("urls".into(), Value::Array(urls));
    }
    if let Some(sections) = item.get("sections").and_then(Value::as_array) {
        let sections: Vec<Value> = sections
            .iter()
            .map(|s| {
                let mut m = Map::new();
                for k in ["id", "label"] {
                    if let Some(v) = s.get(k) {
                        m.insert(k.into(), v.clone());
                    }
                }
                Value::Object(m)
            })
            .collect();
        out.insert("sections".into(), Value::Array(sections));
    }
    if let Some(fields) = item.get("fields").and_then(Value::as_array) {
        let fields: Vec<Value> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| field(id, i, f, values, &mut warnings))
            .collect();
        out.insert("fields".into(), Value::Array(fields));
    }
    if let Some(files) = item.get("files").and_then(Value::as_array) {
        let ids: Vec<Value> = files.iter().filter_map(|f| f.get("id").cloned()).collect();
        out.insert("files".into(), Value::Array(ids));
    }
    (Value::Object(out), warnings)
}

/// One field, rebuilt.
fn field(item: &str, index: usize, f: &Value, values: Values, warnings: &mut Vec<String>) -> Value {
    let mut m = Map::new();
    for k in ["id", "label", "type", "purpose"] {
        if let Some(v) = f.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    if let Some(section) = f.get("section").and_then(|s| s.get("id")) {
        m.insert("section".into(), json!({ "id": section }));
    }
    // A field without a type is a STRING (the spec's default).
    let kind = take_str(f, "type").unwrap_or_else(|| "STRING".into());
    let purpose = take_str(f, "purpose").unwrap_or_default();
    let known = SECRET_TYPES.contains(&kind.as_str()) || PLAIN_TYPES.contains(&kind.as_str());
    if !known {
        warnings.push(format!(
            "item {item}: field {:?} has an unknown type {kind:?}; its value is not stored",
            take_str(f, "id").unwrap_or_default()
        ));
    }
    let secret = !known || SECRET_TYPES.contains(&kind.as_str()) || purpose == "PASSWORD";
    let value = f.get("value").filter(|v| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        _ => true,
    });
    if let Some(value) = value {
        if secret {
            let what = if purpose == "PASSWORD" {
                "password field value".to_string()
            } else {
                format!("{kind} field value")
            };
            let placeholder = SecretPlaceholder {
                kind: KIND.into(),
                resource: item.to_string(),
                field: format!("/fields/{index}/value"),
                secret: what,
                action: ACTION.into(),
            };
            m.insert("value".into(), placeholder.to_value());
        } else if values == Values::Keep {
            m.insert("value".into(), value.clone());
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use butterfly_core::redact::{is_placeholder, placeholders};

    fn sample() -> Value {
        json!({
            "id": "abcdefghijklmnopqrstuvwxyz",
            "title": "Production DB",
            "vault": {"id": "v0000000000000000000000001", "name": "extra"},
            "category": "LOGIN",
            "urls": [{"href": "https://db.example.com", "primary": true, "secret": "x"}],
            "tags": ["prod"],
            "version": 3,
            "sections": [{"id": "s1", "label": "Extra", "hidden": true}],
            "files": [{"id": "f1", "name": "key.pem", "size": 10, "content": "SENTINEL-file"}],
            "unknownTopLevel": "SENTINEL-top",
            "fields": [
                {"id": "username", "type": "STRING", "purpose": "USERNAME", "label": "username", "value": "admin"},
                {"id": "password", "type": "CONCEALED", "purpose": "PASSWORD", "label": "password", "value": "SENTINEL-pw", "entropy": 80.1, "passwordDetails": {"strength": "FANTASTIC"}},
                {"id": "odd", "type": "STRING", "purpose": "PASSWORD", "label": "pin", "value": "SENTINEL-pin", "generate": true, "recipe": {"length": 20}},
                {"id": "otp", "type": "OTP", "label": "one-time password", "value": "otpauth://totp/x?secret=SENTINEL-otp", "totp": "SENTINEL-code"},
                {"id": "oldotp", "type": "TOTP", "label": "old otp", "value": "SENTINEL-totp"},
                {"id": "ssh", "type": "SSHKEY", "label": "private key", "value": "SENTINEL-ssh", "section": {"id": "s1", "label": "Extra"}},
                {"id": "notesPlain", "type": "STRING", "purpose": "NOTES", "label": "notesPlain", "value": "SENTINEL-note"},
                {"id": "weird", "type": "HOLOGRAM", "label": "new", "value": "SENTINEL-new"},
                {"id": "empty", "type": "CONCEALED", "label": "unset", "value": ""}
            ]
        })
    }

    #[test]
    fn secrets_become_placeholders_and_other_values_are_dropped() {
        let (body, warnings) = sanitize("v1/i1", &sample(), Values::Drop);
        let text = body.to_string();
        assert!(!text.contains("SENTINEL"), "{text}");
        assert!(!text.contains("admin"), "{text}");
        for dropped in [
            "entropy",
            "passwordDetails",
            "recipe",
            "generate",
            "\"totp\"",
        ] {
            assert!(!text.contains(dropped), "{dropped}: {text}");
        }
        let fields = body["fields"].as_array().unwrap();
        for i in [1, 2, 3, 4, 5, 7] {
            assert!(is_placeholder(&fields[i]["value"]), "{}", fields[i]);
        }
        assert!(fields[0].get("value").is_none());
        assert!(fields[6].get("value").is_none());
        assert!(fields[8].get("value").is_none(), "nothing to replace");
        assert_eq!(fields[5]["section"], json!({"id": "s1"}));
        assert_eq!(body["files"], json!(["f1"]));
        assert_eq!(body["vault"], json!({"id": "v0000000000000000000000001"}));
        assert_eq!(body["sections"], json!([{"id": "s1", "label": "Extra"}]));
        assert_eq!(
            body["urls"],
            json!([{"href": "https://db.example.com", "primary": true}])
        );
        let resource = butterfly_core::Resource::new(&crate::kinds::ITEM, "v1/i1", None, body);
        let found = placeholders(&resource);
        assert_eq!(found.len(), 6);
        assert!(found.iter().all(|p| p.resource == "v1/i1"));
        assert!(
            found
                .iter()
                .any(|p| p.field == "/fields/1/value" && p.secret == "password field value")
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("v1/i1") && warnings[0].contains("HOLOGRAM"));
    }

    #[test]
    fn kept_values_are_only_the_plain_ones() {
        let (body, _) = sanitize("v1/i1", &sample(), Values::Keep);
        let fields = body["fields"].as_array().unwrap();
        assert_eq!(fields[0]["value"], "admin");
        assert_eq!(fields[6]["value"], "SENTINEL-note");
        let text = body.to_string();
        for secret in [
            "SENTINEL-pw",
            "SENTINEL-pin",
            "SENTINEL-otp",
            "SENTINEL-code",
            "SENTINEL-totp",
            "SENTINEL-ssh",
            "SENTINEL-new",
            "SENTINEL-file",
            "SENTINEL-top",
        ] {
            assert!(!text.contains(secret), "{secret}: {text}");
        }
    }

    #[test]
    fn an_unknown_category_is_a_warning_naming_the_item() {
        let mut item = sample();
        item["category"] = json!("SPACESHIP");
        let (body, warnings) = sanitize("v1/i9", &item, Values::Drop);
        assert_eq!(body["category"], "SPACESHIP");
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("v1/i9") && w.contains("SPACESHIP"))
        );
    }
}
