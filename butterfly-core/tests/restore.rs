//! Restore engine tests against an in-memory tenant (provider + restorer) that counts writes.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::kind::{KindRef, ReferenceField, SecretField};
use butterfly_core::restore::{
    self, DanglingReference, ExecuteOptions, GuardFinding, GuardLevel, ReferenceRepair, Resolution,
    RestoreOptions, RestorePlan, Restorer, StepAction, StepOutcome, UnverifiedReference,
};
use butterfly_core::{
    AccessReport, Capabilities, Category, Error, ErrorKind, FetchContext, KindSpec, Provider,
    Resource, ResourceKind, Snapshot,
};
use serde_json::{Value, json};

/// A zone may name the group that owns it: a reference without a declared dependency, so a
/// zone comes before groups in a plan.
const ZONE: KindSpec = KindSpec {
    natural_key: &["/name"],
    reference_fields: &[ReferenceField {
        pointer: "/ownerGroup",
        kind: "m.group",
    }],
    ..KindSpec::new("m.zone", "Zones", Category::Security)
};
const GROUP: KindSpec = KindSpec {
    natural_key: &["/name"],
    ..KindSpec::new("m.group", "Groups", Category::Directory)
};
const USER: KindSpec = KindSpec {
    natural_key: &["/login"],
    ..KindSpec::new("m.user", "Users", Category::Directory)
};
const MEMBER: KindSpec = KindSpec {
    parent: Some("m.group"),
    depends_on: &["m.user"],
    reference_fields: &[ReferenceField {
        pointer: "/userId",
        kind: "m.user",
    }],
    restore: butterfly_core::RestoreSupport::CreateOnly,
    ..KindSpec::new("m.member", "Members", Category::Directory)
};
const POLICY: KindSpec = KindSpec {
    natural_key: &["/name"],
    depends_on: &["m.group", "m.zone"],
    reference_fields: &[
        ReferenceField {
            pointer: "/groups/*",
            kind: "m.group",
        },
        ReferenceField {
            pointer: "/zone",
            kind: "m.zone",
        },
    ],
    secret_fields: &[SecretField {
        pointer: "/hook/secret",
        secret: "hook secret",
    }],
    volatile_fields: &["/lastUpdated"],
    ..KindSpec::new("m.policy", "Policies", Category::Policy)
};
/// A user's role in a group: several rows name the same group and user, only `/role` differs.
const GRANT: KindSpec = KindSpec {
    parent: Some("m.group"),
    depends_on: &["m.user", "m.zone"],
    reference_fields: &[
        ReferenceField {
            pointer: "/userId",
            kind: "m.user",
        },
        ReferenceField {
            pointer: "/zoneId",
            kind: "m.zone",
        },
    ],
    structural_fields: &["/role"],
    restore: butterfly_core::RestoreSupport::CreateOnly,
    ..KindSpec::new("m.grant", "Grants", Category::Authorization)
};
static KINDS: &[KindRef] = &[&ZONE, &GROUP, &USER, &MEMBER, &POLICY, &GRANT];

/// kind -> id -> (parent id, body).
type TenantData = BTreeMap<String, BTreeMap<String, (Option<String>, Value)>>;

/// An in-memory tenant.
struct Tenant {
    name: String,
    data: Mutex<TenantData>,
    writes: AtomicUsize,
    next: AtomicUsize,
    fail_kind: Option<&'static str>,
}

