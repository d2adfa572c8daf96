//! Text renderers for people: the diff, the restore plan and the restore report.
//!
//! Machines read these types as JSON (they are `serde` types); people read the text built
//! here. The renderers are the types' own methods ([`Diff::render_text`],
//! [`Diff::render_all`], [`RestorePlan::render_text`], [`RestoreReport::render_text`]), kept
//! together in this module so the wording and layout of every report stay consistent, and so
//! the modules that compute a diff or a restore need nothing from the one that prints them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::diff::{ChangeType, Diff, RENDER_PER_GROUP, ResourceChange, Severity};
use crate::restore::{GuardLevel, Resolution, RestorePlan, RestoreReport, StepAction, StepOutcome};

impl Diff {
    /// A readable summary (at most [`RENDER_PER_GROUP`] changes per kind and change type;
    /// [`Diff::render_all`] lists every one).
    pub fn render_text(&self, min: Severity) -> String {
        self.render(min, Some(RENDER_PER_GROUP))
    }

    /// A readable summary listing every change.
    pub fn render_all(&self, min: Severity) -> String {
        self.render(min, None)
    }

    /// Counts by severity and kind, then changes by severity with their fields, at most
    /// `per_group` per kind and change type.
    fn render(&self, min: Severity, per_group: Option<usize>) -> String {
        let mut t = String::new();
        let shown: Vec<&ResourceChange> =
            self.changes.iter().filter(|c| c.severity >= min).collect();
        let _ = writeln!(t, "Diff {} -> {}", self.from, self.to);
        if shown.is_empty() && self.kind_notes.is_empty() {
            let _ = writeln!(t, "No changes at or above {min}.");
            return t;
        }
        let counts: Vec<String> = self
            .counts()
            .iter()
            .rev()
            .filter(|(s, _)| **s >= min)
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        let _ = writeln!(t, "{} changes: {}", shown.len(), counts.join(", "));
        let mut by_kind: BTreeMap<(&str, ChangeType), usize> = BTreeMap::new();
        for c in &shown {
            *by_kind.entry((&c.kind, c.change)).or_insert(0) += 1;
        }
        for ((kind, change), n) in by_kind {
            let word = match change {
                ChangeType::Added => "added",
                ChangeType::Removed => "removed",
                ChangeType::Modified => "modified",
            };
            let _ = writeln!(t, "  {kind:<40} {n:>6} {word}");
        }
        for note in &self.kind_notes {
            let _ = writeln!(t, "  ! {}: {}", note.kind, note.note);
        }
        let _ = writeln!(t);
        let mut listed: BTreeMap<(&str, ChangeType), usize> = BTreeMap::new();
        let mut hidden: BTreeMap<(&str, ChangeType), usize> = BTreeMap::new();
        for c in shown {
            let n = listed.entry((&c.kind, c.change)).or_insert(0);
            *n += 1;
            if per_group.is_some_and(|max| *n > max) {
                *hidden.entry((&c.kind, c.change)).or_insert(0) += 1;
                continue;
            }
            let sign = match c.change {
                ChangeType::Added => '+',
                ChangeType::Removed => '-',
                ChangeType::Modified => '~',
            };
            let _ = writeln!(
                t,
                "[{:<8}] {sign} {} {} ({}){}",
                c.severity.as_str().to_uppercase(),
                c.kind,
                c.label,
                c.id,
                if c.reasons.is_empty() {
                    String::new()
                } else {
                    format!(": {}", c.reasons.join("; "))
                }
            );
            for f in &c.fields {
                let _ = writeln!(
                    t,
                    "      ~ {}: {} -> {}",
                    f.pointer,
                    short(&f.old, 80),
                    short(&f.new, 80)
                );
            }
        }
        for ((kind, change), n) in hidden {
            let word = format!("{change:?}").to_lowercase();
            let _ = writeln!(
                t,
                "  … and {n} more {kind} {word} (the JSON output lists all)"
            );
        }
        t
    }
}

