//! Restore through the core engine against the fake Okta org: sync between two orgs, the dry
//! run writing nothing, and the repair and update of group rules (by replacing a rule, as Okta
//! requires). The incident round trip (the incident the fake declares, diffed, restored and
//! backed up again) is the behaviour suite's, run from `fake_org.rs`.

use butterfly_core::Snapshot;
use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::restore::{self, ExecuteOptions, ReferenceRepair, RestoreOptions, StepAction};
use butterfly_okta::OktaProvider;
use butterfly_testkit::okta::{FakeOkta, OktaOptions, OktaOrgSpec};
use butterfly_testkit::tenants::okta::admin_delete;
use serde_json::Value;

mod common;
use common::ssws as provider;

async fn snapshot(okta: &OktaProvider) -> Snapshot {
    backup::run(okta, &BackupOptions::default()).await.unwrap()
}

fn first(items: &[Value], pred: impl Fn(&Value) -> bool) -> &Value {
    items.iter().find(|i| pred(i)).unwrap()
}

#[tokio::test]
async fn sync_between_two_orgs() {
    let a = FakeOkta::start(
        OktaOrgSpec {
            users: 120,
            seed: 11,
            governance: false,
        },
        OktaOptions::default(),
    )
    .await
    .unwrap();
    let b = FakeOkta::start(
        OktaOrgSpec {
            users: 60,
            seed: 12,
            governance: false,
        },
        OktaOptions::default(),
    )
    .await
    .unwrap();
    let (pa, pb) = (provider(&a), provider(&b));
    let source = snapshot(&pa).await;
    let kinds = [
        "okta.network_zone",
        "okta.group",
        "okta.group_rule",
        "okta.policy",
        "okta.policy_rule",
    ];
    let options = RestoreOptions {
        kinds: Some(kinds.iter().map(|k| k.to_string()).collect()),
        ..RestoreOptions::default()
    };
    let before = b.write_count();
    let plan = restore::plan(&source, &pb, &options).await.unwrap();
    assert_eq!(b.write_count(), before, "preview writes nothing");
    assert!(plan.steps.iter().all(|s| kinds.contains(&s.kind.as_str())));
    let report = restore::execute(&plan, &source, &pb, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{}", report.render_text());
    // Every group rule of A exists in B, targeting B's ids.
    let b_groups: Vec<String> = b
        .items("/api/v1/groups")
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect();
    for rule in a.items("/api/v1/groups/rules") {
        let copy = first(&b.items("/api/v1/groups/rules"), |r| {
            r["name"] == rule["name"]
        })
        .clone();
        for target in copy["actions"]["assignUserToGroups"]["groupIds"]
            .as_array()
            .unwrap()
        {
            assert!(
                b_groups.contains(&target.as_str().unwrap().to_string()),
                "rule {} targets a group of A",
                rule["name"]
            );
        }
    }
    // Every reference the plan wrote resolves in B.
    assert!(report.unverified.is_empty(), "{:?}", report.unverified);
    let second = restore::plan(&source, &pb, &options).await.unwrap();
    assert_eq!(second.writes(), 0, "{}", second.render_text());
}

/// Issue 22, point 5: a group is deleted, the group rule that assigns users to it stays and
/// still names the old id, and Okta marks it `INVALID` (`allGroupsValid: false`). A restore of
/// groups and group rules without `update_existing` re-creates the group under a new id and,
/// by default, repairs the rule so that it names the new group. Okta neither updates an
/// `INVALID` rule nor changes a rule's actions, so the repair replaces it: one ACTIVE rule of
/// that name remains, naming the new group, and the INVALID one is gone.
#[tokio::test]
async fn a_group_rule_naming_a_recreated_group_is_repaired() {
    let fake = FakeOkta::start(
        OktaOrgSpec {
            users: 300,
            seed: 5,
            governance: false,
        },
        OktaOptions::default(),
    )
    .await
    .unwrap();
    let okta = provider(&fake);
    let original = snapshot(&okta).await;
    let groups = fake.items("/api/v1/groups");
    let rule = first(&fake.items("/api/v1/groups/rules"), |r| {
        r["status"] == "ACTIVE"
            && r["actions"]["assignUserToGroups"]["groupIds"]
                .as_array()
                .is_some_and(|ids| ids.len() == 1)
    })
    .clone();
    let old_group = rule["actions"]["assignUserToGroups"]["groupIds"][0]
        .as_str()
        .unwrap()
        .to_string();
    let group_name = first(&groups, |g| g["id"] == old_group.as_str())["profile"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    admin_delete(&fake, &format!("/api/v1/groups/{old_group}"))
        .await
        .unwrap();
    let kept = first(&fake.items("/api/v1/groups/rules"), |r| {
        r["id"] == rule["id"]
    })
    .clone();
    assert_eq!(
        kept["actions"]["assignUserToGroups"]["groupIds"],
        serde_json::json!([old_group]),
        "the rule stays and still names the deleted group"
    );
    assert_eq!(kept["status"], "INVALID", "Okta invalidates the rule");
    assert_eq!(kept["allGroupsValid"], false);

    let options = RestoreOptions {
        kinds: Some(vec!["okta.group".into(), "okta.group_rule".into()]),
        ..RestoreOptions::default()
    };
    assert!(!options.update_existing && options.repair_references);
    let writes_before = fake.write_count();
    let plan = restore::plan(&original, &okta, &options).await.unwrap();
    assert_eq!(fake.write_count(), writes_before, "the dry run sent writes");
    let text = plan.render_text();
    let group_step = plan
        .steps
        .iter()
        .find(|s| s.kind == "okta.group" && s.action == StepAction::Create)
        .unwrap_or_else(|| panic!("the group is not re-created: {text}"));
    assert_eq!(group_step.label, group_name);
    let rule_step = plan
        .steps
        .iter()
        .find(|s| s.kind == "okta.group_rule" && s.target_id.as_deref() == rule["id"].as_str())
        .unwrap();
    assert_eq!(
        rule_step.action,
        StepAction::Repair {
            repairs: vec![ReferenceRepair {
                pointer: "/actions/assignUserToGroups/groupIds/0".into(),
                kind: "okta.group".into(),
                source_id: old_group.clone(),
                label: group_name.clone(),
                created_by: group_step.index,
                current: Some(old_group.clone()),
            }]
        },
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "~ ref /actions/assignUserToGroups/groupIds/0: \"{old_group}\" (dangling) -> okta.group '{group_name}', re-created by step {}",
            group_step.index
        )),
        "{text}"
    );
    assert_eq!(plan.dangling().count(), 0, "{text}");

    let report = restore::execute(&plan, &original, &okta, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{}", report.render_text());
    assert_eq!(report.repaired, 1, "{}", report.render_text());
    assert!(report.unverified.is_empty(), "{}", report.render_text());

    // Read the org itself, not the report: one ACTIVE rule of that name names the re-created
    // group; the INVALID one is gone.
    let new_group = first(&fake.items("/api/v1/groups"), |g| {
        g["profile"]["name"] == group_name.as_str()
    })["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_group, old_group);
    let rules = fake.items("/api/v1/groups/rules");
    let named: Vec<&Value> = rules.iter().filter(|r| r["name"] == rule["name"]).collect();
    assert_eq!(
        named.len(),
        1,
        "exactly one rule named {}: {named:?}",
        rule["name"]
    );
    let repaired = named[0];
    assert!(
        rules.iter().all(|r| r["id"] != rule["id"]),
        "the INVALID rule is deleted"
    );
    assert!(
        rules.iter().all(|r| r["status"] != "INVALID"),
        "no INVALID rule is left"
    );
    assert_eq!(
        repaired["actions"]["assignUserToGroups"]["groupIds"],
        serde_json::json!([new_group])
    );
    assert_eq!(repaired["status"], "ACTIVE");
    assert_eq!(
        repaired["conditions"], rule["conditions"],
        "only the reference changed"
    );

    // Idempotent: a fresh plan has nothing left to create or repair.
    let again = restore::plan(&original, &okta, &options).await.unwrap();
    assert_eq!(again.writes(), 0, "{}", again.render_text());
}

/// With `update_existing`, group rules are updated the way Okta allows: a rule whose target
/// groups drifted is replaced (Okta never changes a rule's actions), one whose conditions
/// drifted is deactivated, replaced with `PUT` and re-activated under the same id.
#[tokio::test]
async fn group_rule_updates_replace_changed_actions_and_put_changed_conditions() {
    let fake = FakeOkta::start(
        OktaOrgSpec {
            users: 300,
            seed: 5,
            governance: false,
        },
        OktaOptions::default(),
    )
    .await
    .unwrap();
    let okta = provider(&fake);
    let original = snapshot(&okta).await;
    let rules = fake.items("/api/v1/groups/rules");
    let active: Vec<&Value> = rules.iter().filter(|r| r["status"] == "ACTIVE").collect();
    assert!(active.len() >= 2);
    let (moved, reworded) = (active[0].clone(), active[1].clone());
    let other_group = first(&fake.items("/api/v1/groups"), |g| {
        g["type"] == "OKTA_GROUP"
            && moved["actions"]["assignUserToGroups"]["groupIds"][0] != g["id"]
    })["id"]
        .clone();
    // Drift made in the admin console: another target group, another expression.
    fake.with_org(|collections, _| {
        for rule in collections.get_mut("/api/v1/groups/rules").unwrap() {
            if rule["id"] == moved["id"] {
                rule["actions"]["assignUserToGroups"]["groupIds"] =
                    serde_json::json!([other_group]);
            }
            if rule["id"] == reworded["id"] {
                rule["conditions"]["expression"]["value"] =
                    serde_json::json!("user.department==\"Nobody\"");
            }
        }
    });

    let options = RestoreOptions {
        kinds: Some(vec!["okta.group_rule".into()]),
        update_existing: true,
        ..RestoreOptions::default()
    };
    let plan = restore::plan(&original, &okta, &options).await.unwrap();
    let updates = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, StepAction::Update { .. }))
        .count();
    assert_eq!(updates, 2, "{}", plan.render_text());
    let report = restore::execute(&plan, &original, &okta, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{}", report.render_text());
    assert!(report.unverified.is_empty(), "{}", report.render_text());

    let after = fake.items("/api/v1/groups/rules");
    assert_eq!(after.len(), rules.len(), "no rule added or lost: {after:?}");
    let named =
        |name: &Value| -> Vec<&Value> { after.iter().filter(|r| &r["name"] == name).collect() };
    let replaced = named(&moved["name"]);
    assert_eq!(replaced.len(), 1, "{replaced:?}");
    assert_ne!(
        replaced[0]["id"], moved["id"],
        "a new rule replaced the old one"
    );
    assert_eq!(replaced[0]["actions"], moved["actions"]);
    assert_eq!(replaced[0]["conditions"], moved["conditions"]);
    assert_eq!(replaced[0]["status"], "ACTIVE");
    // The ledger records the replacement's id, not the deleted rule's.
    let entry = report
        .ledger
        .iter()
        .find(|e| e.kind == "okta.group_rule" && e.old_id == moved["id"].as_str().unwrap())
        .expect("a ledger entry for the replaced rule");
    assert_eq!(entry.new_id.as_deref(), replaced[0]["id"].as_str());
    let updated = named(&reworded["name"]);
    assert_eq!(updated.len(), 1, "{updated:?}");
    assert_eq!(updated[0]["id"], reworded["id"], "updated in place");
    assert_eq!(updated[0]["conditions"], reworded["conditions"]);
    assert_eq!(updated[0]["status"], "ACTIVE");
    assert!(
        after
            .iter()
            .all(|r| !r["name"].as_str().unwrap().starts_with("butterfly restore")),
        "no temporary name is left"
    );

    let again = restore::plan(&original, &okta, &options).await.unwrap();
    assert_eq!(again.writes(), 0, "{}", again.render_text());
}
