//! JSON parsing into [`serde_json::Value`], tuned for large provider pages.
//!
//! [`from_slice`] gives exactly the value `serde_json::from_slice::<Value>` gives (same
//! numbers, same strings, a repeated member keeps its last value), but builds every object
//! from all of its members at once instead of inserting them one by one. serde_json's maps are
//! B-trees: inserting members in the order a provider sends them splits nodes and leaves them
//! about half full, while building from the sorted members fills each node. On a page of
//! directory users that is fewer allocations, less memory held by the snapshot and less
//! time (see `benches/README.md`).
//!
//! ```
//! let v = butterfly_core::json::from_slice(br#"{"b": [1, -2, 3.5], "a": null, "b": "last"}"#)?;
//! assert_eq!(v, serde_json::json!({"a": null, "b": "last"}));
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses `bytes` as one JSON value (whitespace around it allowed, nothing else).
pub fn from_slice(bytes: &[u8]) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Bulk::deserialize(&mut de)?.0;
    de.end()?;
    Ok(value)
}

/// A value whose objects are built in bulk.
struct Bulk(Value);

impl<'de> Deserialize<'de> for Bulk {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Bulk, D::Error> {
        deserializer.deserialize_any(BulkVisitor).map(Bulk)
    }
}

struct BulkVisitor;

impl<'de> Visitor<'de> for BulkVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Bulk::deserialize(d).map(|b| b.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Bulk(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members: Vec<(String, Value)> =
            Vec::with_capacity(map.size_hint().unwrap_or(8).min(4096));
        while let Some(key) = map.next_key::<String>()? {
            let Bulk(v) = map.next_value()?;
            members.push((key, v));
        }
        // The B-tree's bulk build sorts stably and keeps the last of equal keys, as
        // serde_json's own parser does when a member repeats.
        Ok(Value::Object(
            members.into_iter().collect::<Map<String, Value>>(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_serde(text: &str) {
        let ours = from_slice(text.as_bytes());
        let theirs = serde_json::from_str::<Value>(text);
        match (ours, theirs) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b, "{text}");
                assert_eq!(a.to_string(), b.to_string(), "{text}");
            }
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{text}: ours {a:?}, serde_json {b:?}"),
        }
    }

    #[test]
    fn values_equal_serde_json_s() {
        for text in [
            "null",
            " true ",
            "0",
            "-0",
            "18446744073709551615",
            "-9223372036854775808",
            "1e400",
            "2.5e-3",
            r#""a\u00e9\ud83d\ude00\n""#,
            "[]",
            "{}",
            r#"{"z": 1, "a": {"y": [1, {"c": null, "b": false}], "x": "s"}, "m": []}"#,
            r#"{"dup": 1, "other": 2, "dup": {"last": true}}"#,
            r##"[{"id": "1"}, {"id": "2", "@odata.type": "#microsoft.graph.user"}]"##,
        ] {
            same_as_serde(text);
        }
        // Objects wider than one B-tree node, members in reverse and shuffled order.
        let wide: Vec<String> = (0..100)
            .rev()
            .map(|i| format!(r#""k{:03}": {}"#, (i * 37) % 100, i))
            .collect();
        same_as_serde(&format!("{{{}}}", wide.join(",")));
    }

    #[test]
    fn bad_input_is_an_error() {
        for text in [
            "",
            "{",
            r#"{"a": }"#,
            "[1,]",
            "nul",
            "{} {}",
            "\"\\ud800x",
            "01",
        ] {
            assert!(from_slice(text.as_bytes()).is_err(), "{text:?}");
            same_as_serde(text);
        }
    }
}