impl RestorePlan {
    /// A readable summary: counts per kind and action, then the details.
    pub fn render_text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "Restore plan: snapshot {} ({}) -> {} [{}]",
            self.source, self.source_tenant, self.target_tenant, self.provider
        );
        let _ = write!(t, "{} steps, {} writes", self.steps.len(), self.writes());
        let (repairs, dangling) = (self.repairs().count(), self.dangling().count());
        if repairs > 0 {
            let _ = write!(t, ", {repairs} references of existing resources repaired");
        }
        if dangling > 0 {
            let _ = write!(
                t,
                ", {dangling} references of existing resources UNRESOLVED"
            );
        }
        let _ = writeln!(t);
        for g in &self.guard {
            let level = match g.level {
                GuardLevel::Critical => "CRITICAL",
                GuardLevel::Warning => "warning",
            };
            let _ = writeln!(t, "  !! {level}: {}", g.message);
        }
        if self.is_critical() {
            let _ = writeln!(
                t,
                "  !! execution is refused unless the lockout override is given"
            );
        }
        let _ = writeln!(t, "\nBy kind (skipped resources not listed):");
        for ((kind, action), n) in self.counts() {
            if action != "skip" {
                let _ = writeln!(t, "  {kind:<40} {action:<15} {n}");
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(t, "\nWhat cannot come back:");
            for n in &self.notes {
                let _ = writeln!(t, "  - {n}");
            }
        }
        let unresolved: Vec<_> = self.unresolved().collect();
        if !unresolved.is_empty() {
            let _ = writeln!(t, "\nUnresolved references (dropped from the write):");
            for (s, r) in unresolved {
                let _ = writeln!(
                    t,
                    "  - step {} {} {}: {} -> {} {}",
                    s.index, s.kind, s.label, r.pointer, r.kind, r.source_id
                );
            }
        }
        let dangling: Vec<_> = self.dangling().collect();
        if !dangling.is_empty() {
            let _ = writeln!(
                t,
                "\nUnresolved references of existing resources (left as they are):"
            );
            for (s, d) in dangling {
                let holds = d
                    .current
                    .as_deref()
                    .map_or("nothing".to_string(), |c| format!("{c:?}"));
                let names = match d.recreated_by {
                    Some(step) => format!("{} re-created by step {step}", d.kind),
                    None => format!("{} missing from the target", d.kind),
                };
                let _ = writeln!(
                    t,
                    "  - step {} {} {}: {} holds {holds}, should name {names}: {}",
                    s.index, s.kind, s.label, d.pointer, d.reason
                );
            }
        }
        let _ = writeln!(t, "\nSteps:");
        for s in self
            .steps
            .iter()
            .filter(|s| !matches!(s.action, StepAction::Skip { .. }))
        {
            let target = s
                .target_id
                .as_deref()
                .map(|t| format!(" (target {t})"))
                .unwrap_or_default();
            let _ = writeln!(
                t,
                "  {:>4}. {:<15} {} {}{target}",
                s.index,
                s.action.label(),
                s.kind,
                s.label
            );
            match &s.action {
                StepAction::Update { changes } => {
                    for c in changes {
                        let _ = writeln!(
                            t,
                            "          ~ {}: {} -> {}",
                            c.pointer,
                            short(&c.old, 60),
                            short(&c.new, 60)
                        );
                    }
                }
                StepAction::Repair { repairs } => {
                    for r in repairs {
                        let (from, how) = match &r.current {
                            Some(old) => (format!("{old:?} (dangling)"), "written"),
                            None => ("nothing".to_string(), "added"),
                        };
                        let _ = writeln!(
                            t,
                            "          ~ ref {}: {from} -> {} '{}', re-created by step {} (its new id is {how} at execution)",
                            r.pointer, r.kind, r.label, r.created_by
                        );
                    }
                    let _ = writeln!(
                        t,
                        "          only these references are written; other fields stay as they are in the target"
                    );
                }
                StepAction::CannotRestore { reason } => {
                    let _ = writeln!(t, "          {reason}");
                }
                StepAction::Ambiguous { candidates } => {
                    let _ = writeln!(
                        t,
                        "          matches {} target resources: {}",
                        candidates.len(),
                        candidates.join(", ")
                    );
                }
                _ => {}
            }
            if matches!(s.action, StepAction::Repair { .. }) {
                // The repair lines above say what its references become.
                continue;
            }
            for r in &s.references {
                let how = match &r.resolution {
                    Resolution::InTarget { target_id } => format!("existing {target_id}"),
                    Resolution::InPlan { step } => format!("created by step {step}"),
                    Resolution::Unresolved => "UNRESOLVED".to_string(),
                };
                let at = if r.pointer.is_empty() {
                    "parent"
                } else {
                    &r.pointer
                };
                let _ = writeln!(t, "          ref {at} -> {} {}: {how}", r.kind, r.source_id);
            }
        }
        let skipped = self
            .steps
            .iter()
            .filter(|s| matches!(s.action, StepAction::Skip { .. }))
            .count();
        if skipped > 0 {
            let _ = writeln!(t, "  ({skipped} resources skipped: already present)");
        }
        if !self.rotation_checklist.is_empty() {
            let _ = writeln!(t, "\nRotate or re-enter after restore:");
            for p in &self.rotation_checklist {
                let _ = writeln!(
                    t,
                    "  [ ] {} {}: {} at {}",
                    p.kind, p.resource, p.secret, p.field
                );
            }
        }
        t
    }
}