impl Tenant {
    fn new(name: &str) -> Tenant {
        Tenant {
            name: name.into(),
            data: Mutex::new(BTreeMap::new()),
            writes: AtomicUsize::new(0),
            next: AtomicUsize::new(1),
            fail_kind: None,
        }
    }
    fn put(&self, kind: &str, id: &str, parent: Option<&str>, body: Value) {
        self.data
            .lock()
            .unwrap()
            .entry(kind.into())
            .or_default()
            .insert(id.into(), (parent.map(Into::into), body));
    }
    fn delete(&self, kind: &str, id: &str) {
        self.data.lock().unwrap().get_mut(kind).unwrap().remove(id);
    }
    fn count(&self, kind: &str) -> usize {
        self.data.lock().unwrap().get(kind).map_or(0, |m| m.len())
    }
    fn find(&self, kind: &str, field: &str, value: &str) -> Option<(String, Value)> {
        self.data
            .lock()
            .unwrap()
            .get(kind)?
            .iter()
            .find(|(_, (_, b))| b[field] == value)
            .map(|(id, (_, b))| (id.clone(), b.clone()))
    }
    /// A small org: 2 zones, 3 groups, 4 users, memberships, 2 policies.
    fn seeded(name: &str, prefix: &str) -> Tenant {
        let t = Tenant::new(name);
        for z in ["office", "vpn"] {
            t.put(
                "m.zone",
                &format!("{prefix}z-{z}"),
                None,
                json!({"name": z}),
            );
        }
        for g in ["admins", "eng", "sales"] {
            t.put(
                "m.group",
                &format!("{prefix}g-{g}"),
                None,
                json!({"name": g}),
            );
        }
        for u in ["ann", "bob", "cyd", "dee"] {
            t.put(
                "m.user",
                &format!("{prefix}u-{u}"),
                None,
                json!({"login": format!("{u}@example.com")}),
            );
        }
        for (g, u) in [
            ("admins", "ann"),
            ("eng", "bob"),
            ("eng", "cyd"),
            ("sales", "dee"),
        ] {
            t.put(
                "m.member",
                &format!("{prefix}g-{g}:{prefix}u-{u}"),
                Some(&format!("{prefix}g-{g}")),
                json!({"userId": format!("{prefix}u-{u}")}),
            );
        }
        t.put("m.policy", &format!("{prefix}p-mfa"), None, json!({"name": "MFA for eng", "groups": [format!("{prefix}g-eng"), format!("{prefix}g-admins")], "zone": format!("{prefix}z-office"), "requireMfa": true, "hook": {"secret": "SENTINEL-hook"}, "lastUpdated": "2026-01-01"}));
        t.put("m.policy", &format!("{prefix}p-sales"), None, json!({"name": "Sales", "groups": [format!("{prefix}g-sales")], "zone": format!("{prefix}z-vpn"), "requireMfa": false}));
        t
    }
}

