//! Diff engine tests: change types, nested and keyed arrays, volatile fields, severity rules,
//! kind outcome changes, JSON and text output.

use butterfly_core::diff::{self, ChangeType, Diff, Severity, SeverityRule};
use butterfly_core::kind::{ArrayKey, Category, KindRef, KindSpec};
use butterfly_core::snapshot::{KindOutcome, Snapshot, SnapshotId, SnapshotMeta};
use butterfly_core::{ErrorKind, Resource};
use serde_json::{Value, json};

const POLICY: KindSpec = KindSpec {
    natural_key: &["/name"],
    volatile_fields: &["/lastUpdated", "/_links", "/rules/*/stats"],
    array_keys: &[ArrayKey {
        pointer: "/rules",
        key: "id",
    }],
    ..KindSpec::new("t.policy", "Policies", Category::Policy)
};
const GROUP: KindSpec = KindSpec {
    natural_key: &["/name"],
    ..KindSpec::new("t.group", "Groups", Category::Directory)
};
const ROLE: KindSpec = KindSpec::new(
    "t.role_assignment",
    "Role assignments",
    Category::Authorization,
);
static KINDS: &[KindRef] = &[&POLICY, &GROUP, &ROLE];

fn snap(resources: Vec<(&'static KindSpec, &str, Value)>) -> Snapshot {
    let at = chrono::Utc::now();
    let mut s = Snapshot::new(SnapshotMeta {
        id: SnapshotId::generate("t", at),
        provider: "t".into(),
        tenant: "x".into(),
        started_at: at,
        finished_at: at,
    });
    for kind in [&POLICY, &GROUP, &ROLE] {
        let list: Vec<Resource> = resources
            .iter()
            .filter(|(k, _, _)| k.id == kind.id)
            .map(|(k, id, b)| Resource::new(*k, *id, None, b.clone()))
            .collect();
        s.insert_kind(kind.id, KindOutcome::Complete, list);
    }
    s
}

fn policy(rules: Value) -> Value {
    json!({"name": "MFA", "status": "ACTIVE", "lastUpdated": "2026-01-01", "_links": {"self": "a"}, "rules": rules, "conditions": {"people": {"groups": {"include": ["g1", "g2"]}}}})
}

fn rules() -> Value {
    json!([{"id": "r1", "name": "admins", "factorRequired": true, "stats": 1}, {"id": "r2", "name": "everyone", "factorRequired": false}])
}

#[test]
fn added_removed_modified() {
    let a = snap(vec![
        (&GROUP, "g1", json!({"name": "eng"})),
        (&GROUP, "g2", json!({"name": "ops"})),
    ]);
    let b = snap(vec![
        (&GROUP, "g2", json!({"name": "ops", "description": "x"})),
        (&GROUP, "g3", json!({"name": "new"})),
    ]);
    let d = diff::diff(&a, &b, KINDS, &[]);
    let kinds: Vec<(ChangeType, &str)> = d
        .changes
        .iter()
        .map(|c| (c.change, c.id.as_str()))
        .collect();
    assert!(kinds.contains(&(ChangeType::Removed, "g1")));
    assert!(kinds.contains(&(ChangeType::Added, "g3")));
    let m = d.changes.iter().find(|c| c.id == "g2").unwrap();
    assert_eq!(m.change, ChangeType::Modified);
    assert_eq!(m.fields.len(), 1);
    assert_eq!(m.fields[0].pointer, "/description");
    assert_eq!(m.fields[0].old, None);
    assert_eq!(m.fields[0].new, Some(json!("x")));
    assert_eq!(m.label, "ops");
}

#[test]
fn nested_objects_and_positional_arrays() {
    let a = snap(vec![(&POLICY, "p1", policy(rules()))]);
    let mut changed = policy(rules());
    changed["conditions"]["people"]["groups"]["include"] = json!(["g1", "g3", "g4"]);
    let b = snap(vec![(&POLICY, "p1", changed)]);
    let d = diff::diff(&a, &b, KINDS, &[]);
    let f = &d.changes[0].fields;
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(f[0].pointer, "/conditions/people/groups/include/1");
    assert_eq!(
        (f[0].old.clone(), f[0].new.clone()),
        (Some(json!("g2")), Some(json!("g3")))
    );
    assert_eq!(f[1].pointer, "/conditions/people/groups/include/2");
    assert_eq!(f[1].old, None);
}

#[test]
fn keyed_arrays_match_by_key() {
    let a = snap(vec![(&POLICY, "p1", policy(rules()))]);
    // Reordered only: not a change.
    let reordered = json!([{"id": "r2", "name": "everyone", "factorRequired": false}, {"id": "r1", "name": "admins", "factorRequired": true, "stats": 1}]);
    let b = snap(vec![(&POLICY, "p1", policy(reordered))]);
    assert!(diff::diff(&a, &b, KINDS, &[]).is_empty());
    // Reordered and one element changed: reported by key, not position.
    let changed = json!([{"id": "r2", "name": "everyone", "factorRequired": false}, {"id": "r1", "name": "admins", "factorRequired": false, "stats": 9}]);
    let c = snap(vec![(&POLICY, "p1", policy(changed))]);
    let d = diff::diff(&a, &c, KINDS, &[]);
    let f = &d.changes[0].fields;
    assert_eq!(f.len(), 1, "stats is volatile under /rules/*/stats: {f:?}");
    assert_eq!(f[0].pointer, "/rules/[id=r1]/factorRequired");
    // A removed element is reported whole under its key.
    let removed = json!([{"id": "r1", "name": "admins", "factorRequired": true}]);
    let e = snap(vec![(&POLICY, "p1", policy(removed))]);
    let d = diff::diff(&a, &e, KINDS, &[]);
    assert_eq!(d.changes[0].fields[0].pointer, "/rules/[id=r2]");
    assert_eq!(d.changes[0].fields[0].new, None);
}

#[test]
fn volatile_only_changes_are_not_modifications() {
    let a = snap(vec![(&POLICY, "p1", policy(rules()))]);
    let mut v = policy(rules());
    v["lastUpdated"] = json!("2026-11-24");
    v["_links"]["self"] = json!("b");
    let b = snap(vec![(&POLICY, "p1", v)]);
    assert!(diff::diff(&a, &b, KINDS, &[]).is_empty());
}

#[test]
fn severity_defaults_and_provider_rules() {
    let a = snap(vec![
        (&POLICY, "p1", policy(rules())),
        (&POLICY, "p2", json!({"name": "other", "status": "ACTIVE"})),
        (&GROUP, "g1", json!({"name": "eng"})),
    ]);
    let mut deactivated = json!({"name": "other", "status": "INACTIVE"});
    deactivated["x"] = json!(1);
    let b = snap(vec![
        (&POLICY, "p2", deactivated),
        (&ROLE, "ra1", json!({"role": "SUPER_ADMIN"})),
    ]);
    // Defaults only.
    let d = diff::diff(&a, &b, KINDS, &[]);
    let sev = |d: &Diff, id: &str| d.changes.iter().find(|c| c.id == id).unwrap().severity;
    assert_eq!(sev(&d, "p1"), Severity::High, "removed policy");
    assert_eq!(sev(&d, "g1"), Severity::Medium, "removed group");
    assert_eq!(sev(&d, "ra1"), Severity::Medium, "added authorization");
    assert_eq!(sev(&d, "p2"), Severity::Medium, "modified policy");
    // Provider rules raise them; the highest wins and its reason is kept.
    let rules = vec![
        SeverityRule::removed("t.policy*", Severity::Critical, "a policy was deleted"),
        SeverityRule::field_changed(
            "t.policy",
            "/status",
            Severity::High,
            "a policy was deactivated",
        )
        .to(json!("INACTIVE")),
        SeverityRule::field_changed("t.policy", "/status", Severity::Critical, "never matches")
            .from(json!("STAGED")),
        SeverityRule::added(
            "t.role_assignment",
            Severity::High,
            "new admin role assignment",
        ),
    ];
    let d = diff::diff(&a, &b, KINDS, &rules);
    assert_eq!(sev(&d, "p1"), Severity::Critical);
    assert_eq!(sev(&d, "p2"), Severity::High);
    assert_eq!(sev(&d, "ra1"), Severity::High);
    let p2 = d.changes.iter().find(|c| c.id == "p2").unwrap();
    assert_eq!(p2.reasons, vec!["a policy was deactivated".to_string()]);
    assert_eq!(
        d.changes[0].severity,
        Severity::Critical,
        "ranked highest first"
    );
    assert_eq!(d.max_severity(), Some(Severity::Critical));
    assert_eq!(d.filter(Severity::High).changes.len(), 3);
}

#[test]
fn a_kind_that_became_unreadable_is_not_everything_removed() {
    let a = snap(vec![(&GROUP, "g1", json!({"name": "eng"}))]);
    let mut b = a.clone();
    b.kinds.get_mut("t.group").unwrap().outcome = KindOutcome::Denied {
        missing: "okta.groups.read".into(),
    };
    b.kinds.get_mut("t.group").unwrap().resources.clear();
    let d = diff::diff(&a, &b, KINDS, &[]);
    assert!(d.changes.is_empty(), "{:?}", d.changes);
    assert_eq!(d.kind_notes.len(), 1);
    assert!(d.kind_notes[0].note.contains("okta.groups.read"));
    assert!(d.render_text(Severity::Info).contains("no longer readable"));
}

#[test]
fn json_round_trip_and_text() {
    let a = snap(vec![
        (&POLICY, "p1", policy(rules())),
        (&GROUP, "g~/1", json!({"name": "eng"})),
    ]);
    let mut p = policy(rules());
    p["a/b~c"] = json!(true);
    let b = snap(vec![(&POLICY, "p1", p)]);
    let d = diff::diff(&a, &b, KINDS, &[]);
    let text = serde_json::to_string(&d).unwrap();
    let back: Diff = serde_json::from_str(&text).unwrap();
    assert_eq!(back, d);
    let p1 = d.changes.iter().find(|c| c.id == "p1").unwrap();
    assert_eq!(p1.fields[0].pointer, "/a~1b~0c", "keys are escaped");
    let rendered = d.render_text(Severity::Info);
    assert!(
        rendered.contains("~ /a~1b~0c: (absent) -> true"),
        "{rendered}"
    );
    assert!(rendered.contains("- t.group eng (g~/1)"), "{rendered}");
    let high_only = d.render_text(Severity::High);
    assert!(
        !high_only.contains("t.policy MFA"),
        "low changes hidden: {high_only}"
    );
    assert!("HIGH".parse::<Severity>().is_ok());
    assert_eq!(
        "nope".parse::<Severity>().unwrap_err().kind(),
        ErrorKind::Config
    );
}
