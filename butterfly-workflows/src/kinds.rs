//! The Workflows kinds table: one [`WorkflowsRow`] per kind.
//!
//! | kind | read from ([`routes`](mod@crate::routes)) | what is kept | restore |
//! |---|---|---|---|
//! | `workflows.folder` | `GET groups` | name, description | created as `<name> (Restored)` |
//! | `workflows.flow` | `GET groups/{folder}/flos` | name, description, on/off, cards, connectors | with its folder's flopack, off |
//! | `workflows.table` | `GET groups/{folder}/tables` | name, description, columns | schema with its folder's flopack |
//! | `workflows.table_rows` | `GET groups/{folder}/tables/{table}/rows/export` | the rows as CSV text, the columns, the row count | imported from the CSV |
//! | `workflows.connection` | `GET connections` | connector, name, auth type, status; credentials as placeholders | no: re-create and re-authenticate |
//! | `workflows.connector_project` | `GET connectors`, each at `connectors/{id}` | metadata, flows, card input/output schemas, auth configuration (secrets as placeholders) | created as `<name> (Restored)` |
//! | `workflows.flopack` | `GET groups/{folder}/export` | the folder's flopack byte for byte, its SHA-256, version, counts | imported into the restored folder |
//!
//! Flows, tables, table rows and flopacks are sub-resources of their folder (ids
//! `{folderId}/{ownId}`; table rows `{folderId}/{tableId}/rows`). A folder and a connector
//! project match across tenants by name, a restored copy's ` (Restored)` suffix left out, so
//! a second restore finds the first one's copy and creates nothing.

use butterfly_core::kind::{
    ArrayKey, Category, KindSpec, ReferenceField, ResourceKind, RestoreSupport, SecretField,
};
use butterfly_core::table::{ListSpec, TableKind};
use serde_json::Value;

use crate::routes;

/// The suffix of restored folder and connector project names.
pub const RESTORED_SUFFIX: &str = " (Restored)";

/// What reads every kind but connector projects.
pub const WORKFLOW_ADMIN: &str = "the Workflow Administrator role (Okta admin console: Security → Administrators → Add Administrator → Workflow Administrator)";

/// What reads (and creates) Connector Builder projects.
pub const CONNECTOR_BUILDER: &str = "the Connector Builder permission (Super Administrator, or a custom admin role with Connector Builder permissions)";

/// How a row is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// By the core table engine from the row's [`ListSpec`].
    Table,
    /// A table's rows, as CSV text ([`routes::table_rows_export`]).
    TableRowsCsv,
    /// A folder's flopack file ([`routes::folder_export`]).
    Flopack,
}

/// A Workflows table row: the core descriptor, its listing, how it is read, and whether its
/// name may carry the restore suffix.
#[derive(Debug, Clone, Copy)]
pub struct WorkflowsRow {
    /// The core descriptor.
    pub spec: KindSpec,
    /// How it is listed (for [`Read::Table`]; the others use it for the probe and the
    /// access they name).
    pub list: ListSpec,
    /// How it is read.
    pub read: Read,
    /// A restored copy's name ends with [`RESTORED_SUFFIX`]: the natural key leaves it out.
    pub restored_name: bool,
    /// For a kind with one resource per parent (a folder's flopack, a table's rows): its
    /// constant natural key, so that it matches its parent's copy in another tenant.
    pub one_per_parent: Option<&'static str>,
}

/// A name without its restore suffixes (`"HR (Restored)"` → `"HR"`).
pub fn original_name(name: &str) -> &str {
    let mut n = name;
    while let Some(s) = n.strip_suffix(RESTORED_SUFFIX) {
        n = s;
    }
    n
}

/// The name a restored copy gets.
pub fn restored_name(name: &str) -> String {
    format!("{}{RESTORED_SUFFIX}", original_name(name))
}

impl ResourceKind for WorkflowsRow {
    fn id(&self) -> &str {
        self.spec.id
    }
    fn display_name(&self) -> &str {
        self.spec.display_name
    }
    fn category(&self) -> Category {
        self.spec.category
    }
    fn depends_on(&self) -> &[&str] {
        self.spec.depends_on
    }
    fn parent(&self) -> Option<&str> {
        self.spec.parent
    }
    fn natural_key(&self) -> &[&str] {
        self.spec.natural_key
    }
    fn secret_fields(&self) -> &[SecretField] {
        self.spec.secret_fields
    }
    fn volatile_fields(&self) -> &[&str] {
        self.spec.volatile_fields
    }
    fn reference_fields(&self) -> &[ReferenceField] {
        self.spec.reference_fields
    }
    fn array_keys(&self) -> &[ArrayKey] {
        self.spec.array_keys
    }
    fn restore_support(&self) -> RestoreSupport {
        self.spec.restore
    }
    fn restore_note(&self) -> Option<&str> {
        self.spec.restore_note
    }
    fn structural_fields(&self) -> &[&str] {
        self.spec.structural_fields
    }
    fn natural_key_of(&self, body: &Value) -> Option<String> {
        if let Some(key) = self.one_per_parent {
            return Some(key.to_string());
        }
        let [field] = self.spec.natural_key else {
            return None;
        };
        let name = body.pointer(field)?.as_str()?;
        Some(if self.restored_name {
            original_name(name).to_string()
        } else {
            name.to_string()
        })
    }
}