impl RestoreReport {
    /// A readable summary of the ledger.
    pub fn render_text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "Restore executed: {} created, {} updated ({} reference repairs), {} failed, {} unverified references",
            self.created,
            self.updated,
            self.repaired,
            self.failed,
            self.unverified.len()
        );
        for e in &self.ledger {
            let line = match &e.outcome {
                StepOutcome::Created => format!(
                    "created {} -> {}",
                    e.old_id,
                    e.new_id.as_deref().unwrap_or("?")
                ),
                StepOutcome::Updated => {
                    format!("updated {}", e.new_id.as_deref().unwrap_or(&e.old_id))
                }
                StepOutcome::NotWritten => continue,
                StepOutcome::DependencyFailed { step } => {
                    format!("not attempted {}: step {step} failed", e.old_id)
                }
                StepOutcome::Failed { error, .. } => format!("FAILED {}: {error}", e.old_id),
            };
            let _ = writeln!(t, "  {:>4}. {} {line}", e.step, e.kind);
        }
        for u in &self.unverified {
            let entry = self.ledger.iter().find(|e| e.step == u.step);
            let of = entry.map_or(String::new(), |e| {
                format!(" {} {}", e.kind, e.new_id.as_deref().unwrap_or(&e.old_id))
            });
            let left = match entry.map(|e| &e.outcome) {
                Some(StepOutcome::Created | StepOutcome::Updated) => "",
                _ => " (left as it was)",
            };
            let _ = writeln!(
                t,
                "  unverified: step {}{of} {} -> {} {} does not exist{left}",
                u.step, u.pointer, u.kind, u.target_id
            );
        }
        if !self.rotation_checklist.is_empty() {
            let _ = writeln!(t, "Rotate or re-enter:");
            for p in &self.rotation_checklist {
                let _ = writeln!(
                    t,
                    "  [ ] {} {}: {} at {}",
                    p.kind, p.resource, p.secret, p.field
                );
            }
        }
        t
    }
}

/// A value for a one-line summary: JSON, cut at `max` characters.
pub(crate) fn short(v: &Option<Value>, max: usize) -> String {
    match v {
        None => "(absent)".to_string(),
        Some(v) => {
            let s = v.to_string();
            if s.chars().count() > max {
                format!("{}…", s.chars().take(max).collect::<String>())
            } else {
                s
            }
        }
    }
}
