//! Workflows restore, as the product promises it, through the core restore engine.
//!
//! The core engine ([`butterfly_core::restore`]) plans and executes: the dry run writes
//! nothing, the plan is ordered by the kinds' dependencies, the report is the core's. What is
//! Workflows' own is in the [`Restorer`](butterfly_core::Restorer) of
//! [`WorkflowsProvider`](crate::WorkflowsProvider) and here:
//!
//! 1. **Folder creation**: a missing folder is created as `<name> (Restored)`.
//! 2. **Flopack import**: the folder's stored flopack, checked against its SHA-256, is imported
//!    into it, recreating its flows and tables; every flow of the folder is then turned off.
//!    The flow and table steps of the plan find what the import created, by name (a flow
//!    still on is turned off).
//! 3. **Table data**: the rows are imported from the stored CSV after the schema exists
//!    ([`Selection::skip_table_data`] leaves them out).
//! 4. **Connector Builder projects** are created as `<name> (Restored)` with their flows and
//!    auth configuration (secrets on the rotation checklist).
//!
//! Selection is by folder and by connector project ([`options`]), never by single flow: the
//! flopack restores a folder as a unit, and a plan that would create flows or tables without
//! their folder's flopack import is stopped by the guard (a critical finding). A folder whose flopack holds no flows, only references
//! to Connector Builder projects, makes the import report an error: the plan says so up front
//! as an expected warning ([`expected_import_errors`]) and the execution carries on. A restored
//! copy matches its original by name without the suffix, so a second restore creates nothing.
//!
//! Execution needs the typed confirmation [`CONFIRMATION`] in the CLI (or `--yes`), and the
//! report ends with [`POST_RESTORE_CHECKLIST`].

use std::collections::BTreeSet;

use butterfly_core::restore::{GuardFinding, GuardLevel, RestoreOptions, RestorePlan, StepAction};
use butterfly_core::{Error, Result, Snapshot};
use serde_json::Value;

use crate::kinds;

/// What a user types to execute a Workflows restore.
pub const CONFIRMATION: &str = "RESTORE";

/// What to do after a Workflows restore, in order.
pub const POST_RESTORE_CHECKLIST: &[&str] = &[
    "Re-authenticate connections: all connector auth (OAuth, API keys) must be reconfigured, for standard connectors and Connector Builder projects alike",
    "Verify table data: check that table rows imported correctly",
    "Test flows before enabling: flows are restored turned off; test each one thoroughly",
    "Update hard-coded references: IDs, URLs or org-specific values in cards may need updating",
];

/// The kinds a Workflows restore writes, in the order it writes them.
pub const RESTORED_KINDS: &[&str] = &[
    "workflows.folder",
    "workflows.flopack",
    "workflows.flow",
    "workflows.table",
    "workflows.table_rows",
    "workflows.connector_project",
];

/// What to restore: folders and connector projects by name (or id); both empty means every
/// folder and every project of the snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Folder names (a restored copy's name works too) or ids.
    pub folders: Vec<String>,
    /// Connector Builder project names or ids.
    pub connectors: Vec<String>,
    /// Restore table schemas only, without their rows.
    pub skip_table_data: bool,
}

fn name_of(body: &Value) -> &str {
    body.get("name").and_then(Value::as_str).unwrap_or("")
}

/// The core restore options of a selection of `snapshot`: the kinds of [`RESTORED_KINDS`]
/// (table rows left out with `skip_table_data`), and when folders or projects are named, the
/// ids of each named folder with everything in it, and of each named project. A name that
/// matches nothing is a `Config` error listing the names there are.
pub fn options(snapshot: &Snapshot, selection: &Selection) -> Result<RestoreOptions> {
    let kinds: Vec<String> = RESTORED_KINDS
        .iter()
        .filter(|k| !(selection.skip_table_data && **k == "workflows.table_rows"))
        .map(|k| k.to_string())
        .collect();
    let mut options = RestoreOptions {
        kinds: Some(kinds.clone()),
        ..RestoreOptions::default()
    };
    if selection.folders.is_empty() && selection.connectors.is_empty() {
        return Ok(options);
    }
    let pick = |kind: &str, wanted: &[String], what: &str| -> Result<Vec<String>> {
        let all = snapshot.resources(kind);
        let mut ids = Vec::new();
        for w in wanted {
            let found: Vec<&str> = all
                .iter()
                .filter(|r| {
                    r.id == *w
                        || name_of(&r.body) == w
                        || kinds::original_name(name_of(&r.body)) == kinds::original_name(w)
                })
                .map(|r| r.id.as_str())
                .collect();
            if found.is_empty() {
                let names: Vec<&str> = all.iter().map(|r| name_of(&r.body)).collect();
                return Err(Error::config(format!(
                    "no {what} {w:?} in snapshot {}; there are: {}",
                    snapshot.meta.id,
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                )));
            }
            ids.extend(found.into_iter().map(str::to_string));
        }
        Ok(ids)
    };
    let folders = pick("workflows.folder", &selection.folders, "folder")?;
    let projects = pick(
        "workflows.connector_project",
        &selection.connectors,
        "Connector Builder project",
    )?;
    let mut ids: BTreeSet<String> = projects.into_iter().collect();
    for folder in &folders {
        ids.insert(folder.clone());
        let prefix = format!("{folder}/");
        for kind in &kinds {
            for r in snapshot.resources(kind) {
                if r.id.starts_with(&prefix) {
                    ids.insert(r.id.clone());
                }
            }
        }
    }
    options.ids = Some(ids.into_iter().collect());
    Ok(options)
}

