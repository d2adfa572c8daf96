//! The flopack: the file the Workflows console's *Export folder* writes and *Import* reads.
//!
//! A flopack is JSON: `{"type": "flopack", "version", "created", "flags", "data": {"flos",
//! "configs", "tables", "groups", "projectOverview"?}, "checksum"?}`. [`Flopack`] parses every
//! format version of Okta's published templates (1.2.0 to 1.5.0) into typed structs; every
//! member the structs do not name is kept in an `extra` map, so nothing is lost to a newer
//! format.
//!
//! The parsed form is for analysis (counts, names, the connectors a folder uses, the diff). A
//! backup stores the **original bytes** ([`stored_body`]): re-serializing would change key
//! order and number formatting, and the file must import again exactly as exported.
//!
//! Checksums: a flopack's own `checksum` is computed by Okta with an unpublished algorithm,
//! so butterfly checks its form (64 hexadecimal digits when present) and keeps it verbatim.
//! The transfer is checked with the SHA-256 the export answer carries beside the file
//! ([`routes::folder_export`](crate::routes::folder_export)), and every stored flopack
//! carries the SHA-256 of its bytes, checked again by [`export`] before a restore imports it.
//!
//! ```
//! use butterfly_workflows::flopack::{self, Flopack};
//!
//! let text = br#"{"type":"flopack","version":"1.5.0","created":"2024-01-01T00:00:00.000Z","flags":{},
//!   "data":{"flos":{},"configs":{},"tables":{},"groups":{"g1":{"id":"g1","data":{"name":"Onboarding"}}},"future":1}}"#;
//! let pack = Flopack::parse(text).unwrap();
//! assert_eq!(pack.folder_name(), Some("Onboarding"));
//! assert!(pack.data.extra.contains_key("future"));
//! let body = flopack::stored_body(text).unwrap();
//! assert_eq!(flopack::export(&body).unwrap(), text.to_vec());
//! assert!(Flopack::parse(&text[..40]).is_err());
//! ```

use std::collections::{BTreeMap, BTreeSet};

use butterfly_core::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The format versions seen in Okta's published templates.
pub const KNOWN_VERSIONS: &[&str] = &["1.2.0", "1.3.0", "1.4.0", "1.5.0"];