#[async_trait]
impl Provider for Tenant {
    fn name(&self) -> &str {
        "m"
    }
    fn tenant(&self) -> &str {
        &self.name
    }
    fn kinds(&self) -> &[KindRef] {
        KINDS
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            restore: true,
            ..Capabilities::default()
        }
    }
    async fn probe(&self, _kinds: &[KindRef]) -> butterfly_core::Result<AccessReport> {
        Ok(AccessReport::default())
    }
    async fn fetch(
        &self,
        kind: KindRef,
        _ctx: FetchContext,
    ) -> butterfly_core::Result<Vec<Resource>> {
        let items: Vec<Resource> = self
            .data
            .lock()
            .unwrap()
            .get(kind.id())
            .map(|m| {
                m.iter()
                    .map(|(id, (p, b))| Resource::new(kind, id.clone(), p.clone(), b.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(items)
    }
    fn restorer(&self) -> Option<&dyn Restorer> {
        Some(self)
    }
}

#[async_trait]
impl Restorer for Tenant {
    fn restore_notes(&self, kind: &dyn ResourceKind) -> Vec<String> {
        if kind.id() == "m.user" {
            vec!["users are created without passwords".into()]
        } else {
            vec![]
        }
    }
    fn guard(
        &self,
        plan: &RestorePlan,
        source: &Snapshot,
        _target: &Snapshot,
    ) -> Vec<GuardFinding> {
        // Test rule: creating a policy named "deny everyone" would lock admins out.
        plan.steps
            .iter()
            .filter(|s| {
                s.action.writes()
                    && source
                        .get(&s.kind, &s.source_id)
                        .is_some_and(|r| r.body["name"] == "deny everyone")
            })
            .map(|s| GuardFinding {
                level: GuardLevel::Critical,
                step: Some(s.index),
                message: "policy denies all admins".into(),
            })
            .collect()
    }
    async fn create(
        &self,
        kind: &dyn ResourceKind,
        resource: &Resource,
    ) -> butterfly_core::Result<String> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        if self.fail_kind == Some(kind.id()) {
            return Err(
                Error::new(ErrorKind::InvalidData, "E0000001: api validation failed")
                    .with_status(400),
            );
        }
        assert!(
            !resource.body.to_string().contains("butterfly_secret"),
            "placeholders never reach the provider"
        );
        let id = match kind.id() {
            "m.member" => format!(
                "{}:{}",
                resource.parent_id.clone().unwrap(),
                resource.body["userId"].as_str().unwrap()
            ),
            _ => format!("new{}", self.next.fetch_add(1, Ordering::SeqCst)),
        };
        self.put(
            kind.id(),
            &id,
            resource.parent_id.as_deref(),
            (*resource.body).clone(),
        );
        Ok(id)
    }
    async fn update(
        &self,
        kind: &dyn ResourceKind,
        target_id: &str,
        resource: &Resource,
    ) -> butterfly_core::Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.put(
            kind.id(),
            target_id,
            resource.parent_id.as_deref(),
            (*resource.body).clone(),
        );
        Ok(())
    }
}

async fn snapshot_of(t: &Tenant) -> Snapshot {
    backup::run(t, &BackupOptions::default()).await.unwrap()
}

fn create_all() -> RestoreOptions {
    RestoreOptions::default()
}

#[tokio::test]
async fn incident_round_trip_same_tenant() {
    let tenant = Tenant::seeded("acme", "");
    let before = snapshot_of(&tenant).await;
    // Incident: a policy, a group with members, and a zone referenced by a policy are deleted.
    tenant.delete("m.policy", "p-mfa");
    tenant.delete("m.group", "g-eng");
    tenant.delete("m.member", "g-eng:u-bob");
    tenant.delete("m.member", "g-eng:u-cyd");
    tenant.delete("m.zone", "z-office");

    let plan = restore::plan(&before, &tenant, &create_all())
        .await
        .unwrap();
    assert_eq!(
        tenant.writes.load(Ordering::SeqCst),
        0,
        "the dry run writes nothing"
    );
    let creates: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| s.action == StepAction::Create)
        .map(|s| s.kind.as_str())
        .collect();
    assert_eq!(
        creates,
        vec!["m.zone", "m.group", "m.member", "m.member", "m.policy"],
        "dependency order"
    );
    let policy = plan
        .steps
        .iter()
        .find(|s| s.kind == "m.policy" && s.action == StepAction::Create)
        .unwrap();
    let group_step = plan
        .steps
        .iter()
        .find(|s| s.kind == "m.group" && s.action == StepAction::Create)
        .unwrap()
        .index;
    assert!(
        policy
            .references
            .iter()
            .any(|r| r.resolution == Resolution::InPlan { step: group_step })
    );
    assert!(policy.references.iter().any(|r| r.source_id == "g-admins"
        && r.resolution
            == Resolution::InTarget {
                target_id: "g-admins".into()
            }));
    assert_eq!(
        plan.rotation_checklist.len(),
        1,
        "the hook secret must be re-entered"
    );
    assert_eq!(plan.unresolved().count(), 0);
    let text = plan.render_text();
    assert!(
        text.contains("m.policy")
            && text.contains("Rotate or re-enter")
            && text.contains("created by step"),
        "{text}"
    );

    let seen = std::sync::Mutex::new(Vec::new());
    let report =
        restore::execute_observed(&plan, &before, &tenant, ExecuteOptions::default(), &|e| {
            seen.lock().unwrap().push(e.clone())
        })
        .await
        .unwrap();
    assert_eq!(report.created, 5);
    assert_eq!(
        *seen.lock().unwrap(),
        report.ledger,
        "every ledger entry is reported as it is written"
    );
    assert_eq!(report.failed, 0);
    assert!(report.unverified.is_empty(), "{:?}", report.unverified);
    // The new policy names the new group and zone ids.
    let (_, policy) = tenant.find("m.policy", "name", "MFA for eng").unwrap();
    let (new_group, _) = tenant.find("m.group", "name", "eng").unwrap();
    let (new_zone, _) = tenant.find("m.zone", "name", "office").unwrap();
    assert_eq!(policy["groups"], json!([new_group, "g-admins"]));
    assert_eq!(policy["zone"], json!(new_zone));
    assert!(policy.get("hook").is_none_or(|h| h.get("secret").is_none()));
    assert_eq!(tenant.count("m.member"), 4);

    // Idempotent: a fresh plan creates nothing.
    let writes = tenant.writes.load(Ordering::SeqCst);
    let again = restore::plan(&before, &tenant, &create_all())
        .await
        .unwrap();
    assert_eq!(again.writes(), 0, "{}", again.render_text());
    let report = restore::execute(&again, &before, &tenant, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(report.created + report.updated, 0);
    assert_eq!(tenant.writes.load(Ordering::SeqCst), writes);
}

#[tokio::test]
async fn sync_to_another_tenant_remaps_every_id() {
    let a = Tenant::seeded("tenant-a", "a-");
    let b = Tenant::new("tenant-b");
    b.put("m.group", "b-g-admins", None, json!({"name": "admins"}));
    let snap = snapshot_of(&a).await;
    let plan = restore::plan(&snap, &b, &create_all()).await.unwrap();
    assert_eq!(b.writes.load(Ordering::SeqCst), 0);
    assert!(plan.notes.iter().any(|n| n.contains("without passwords")));
    let report = restore::execute(&plan, &snap, &b, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{}", report.render_text());
    assert_eq!(
        b.count("m.group"),
        3,
        "admins matched by name, not duplicated"
    );
    let (_, policy) = b.find("m.policy", "name", "MFA for eng").unwrap();
    let text = policy.to_string();
    assert!(
        !text.contains("a-"),
        "no source id leaks into the target: {text}"
    );
    assert!(text.contains("b-g-admins"));
    let member = b.data.lock().unwrap()["m.member"]
        .values()
        .map(|(p, _)| p.clone().unwrap())
        .collect::<Vec<_>>();
    assert!(member.iter().all(|p| !p.starts_with("a-")));

    // Selective by kind: only zones into a third tenant.
    let c = Tenant::new("tenant-c");
    let plan = restore::plan(
        &snap,
        &c,
        &RestoreOptions {
            kinds: Some(vec!["m.zone".into()]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(plan.steps.iter().all(|s| s.kind == "m.zone"));
    restore::execute(&plan, &snap, &c, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(c.count("m.zone"), 2);
    assert_eq!(c.count("m.group"), 0);
}

#[tokio::test]
async fn stale_plan_is_refused() {
    let tenant = Tenant::seeded("acme", "");
    let before = snapshot_of(&tenant).await;
    tenant.delete("m.policy", "p-sales");
    let plan = restore::plan(&before, &tenant, &create_all())
        .await
        .unwrap();
    tenant.put("m.zone", "z-new", None, json!({"name": "home"}));
    let err = restore::execute(&plan, &before, &tenant, ExecuteOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.to_string().contains("m.zone"), "{err}");
    assert_eq!(tenant.writes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn volatile_changes_do_not_make_a_plan_stale() {
    let tenant = Tenant::seeded("acme", "");
    let before = snapshot_of(&tenant).await;
    tenant.delete("m.zone", "z-vpn");
    let plan = restore::plan(&before, &tenant, &create_all())
        .await
        .unwrap();
    let (_, mut body) = tenant.find("m.policy", "name", "MFA for eng").unwrap();
    body["lastUpdated"] = json!("2026-11-24");
    tenant.put("m.policy", "p-mfa", None, body);
    restore::execute(&plan, &before, &tenant, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(tenant.count("m.zone"), 2);
}

#[tokio::test]
async fn ambiguous_matches_are_reported_not_guessed() {
    let a = Tenant::seeded("a", "a-");
    let b = Tenant::new("b");
    b.put("m.group", "b1", None, json!({"name": "eng"}));
    b.put("m.group", "b2", None, json!({"name": "eng"}));
    let snap = snapshot_of(&a).await;
    let plan = restore::plan(
        &snap,
        &b,
        &RestoreOptions {
            kinds: Some(vec!["m.group".into()]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let eng = plan.steps.iter().find(|s| s.label == "eng").unwrap();
    assert_eq!(
        eng.action,
        StepAction::Ambiguous {
            candidates: vec!["b1".into(), "b2".into()]
        }
    );
    restore::execute(&plan, &snap, &b, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(b.count("m.group"), 4, "eng is not created a third time");
}

#[tokio::test]
async fn unresolved_references_are_reported_and_dropped() {
    let a = Tenant::seeded("a", "a-");
    let snap = snapshot_of(&a).await;
    let b = Tenant::new("b");
    // Only policies: groups exist nowhere in b and are not part of the plan... but they are
    // pulled in as involved kinds for matching only, so references stay unresolved.
    let plan = restore::plan(
        &snap,
        &b,
        &RestoreOptions {
            kinds: Some(vec!["m.policy".into()]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let unresolved: Vec<_> = plan
        .unresolved()
        .map(|(s, r)| (s.label.clone(), r.source_id.clone()))
        .collect();
    assert!(
        unresolved.contains(&("MFA for eng".into(), "a-g-eng".into())),
        "{unresolved:?}"
    );
    assert!(plan.render_text().contains("UNRESOLVED"));
    restore::execute(&plan, &snap, &b, ExecuteOptions::default())
        .await
        .unwrap();
    let (_, policy) = b.find("m.policy", "name", "MFA for eng").unwrap();
    assert_eq!(
        policy["groups"],
        json!([]),
        "unresolved ids are not written"
    );
    assert!(policy.get("zone").is_none());
}

#[tokio::test]
async fn lockout_guard_blocks_without_override() {
    let a = Tenant::seeded("a", "");
    a.put(
        "m.policy",
        "p-deny",
        None,
        json!({"name": "deny everyone", "groups": [], "zone": "z-vpn"}),
    );
    let snap = snapshot_of(&a).await;
    a.delete("m.policy", "p-deny");
    let plan = restore::plan(&snap, &a, &create_all()).await.unwrap();
    assert!(plan.is_critical());
    assert!(plan.render_text().contains("CRITICAL"));
    let err = restore::execute(&plan, &snap, &a, ExecuteOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(a.writes.load(Ordering::SeqCst), 0);
    let report = restore::execute(
        &plan,
        &snap,
        &a,
        ExecuteOptions {
            override_lockout: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(report.created, 1);
}

#[tokio::test]
async fn failures_stop_dependents_but_not_independent_branches() {
    let tenant = Tenant::seeded("acme", "");
    let before = snapshot_of(&tenant).await;
    tenant.delete("m.group", "g-sales");
    tenant.delete("m.member", "g-sales:u-dee");
    tenant.delete("m.zone", "z-office");
    let tenant = Tenant {
        fail_kind: Some("m.group"),
        ..tenant
    };
    let plan = restore::plan(&before, &tenant, &create_all())
        .await
        .unwrap();
    let report = restore::execute(&plan, &before, &tenant, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(
        report.created,
        1,
        "the zone is restored: {}",
        report.render_text()
    );
    let outcomes: Vec<_> = report
        .ledger
        .iter()
        .filter(|e| e.kind != "m.zone")
        .filter(|e| !matches!(e.outcome, StepOutcome::NotWritten))
        .map(|e| (&e.kind[..], &e.outcome))
        .collect();
    assert!(matches!(
        outcomes[0],
        (
            "m.group",
            StepOutcome::Failed {
                kind: ErrorKind::InvalidData,
                ..
            }
        )
    ));
    assert!(matches!(
        outcomes[1],
        ("m.member", StepOutcome::DependencyFailed { .. })
    ));
    // The Sales policy's reference repair waits for the group too.
    assert!(matches!(
        outcomes[2],
        ("m.policy", StepOutcome::DependencyFailed { .. })
    ));
    assert_eq!(report.failed, 3);
    assert!(report.render_text().contains("E0000001"));
}

#[tokio::test]
async fn update_existing_applies_field_changes_and_default_skips() {
    let tenant = Tenant::seeded("acme", "");
    let before = snapshot_of(&tenant).await;
    let (_, mut body) = tenant.find("m.policy", "name", "Sales").unwrap();
    body["requireMfa"] = json!(true);
    tenant.put("m.policy", "p-sales", None, body);
    let skip = restore::plan(&before, &tenant, &create_all())
        .await
        .unwrap();
    assert_eq!(skip.writes(), 0);
    let plan = restore::plan(
        &before,
        &tenant,
        &RestoreOptions {
            update_existing: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let step = plan.steps.iter().find(|s| s.label == "Sales").unwrap();
    match &step.action {
        StepAction::Update { changes } => {
            assert_eq!(changes.len(), 1, "{changes:?}");
            assert_eq!(changes[0].pointer, "/requireMfa");
        }
        other => panic!("expected update, got {other:?}"),
    }
    restore::execute(&plan, &before, &tenant, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(
        tenant.find("m.policy", "name", "Sales").unwrap().1["requireMfa"],
        json!(false)
    );
}

#[tokio::test]
async fn dependency_cycles_are_errors_naming_the_kinds() {
    const A: KindSpec = KindSpec {
        depends_on: &["c.b"],
        ..KindSpec::new("c.a", "A", Category::Settings)
    };
    const B: KindSpec = KindSpec {
        depends_on: &["c.a"],
        ..KindSpec::new("c.b", "B", Category::Settings)
    };
    let kinds: Vec<&dyn ResourceKind> = vec![&A, &B];
    let err = butterfly_core::kind::topological_order(&kinds).unwrap_err();
    assert!(
        err.to_string().contains("c.a -> c.b -> c.a")
            || err.to_string().contains("c.b -> c.a -> c.b"),
        "{err}"
    );
}

#[tokio::test]
async fn structural_fields_tell_siblings_apart() {
    let a = Tenant::new("a");
    a.put("m.group", "a-g", None, json!({"name": "eng"}));
    a.put("m.user", "a-u", None, json!({"login": "ann"}));
    a.put("m.zone", "a-z", None, json!({"name": "office"}));
    for role in ["owner", "reader"] {
        a.put(
            "m.grant",
            &format!("a-{role}"),
            Some("a-g"),
            json!({"userId": "a-u", "zoneId": "a-z", "role": role}),
        );
    }
    let snap = snapshot_of(&a).await;
    // Another tenant has the group, the user, the zone and one of the two grants, under
    // other ids, which sort the other way round (zone before user).
    let b = Tenant::new("b");
    b.put("m.group", "b-g", None, json!({"name": "eng"}));
    b.put("m.user", "b-u", None, json!({"login": "ann"}));
    b.put("m.zone", "b-a", None, json!({"name": "office"}));
    b.put(
        "m.grant",
        "b-reader",
        Some("b-g"),
        json!({"userId": "b-u", "zoneId": "b-a", "role": "reader"}),
    );
    let plan = restore::plan(&snap, &b, &create_all()).await.unwrap();
    let grants: Vec<(&str, &StepAction)> = plan
        .steps
        .iter()
        .filter(|s| s.kind == "m.grant")
        .map(|s| (s.source_id.as_str(), &s.action))
        .collect();
    assert_eq!(grants.len(), 2, "{}", plan.render_text());
    for (id, action) in grants {
        match id {
            "a-owner" => assert_eq!(*action, StepAction::Create, "{}", plan.render_text()),
            _ => assert!(
                matches!(action, StepAction::Skip { .. }),
                "the reader grant exists: {action:?}"
            ),
        }
    }
    restore::execute(&plan, &snap, &b, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(b.count("m.grant"), 2);
    // After the restore the two tenants pair up completely.
    let after = snapshot_of(&b).await;
    let (remaining, paired) = butterfly_core::diff::diff_after_restore(&snap, &after, KINDS, &[]);
    assert!(
        remaining.changes.is_empty(),
        "{}",
        remaining.render_text(butterfly_core::diff::Severity::Info)
    );
    assert_eq!(paired, 5);
}

/// Deletes the "sales" group (and its membership) that the "Sales" policy names; the policy
/// itself stays in the tenant, still holding the deleted group's id.
fn delete_sales_group(tenant: &Tenant) {
    tenant.delete("m.group", "g-sales");
    tenant.delete("m.member", "g-sales:u-dee");
}

fn step_creating<'p>(plan: &'p RestorePlan, kind: &str, label: &str) -> &'p restore::PlanStep {
    plan.steps
        .iter()
        .find(|s| s.kind == kind && s.label == label && s.action == StepAction::Create)
        .unwrap_or_else(|| panic!("no step creates {kind} {label}: {}", plan.render_text()))
}

#[tokio::test]
async fn existing_references_to_a_recreated_resource_are_repaired() {
    let tenant = Tenant::seeded("acme", "");
    let before = snapshot_of(&tenant).await;
    delete_sales_group(&tenant);
    // Drift the admin made since the snapshot: a restore without update_existing keeps it.
    let (_, mut body) = tenant.find("m.policy", "name", "Sales").unwrap();
    body["requireMfa"] = json!(true);
    tenant.put("m.policy", "p-sales", None, body);

    let plan = restore::plan(&before, &tenant, &RestoreOptions::default())
        .await
        .unwrap();
    assert_eq!(
        tenant.writes.load(Ordering::SeqCst),
        0,
        "the dry run writes nothing"
    );
    let group_step = step_creating(&plan, "m.group", "sales").index;
    let policy = plan.steps.iter().find(|s| s.label == "Sales").unwrap();
    assert_eq!(
        policy.action,
        StepAction::Repair {
            repairs: vec![ReferenceRepair {
                pointer: "/groups/0".into(),
                kind: "m.group".into(),
                source_id: "g-sales".into(),
                label: "sales".into(),
                created_by: group_step,
                current: Some("g-sales".into()),
            }]
        },
        "{}",
        plan.render_text()
    );
    assert!(
        policy.index > group_step,
        "the repair runs after the create"
    );
    assert_eq!(plan.repairs().count(), 1);
    assert_eq!(plan.dangling().count(), 0, "{}", plan.render_text());
    let text = plan.render_text();
    assert!(
        text.contains(&format!(
            "repair refs     m.policy Sales (target p-sales)\n          ~ ref /groups/0: \"g-sales\" (dangling) -> m.group 'sales', re-created by step {group_step} (its new id is written at execution)"
        )),
        "the plan says what the reference becomes:\n{text}"
    );

    let report = restore::execute(&plan, &before, &tenant, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{}", report.render_text());
    assert_eq!((report.created, report.updated, report.repaired), (2, 1, 1));
    assert!(report.unverified.is_empty(), "{}", report.render_text());
    assert_eq!(tenant.writes.load(Ordering::SeqCst), 3);
    let (new_group, _) = tenant.find("m.group", "name", "sales").unwrap();
    assert_ne!(new_group, "g-sales");
    let (_, policy) = tenant.find("m.policy", "name", "Sales").unwrap();
    assert_eq!(policy["groups"], json!([new_group]), "points at the new id");
    assert_eq!(
        policy["requireMfa"],
        json!(true),
        "only the reference is written: the drift stays"
    );

    // Idempotent: nothing left to create or repair.
    let again = restore::plan(&before, &tenant, &RestoreOptions::default())
        .await
        .unwrap();
    assert_eq!(again.writes(), 0, "{}", again.render_text());
    assert_eq!(again.dangling().count(), 0);
}

#[tokio::test]
async fn with_update_existing_the_change_names_the_step_that_creates_the_reference() {
    let tenant = Tenant::seeded("acme", "");
    let before = snapshot_of(&tenant).await;
    delete_sales_group(&tenant);
    let plan = restore::plan(
        &before,
        &tenant,
        &RestoreOptions {
            update_existing: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let group_step = step_creating(&plan, "m.group", "sales").index;
    let policy = plan.steps.iter().find(|s| s.label == "Sales").unwrap();
    let StepAction::Update { changes } = &policy.action else {
        panic!("expected an update: {}", plan.render_text());
    };
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].pointer, "/groups/0");
    assert_eq!(
        changes[0].new,
        Some(json!(format!("<new id from step {group_step}>")))
    );
    let report = restore::execute(&plan, &before, &tenant, ExecuteOptions::default())
        .await
        .unwrap();
    assert!(report.unverified.is_empty(), "{}", report.render_text());
    let (new_group, _) = tenant.find("m.group", "name", "sales").unwrap();
    let (_, policy) = tenant.find("m.policy", "name", "Sales").unwrap();
    assert_eq!(policy["groups"], json!([new_group]));
}

#[tokio::test]
async fn without_repair_the_dangling_reference_is_reported_not_hidden() {
    let tenant = Tenant::seeded("acme", "");
    let before = snapshot_of(&tenant).await;
    delete_sales_group(&tenant);
    let options = RestoreOptions {
        repair_references: false,
        ..Default::default()
    };
    let plan = restore::plan(&before, &tenant, &options).await.unwrap();
    let group_step = step_creating(&plan, "m.group", "sales").index;
    let policy = plan.steps.iter().find(|s| s.label == "Sales").unwrap();
    assert!(
        matches!(policy.action, StepAction::Skip { .. }),
        "{:?}",
        policy.action
    );
    let dangling: Vec<_> = plan.dangling().map(|(s, d)| (s.index, d.clone())).collect();
    assert_eq!(
        dangling,
        vec![(
            policy.index,
            DanglingReference {
                pointer: "/groups/0".into(),
                kind: "m.group".into(),
                current: Some("g-sales".into()),
                recreated_by: Some(group_step),
                reason: "not repaired: reference repair is turned off".into(),
            }
        )]
    );
    let text = plan.render_text();
    assert!(
        text.contains("1 references of existing resources UNRESOLVED")
            && text.contains(&format!("m.policy Sales: /groups/0 holds \"g-sales\", should name m.group re-created by step {group_step}")),
        "{text}"
    );

    let report = restore::execute(&plan, &before, &tenant, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(
        report.unverified,
        vec![UnverifiedReference {
            step: policy.index,
            pointer: "/groups/0".into(),
            kind: "m.group".into(),
            target_id: "g-sales".into(),
        }],
        "{}",
        report.render_text()
    );
    assert!(
        report.render_text().contains("1 unverified references"),
        "{}",
        report.render_text()
    );
    let (_, policy) = tenant.find("m.policy", "name", "Sales").unwrap();
    assert_eq!(policy["groups"], json!(["g-sales"]), "left as it was");
}

#[tokio::test]
async fn a_repair_never_writes_back_a_body_whose_secret_it_cannot_restore() {
    let tenant = Tenant::seeded("acme", "");
    let before = snapshot_of(&tenant).await;
    // "MFA for eng" names eng and has a hook secret that a backup only holds as a placeholder.
    tenant.delete("m.group", "g-eng");
    tenant.delete("m.member", "g-eng:u-bob");
    tenant.delete("m.member", "g-eng:u-cyd");
    let plan = restore::plan(&before, &tenant, &RestoreOptions::default())
        .await
        .unwrap();
    let step = plan
        .steps
        .iter()
        .find(|s| s.label == "MFA for eng")
        .unwrap();
    assert!(matches!(step.action, StepAction::Skip { .. }));
    assert_eq!(step.dangling.len(), 1, "{}", plan.render_text());
    assert!(
        step.dangling[0].reason.contains("hook secret"),
        "{:?}",
        step.dangling
    );
    let report = restore::execute(&plan, &before, &tenant, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(report.unverified.len(), 1, "{}", report.render_text());
    let (_, policy) = tenant.find("m.policy", "name", "MFA for eng").unwrap();
    assert_eq!(
        policy["hook"]["secret"],
        json!("SENTINEL-hook"),
        "untouched"
    );
}

#[tokio::test]
async fn a_repair_waits_for_a_resource_created_later_in_the_plan() {
    let tenant = Tenant::seeded("acme", "");
    // Zones come before groups (no declared dependency), yet this one names a group.
    tenant.put(
        "m.zone",
        "z-lab",
        None,
        json!({"name": "lab", "ownerGroup": "g-sales"}),
    );
    let before = snapshot_of(&tenant).await;
    delete_sales_group(&tenant);
    let plan = restore::plan(&before, &tenant, &RestoreOptions::default())
        .await
        .unwrap();
    let group_step = step_creating(&plan, "m.group", "sales").index;
    let zone_steps: Vec<_> = plan.steps.iter().filter(|s| s.label == "lab").collect();
    assert_eq!(zone_steps.len(), 2, "{}", plan.render_text());
    assert!(zone_steps[0].index < group_step);
    assert!(
        matches!(&zone_steps[0].action, StepAction::Skip { reason } if reason.contains(&format!("repaired by step {}", zone_steps[1].index)))
    );
    assert!(zone_steps[1].index > group_step);
    assert!(matches!(zone_steps[1].action, StepAction::Repair { .. }));
    let report = restore::execute(&plan, &before, &tenant, ExecuteOptions::default())
        .await
        .unwrap();
    assert!(report.unverified.is_empty(), "{}", report.render_text());
    assert_eq!(report.repaired, 2, "the zone and the policy");
    let (new_group, _) = tenant.find("m.group", "name", "sales").unwrap();
    let (_, zone) = tenant.find("m.zone", "name", "lab").unwrap();
    assert_eq!(zone["ownerGroup"], json!(new_group));
}

#[tokio::test]
async fn a_failed_create_leaves_the_repair_undone_and_reported() {
    let tenant = Tenant::seeded("acme", "");
    let before = snapshot_of(&tenant).await;
    delete_sales_group(&tenant);
    let tenant = Tenant {
        fail_kind: Some("m.group"),
        ..tenant
    };
    let plan = restore::plan(&before, &tenant, &RestoreOptions::default())
        .await
        .unwrap();
    let report = restore::execute(&plan, &before, &tenant, ExecuteOptions::default())
        .await
        .unwrap();
    let policy = plan.steps.iter().find(|s| s.label == "Sales").unwrap();
    let entry = report
        .ledger
        .iter()
        .find(|e| e.step == policy.index)
        .unwrap();
    assert!(
        matches!(entry.outcome, StepOutcome::DependencyFailed { .. }),
        "{entry:?}"
    );
    assert_eq!(report.repaired, 0);
    assert!(
        report
            .unverified
            .iter()
            .any(|u| u.step == policy.index && u.target_id == "g-sales"),
        "{}",
        report.render_text()
    );
}
