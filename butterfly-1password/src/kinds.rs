//! The 1Password Connect kinds table: one [`Row`] per kind (the plain core row: nothing is
//! ever written back).
//!
//! | kind | listing | what is kept |
//! |---|---|---|
//! | `onepassword.vault` | `GET /v1/vaults` | name, description, type, attribute and content versions, item count, timestamps |
//! | `onepassword.item` | `GET /v1/vaults/{vaultId}/items`, each item then read in full at `…/items/{itemId}` | title, category, tags, URLs, favorite, vault, version, state, timestamps, sections, and each field's id, label, type, purpose and section; secret values as placeholders (see [`crate::item`]) |
//! | `onepassword.item_file` | `GET /v1/vaults/{vaultId}/items/{itemId}/files`, for items with files | id, name, size, section, content path; never the content |
//!
//! Items are sub-resources of their vault (ids `{vaultId}/{itemId}`), files of their item
//! (`{vaultId}/{itemId}/{fileId}`). Versions, counts and timestamps are kept but ignored by
//! diff: removing an item changes its vault's item count and content version, and the diff
//! shows the item itself.

use butterfly_core::kind::{ArrayKey, Category, KindSpec, ReferenceField, RestoreSupport};
use butterfly_core::resource::Resource;
use butterfly_core::table::{ListSpec, Row};
use serde_json::Value;

/// Why no 1Password kind can be restored.
pub const READ_ONLY: &str = "1Password Connect is read-only in butterfly: vault metadata and item structure are backed up for disaster-recovery documentation and diffs, never written back";

/// What reads every kind: a Connect token with read access to the vaults (a token only sees
/// the vaults it was granted).
pub const VAULT_READ: &str =
    "read access to the vaults (a Connect server access token granted each vault to back up)";

const fn spec(id: &'static str, name: &'static str) -> KindSpec {
    KindSpec {
        restore: RestoreSupport::None { reason: READ_ONLY },
        ..KindSpec::new(id, name, Category::Security)
    }
}

/// Vaults the token can read.
pub static VAULT: Row = Row {
    spec: KindSpec {
        natural_key: &["/name"],
        volatile_fields: &[
            "/attributeVersion",
            "/contentVersion",
            "/items",
            "/updatedAt",
        ],
        ..spec("onepassword.vault", "Vaults")
    },
    list: ListSpec::new("vaults", VAULT_READ),
};

/// Items of each vault, read in full (their field structure), secret values as placeholders.
pub static ITEM: Row = Row {
    spec: KindSpec {
        parent: Some("onepassword.vault"),
        natural_key: &["/title"],
        volatile_fields: &["/version", "/updatedAt", "/lastEditedBy"],
        reference_fields: &[ReferenceField {
            pointer: "/vault/id",
            kind: "onepassword.vault",
        }],
        array_keys: &[
            ArrayKey {
                pointer: "/fields",
                key: "id",
            },
            ArrayKey {
                pointer: "/sections",
                key: "id",
            },
        ],
        ..spec("onepassword.item", "Items")
    },
    list: ListSpec::new("vaults/{0}/items", VAULT_READ).detail(),
};

/// Whether an item (as stored) has files to list.
fn has_files(item: &Resource) -> bool {
    item.body
        .get("files")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
}

/// Files attached to items: metadata only, never the content.
pub static ITEM_FILE: Row = Row {
    spec: KindSpec {
        parent: Some("onepassword.item"),
        natural_key: &["/name"],
        ..spec("onepassword.item_file", "Item files")
    },
    list: ListSpec::new("vaults/{0}/items/{1}/files", VAULT_READ)
        // `content` (inline file contents) is never asked for, and never kept if sent.
        .keep_only(&["id", "name", "size", "section", "content_path"])
        .lists_parent(has_files),
};

butterfly_core::kind_table!(Row: VAULT, ITEM, ITEM_FILE);