/// A parsed flopack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flopack {
    /// Always `"flopack"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Format version (`"1.5.0"`).
    pub version: String,
    /// When it was exported.
    #[serde(default)]
    pub created: Option<String>,
    /// Import flags (`auto-transform`, `looseBooleans`, …).
    #[serde(default)]
    pub flags: Map<String, Value>,
    /// Flows, connections used, tables and folders.
    pub data: FlopackData,
    /// Okta's checksum (64 hex digits; absent in some 1.2.0 and 1.5.0 exports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// Members this struct does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `data` of a flopack.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlopackData {
    /// Flows by id.
    #[serde(default)]
    pub flos: BTreeMap<String, Flo>,
    /// Connections the flows use, by id (credentials are never exported).
    #[serde(default)]
    pub configs: BTreeMap<String, ConnectionRef>,
    /// Tables by id (schema only: exports hold no rows).
    #[serde(default)]
    pub tables: BTreeMap<String, Table>,
    /// Folders by id.
    #[serde(default)]
    pub groups: BTreeMap<String, Group>,
    /// The project overview of 1.5.0 exports.
    #[serde(
        rename = "projectOverview",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub project_overview: Option<Value>,
    /// Members this struct does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flo {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// The flow's definition.
    #[serde(default)]
    pub data: FloData,
    /// Members this struct does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A flow's definition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FloData {
    /// The cards, in order.
    #[serde(default)]
    pub methods: Vec<Card>,
    /// What the console previews: the connector modules of the cards.
    #[serde(default)]
    pub display: Option<Display>,
    /// The folder id.
    #[serde(default)]
    pub group: Option<String>,
    /// Members this struct does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A card of a flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    /// `root:kernel:control:0.0.1:callable`, `root:okta:…`.
    pub address: String,
    /// The card's id within the flow.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Members this struct does not name (`node`, `joins`, `branches`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The console preview of a flow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Display {
    /// The modules of the cards.
    #[serde(default)]
    pub preview: Vec<PreviewModule>,
    /// Members this struct does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One module of a flow preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewModule {
    /// Connector module (`okta`, `stash`, `marketo2_29`) or `control`, `text`, … for built-in
    /// functions.
    pub module: String,
    /// The card's action.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether it is a built-in function card.
    #[serde(default)]
    pub kernel: Option<bool>,
    /// Members this struct does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A connection a flow uses (no credentials).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionRef {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Connector module.
    #[serde(default)]
    pub module: Option<String>,
    /// Members this struct does not name (`data`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Schema.
    #[serde(default)]
    pub data: TableData,
    /// Members this struct does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A table's schema.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableData {
    /// Columns.
    #[serde(default)]
    pub structure: Vec<Column>,
    /// Folder id.
    #[serde(default)]
    pub group_id: Option<String>,
    /// Members this struct does not name (`class`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A table column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Name.
    pub name: String,
    /// Type (`str`, `number`, `date`, `bool`).
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Members this struct does not name (`default`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// Id.
    pub id: String,
    /// Name and description.
    #[serde(default)]
    pub data: GroupData,
    /// Members this struct does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A folder's name and description.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupData {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Members this struct does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Flopack {
    /// Parses a flopack file. A file that is not JSON (a truncated download), not a flopack,
    /// or whose `checksum` is not 64 hexadecimal digits is an `InvalidData` error saying so.
    pub fn parse(bytes: &[u8]) -> Result<Flopack> {
        let pack: Flopack = serde_json::from_slice(bytes).map_err(|e| {
            let what = if e.is_eof() {
                "the file ends early (truncated)"
            } else {
                "not a valid flopack"
            };
            Error::invalid_data(format!("{what}: {e}"))
        })?;
        if pack.kind != "flopack" {
            return Err(Error::invalid_data(format!(
                "not a flopack: its type is {:?}",
                pack.kind
            )));
        }
        if let Some(sum) = &pack.checksum
            && !(sum.len() == 64 && sum.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(Error::invalid_data(format!(
                "wrong checksum: {sum:?} is not 64 hexadecimal digits"
            )));
        }
        Ok(pack)
    }

    /// Whether the format version is one butterfly has seen ([`KNOWN_VERSIONS`]); others are
    /// parsed the same way, and the backup warns.
    pub fn is_known_version(&self) -> bool {
        KNOWN_VERSIONS.contains(&self.version.as_str())
    }

    /// The name of the (first) folder it exports.
    pub fn folder_name(&self) -> Option<&str> {
        self.data
            .groups
            .values()
            .next()
            .map(|g| g.data.name.as_str())
    }

    /// The connector modules its flows and connections use (built-in function cards left
    /// out), sorted.
    pub fn connector_modules(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for flo in self.data.flos.values() {
            for m in flo.data.display.iter().flat_map(|d| &d.preview) {
                if m.kernel != Some(true) {
                    out.insert(m.module.clone());
                }
            }
        }
        for c in self.data.configs.values() {
            out.extend(c.module.clone());
        }
        out
    }
}

/// The SHA-256 of bytes, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The stored body of a folder's flopack: the file's text verbatim (`text`), its SHA-256,
/// and what the parsed form says (format version, Okta's checksum, flow and table counts, the
/// connector modules used). The bytes must be a flopack ([`Flopack::parse`]) in UTF-8.
pub fn stored_body(bytes: &[u8]) -> Result<Value> {
    let pack = Flopack::parse(bytes)?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Error::invalid_data("a flopack that is not UTF-8 text"))?;
    let mut body = json!({
        "version": pack.version,
        "sha256": sha256_hex(bytes),
        "flows": pack.data.flos.len(),
        "tables": pack.data.tables.len(),
        "connectors": pack.connector_modules(),
        "text": text,
    });
    if let Some(sum) = &pack.checksum {
        body["checksum"] = json!(sum);
    }
    Ok(body)
}

/// The flopack file of a stored body, byte for byte, after checking its SHA-256: a body whose
/// text does not match is an `Integrity` error (it would not import what was backed up).
pub fn export(body: &Value) -> Result<Vec<u8>> {
    let text = body
        .get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid_data("a stored flopack without its text"))?;
    let want = body.get("sha256").and_then(Value::as_str).unwrap_or("");
    let have = sha256_hex(text.as_bytes());
    if want != have {
        return Err(Error::integrity(format!(
            "the stored flopack's SHA-256 is {have}, its record says {want:?}"
        )));
    }
    Ok(text.as_bytes().to_vec())
}