/// Whether a stored flopack holds no flows and only references connectors: its import reports
/// an error, which is expected (the content is restored as a Connector Builder project).
pub fn only_references_connectors(flopack: &Value) -> bool {
    flopack.get("flows").and_then(Value::as_u64) == Some(0)
        && flopack
            .get("connectors")
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty())
}

/// What the provider's guard says about a plan: a warning for each folder whose flopack
/// import will report the expected error (it only references Connector Builder projects),
/// and a critical finding for each flow or table the plan would create without its folder's
/// flopack import (individual flows cannot be restored separately: restore the folder).
pub fn expected_import_errors(plan: &RestorePlan, source: &Snapshot) -> Vec<GuardFinding> {
    let folder_name = |id: Option<&str>| {
        id.and_then(|f| source.get("workflows.folder", f))
            .map(|f| name_of(&f.body).to_string())
            .unwrap_or_default()
    };
    let imported: BTreeSet<&str> = plan
        .steps
        .iter()
        .filter(|s| s.kind == "workflows.flopack" && s.action == StepAction::Create)
        .filter_map(|s| source.get(&s.kind, &s.source_id)?.parent_id.as_deref())
        .collect();
    let mut out = Vec::new();
    for s in plan.steps.iter().filter(|s| s.action == StepAction::Create) {
        let Some(resource) = source.get(&s.kind, &s.source_id) else {
            continue;
        };
        let folder = resource.parent_id.as_deref();
        match s.kind.as_str() {
            "workflows.flopack" if only_references_connectors(&resource.body) => {
                out.push(GuardFinding {
                    level: GuardLevel::Warning,
                    step: Some(s.index),
                    message: format!(
                        "folder {:?} only references Connector Builder projects: its flopack import will report an error, which is expected; the connector content is restored as its Connector Builder project",
                        folder_name(folder)
                    ),
                });
            }
            "workflows.flow" | "workflows.table"
                if !folder.is_some_and(|f| imported.contains(f)) =>
            {
                out.push(GuardFinding {
                    level: GuardLevel::Critical,
                    step: Some(s.index),
                    message: format!(
                        "{} {:?} of folder {:?} would be restored without its folder: individual flows and tables cannot be restored separately (the flopack restores a folder as a unit); restore the folder instead, which comes back as \"<name> (Restored)\"",
                        if s.kind == "workflows.flow" { "flow" } else { "table" },
                        name_of(&resource.body),
                        folder_name(folder)
                    ),
                });
            }
            _ => {}
        }
    }
    out
}

/// What a Workflows plan creates: folders, flows, tables, tables with rows, Connector Builder
/// projects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Folders created.
    pub folders: usize,
    /// Flows brought back (off) by the flopack imports.
    pub flows: usize,
    /// Tables whose schema the flopack imports create.
    pub tables: usize,
    /// Tables whose rows are imported from CSV.
    pub table_rows: usize,
    /// Connector Builder projects created.
    pub connector_projects: usize,
}

impl Counts {
    /// The counts of a plan's create steps.
    pub fn of(plan: &RestorePlan) -> Counts {
        let mut c = Counts::default();
        for s in plan.steps.iter().filter(|s| s.action == StepAction::Create) {
            match s.kind.as_str() {
                "workflows.folder" => c.folders += 1,
                "workflows.flow" => c.flows += 1,
                "workflows.table" => c.tables += 1,
                "workflows.table_rows" => c.table_rows += 1,
                "workflows.connector_project" => c.connector_projects += 1,
                _ => {}
            }
        }
        c
    }

    /// One line: `Workflows restore: 1 folder (3 flows, restored off), 2 tables (2 with rows), 0 connectors`.
    pub fn render(&self) -> String {
        format!(
            "Workflows restore: folders {}, flows {} (restored off), tables {} ({} with rows), connectors {} (Connector Builder projects)",
            self.folders, self.flows, self.tables, self.table_rows, self.connector_projects
        )
    }
}

/// The post-restore checklist as text, for the end of a report.
pub fn render_checklist() -> String {
    let mut out = String::from("Post-restore checklist:\n");
    for (i, item) in POST_RESTORE_CHECKLIST.iter().enumerate() {
        out.push_str(&format!("  {}. {item}\n", i + 1));
    }
    out
}