impl TableKind for WorkflowsRow {
    fn list_spec(&self) -> &ListSpec {
        &self.list
    }
}

const fn spec(id: &'static str, name: &'static str) -> KindSpec {
    KindSpec {
        restore: RestoreSupport::CreateOnly,
        ..KindSpec::new(id, name, Category::Integration)
    }
}

/// Folders.
pub static FOLDER: WorkflowsRow = WorkflowsRow {
    spec: KindSpec {
        natural_key: &["/name"],
        restore_note: Some(
            "Workflows folders are created as \"<name> (Restored)\" to avoid conflicts, and filled by importing their flopack",
        ),
        ..spec("workflows.folder", "Folders")
    },
    list: ListSpec::new(routes::FOLDERS, WORKFLOW_ADMIN),
    read: Read::Table,
    restored_name: true,
    one_per_parent: None,
};

/// Flows of each folder: cards and on/off state.
pub static FLOW: WorkflowsRow = WorkflowsRow {
    spec: KindSpec {
        parent: Some("workflows.folder"),
        depends_on: &["workflows.flopack"],
        natural_key: &["/name"],
        array_keys: &[ArrayKey {
            pointer: "/cards",
            key: "uuid",
        }],
        restore_note: Some(
            "Workflows flows come back with their folder's flopack, turned off: test each flow before turning it on (individual flows cannot be restored separately)",
        ),
        ..spec("workflows.flow", "Flows")
    },
    list: ListSpec::new(routes::FLOWS, WORKFLOW_ADMIN),
    read: Read::Table,
    restored_name: false,
    one_per_parent: None,
};

/// Tables of each folder: the schema (`DATA_TABLE`: `TABLE` is the kinds table itself).
pub static DATA_TABLE: WorkflowsRow = WorkflowsRow {
    spec: KindSpec {
        parent: Some("workflows.folder"),
        depends_on: &["workflows.flopack"],
        natural_key: &["/name"],
        array_keys: &[ArrayKey {
            pointer: "/columns",
            key: "name",
        }],
        restore_note: Some("Workflows table schemas are created by the flopack import"),
        ..spec("workflows.table", "Tables")
    },
    list: ListSpec::new(routes::TABLES, WORKFLOW_ADMIN),
    read: Read::Table,
    restored_name: false,
    one_per_parent: None,
};

/// The rows of each table, as CSV text.
pub static TABLE_ROWS: WorkflowsRow = WorkflowsRow {
    spec: KindSpec {
        parent: Some("workflows.table"),
        restore_note: Some(
            "Workflows table rows are imported from the backed-up CSV after the flopack import created the schema: verify the table data",
        ),
        ..spec("workflows.table_rows", "Table rows")
    },
    list: ListSpec::new(routes::TABLE_ROWS, WORKFLOW_ADMIN),
    read: Read::TableRowsCsv,
    restored_name: false,
    one_per_parent: Some("rows"),
};

/// Why connections are not restored.
pub const CONNECTION_NOT_RESTORED: &str = "a connection holds third-party credentials, which are never backed up: re-create it in the Workflows console and re-authenticate it";

/// Connections: connector, name, auth type; credentials become placeholders.
pub static CONNECTION: WorkflowsRow = WorkflowsRow {
    spec: KindSpec {
        natural_key: &["/name"],
        secret_fields: &[SecretField {
            pointer: "/credentials/*",
            secret: "Workflows connection credential",
        }],
        volatile_fields: &["/status", "/lastValidated"],
        restore: RestoreSupport::None {
            reason: CONNECTION_NOT_RESTORED,
        },
        ..spec("workflows.connection", "Connections")
    },
    list: ListSpec::new(routes::CONNECTIONS, WORKFLOW_ADMIN),
    read: Read::Table,
    restored_name: false,
    one_per_parent: None,
};

/// Connector Builder projects: metadata, flows, card schemas, auth configuration.
pub static CONNECTOR_PROJECT: WorkflowsRow = WorkflowsRow {
    spec: KindSpec {
        natural_key: &["/name"],
        secret_fields: &[
            SecretField {
                pointer: "/auth/config/clientSecret",
                secret: "Connector Builder OAuth client secret",
            },
            SecretField {
                pointer: "/auth/config/apiKey",
                secret: "Connector Builder API key",
            },
        ],
        array_keys: &[ArrayKey {
            pointer: "/flows",
            key: "name",
        }],
        restore_note: Some(
            "Connector Builder projects are created as \"<name> (Restored)\" with their flows and auth configuration; their connections must be re-authenticated",
        ),
        ..spec("workflows.connector_project", "Connector Builder projects")
    },
    list: ListSpec::new(routes::CONNECTOR_PROJECTS, CONNECTOR_BUILDER).detail(),
    read: Read::Table,
    restored_name: true,
    one_per_parent: None,
};

/// One importable flopack per folder, byte for byte.
pub static FLOPACK: WorkflowsRow = WorkflowsRow {
    spec: KindSpec {
        parent: Some("workflows.folder"),
        ..spec("workflows.flopack", "Flopacks")
    },
    list: ListSpec::new(routes::FLOPACK, WORKFLOW_ADMIN),
    read: Read::Flopack,
    restored_name: false,
    one_per_parent: Some("flopack"),
};

butterfly_core::kind_table!(WorkflowsRow: FOLDER, FLOPACK, FLOW, DATA_TABLE, TABLE_ROWS, CONNECTION, CONNECTOR_PROJECT);
