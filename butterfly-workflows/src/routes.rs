//! Every route of the assumed Okta Workflows management API, in one table.
//!
//! **This is an assumption.** Okta publishes no description of the API its Workflows console
//! uses to list, export and import folders, flows, tables and connections; the only public
//! routes are the per-flow `/api/flo/{flowId}/invoke` family. The routes below are modelled on
//! what is public: the flopack format (`type`, `version`, `data.flos`, `data.tables`,
//! `data.groups`, `checksum`, as exported by the console's *Export folder*), the console's
//! vocabulary (folders are `groups`, flows are `flos`, tables are `stash` tables, connectors
//! are the module names of Okta's template catalogue `connectors.json`: `okta`, `slack`,
//! `amazons3_29`, …), and the
//! setup the product documents (a service account with the Workflow Administrator role that
//! signs in with a password, no MFA). Correcting them against a real org is a change of this
//! one file: every request of the crate takes its path from here.
//!
//! Paths are relative to the API root `<WORKFLOWS_ORG_URL>/app/api/`. `{0}`, `{1}` are the
//! parts of a parent's id (the table engine's convention); `{id}` is filled by the functions
//! below.
//!
//! | route | method | body sent | answer |
//! |---|---|---|---|
//! | [`LOGIN`] | POST | `{"username","password"}` | `{"token","expiresIn"}` (seconds); the token is then sent as `Authorization: Bearer <token>` |
//! | [`FOLDERS`] | GET | | `[{"id","name","description"}]` |
//! | [`FLOWS`] | GET | | `[{"id","name","description","enabled","cards":[{"uuid","address","title"}],"connectors":[…]}]` |
//! | [`TABLES`] | GET | | `[{"id","name","description","columns":[{"name","type","default"}]}]` |
//! | [`table_rows_export`] | GET | | `text/csv`, a header row of the column names, then one line per row |
//! | [`CONNECTIONS`] | GET | | `[{"id","name","connector","authType","status","credentials":{…}}]` |
//! | [`CONNECTOR_PROJECTS`] | GET | | summaries `[{"id","name"}]`; each read in full at `connectors/{id}` |
//! | [`folder_export`] | GET | | `{"flopack": "<the file's text, byte for byte>", "sha256": "<hex of its bytes>"}` |
//! | [`CREATE_FOLDER`] | POST | `{"name","description"}` | the folder |
//! | [`folder_import`] | POST | `{"flopack": "<the file's text>"}` | `{"flos": n, "tables": n}`; 400 for a flopack it cannot import |
//! | [`flow_state`] | PUT | `{"enabled": false}` | the flow |
//! | [`table_rows_import`] | POST | `{"csv": "<text>"}` | `{"imported": n}` |
//! | [`CREATE_CONNECTOR_PROJECT`] | POST | the project as backed up, renamed | the project |
//!
//! Errors answer `{"error": {"code", "message"}}`: 401 for a missing or expired session (the
//! client signs in again once), 403 without the Workflow Administrator role or, for the
//! Connector Builder routes alone, without the Connector Builder permission.

/// The API root below the org URL.
pub const API_ROOT: &str = "app/api/";
/// Sign-in of the service account with its password.
pub const LOGIN: &str = "session";
/// Folders (the flopack's `groups`).
pub const FOLDERS: &str = "groups";
/// Flows of a folder.
pub const FLOWS: &str = "groups/{0}/flos";
/// Tables of a folder, with their schema.
pub const TABLES: &str = "groups/{0}/tables";
/// Connections (connector, name, auth type; credentials never kept).
pub const CONNECTIONS: &str = "connections";
/// Connector Builder projects (summaries; read in full at `connectors/{id}`).
pub const CONNECTOR_PROJECTS: &str = "connectors";
/// Creates a folder.
pub const CREATE_FOLDER: &str = "groups";
/// Creates a Connector Builder project.
pub const CREATE_CONNECTOR_PROJECT: &str = "connectors";

/// A table's rows as CSV, under the folder and table id parts.
pub const TABLE_ROWS: &str = "groups/{0}/tables/{1}/rows/export";
/// A folder's flopack, under the folder id.
pub const FLOPACK: &str = "groups/{0}/export";

/// A table's rows as CSV ([`TABLE_ROWS`]).
pub fn table_rows_export(folder: &str, table: &str) -> String {
    TABLE_ROWS.replace("{0}", folder).replace("{1}", table)
}

/// Imports CSV rows into a table.
pub fn table_rows_import(folder: &str, table: &str) -> String {
    format!("groups/{folder}/tables/{table}/rows/import")
}

/// A folder's flopack (the console's *Export folder*, [`FLOPACK`]).
pub fn folder_export(folder: &str) -> String {
    FLOPACK.replace("{0}", folder)
}

/// Imports a flopack into a folder.
pub fn folder_import(folder: &str) -> String {
    format!("groups/{folder}/import")
}

/// Turns a flow on or off.
pub fn flow_state(flow: &str) -> String {
    format!("flos/{flow}/state")
}
