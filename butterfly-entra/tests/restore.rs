//! Restore through the core engine against the fake Entra tenant: the incident round trip
//! (a conditional access policy, the group and the named location it names are deleted),
//! the dry run writing nothing, and idempotence.

use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::diff::{self, Severity};
use butterfly_core::restore::{self, ExecuteOptions, RestoreOptions, StepAction};
use butterfly_core::{Provider, Snapshot};
use butterfly_entra::EntraProvider;
use butterfly_testkit::entra::{EntraOptions, EntraTenantSpec, FakeEntra};
use serde_json::Value;

mod common;
use common::secret as provider;

async fn snapshot(entra: &EntraProvider) -> Snapshot {
    backup::run(entra, &BackupOptions::default()).await.unwrap()
}

fn guids(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|s| butterfly_entra::kinds::is_guid(s))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn incident_round_trip() {
    let fake = FakeEntra::start(
        EntraTenantSpec {
            users: 250,
            seed: 3,
        },
        EntraOptions::default(),
    )
    .await
    .unwrap();
    let entra = provider(&fake);
    let original = snapshot(&entra).await;

    // The incident: a conditional access policy naming a group and a named location is
    // deleted, and so are the group and the location.
    let policy = fake
        .items("identity/conditionalAccess/policies")
        .into_iter()
        .find(|p| {
            !guids(&p["conditions"]["users"]["includeGroups"]).is_empty()
                && !guids(&p["conditions"]["locations"]["excludeLocations"]).is_empty()
        })
        .expect("a policy naming a group and a location");
    let policy_id = policy["id"].as_str().unwrap().to_string();
    let group = guids(&policy["conditions"]["users"]["includeGroups"])[0].clone();
    let location = guids(&policy["conditions"]["locations"]["excludeLocations"])[0].clone();
    let members = fake.with_tenant(|t| t.references(&format!("groups/{group}/members")).len());
    assert!(members > 0, "the group has members");
    // One of the group's members, an enabled user, is deleted too.
    let user = fake
        .with_tenant(|t| t.references(&format!("groups/{group}/members")))
        .into_iter()
        .find(|m| {
            fake.items("users")
                .iter()
                .any(|u| u["id"] == m.as_str() && u["accountEnabled"] == true)
        })
        .expect("an enabled user in the group");
    let upn = fake
        .items("users")
        .into_iter()
        .find(|u| u["id"] == user.as_str())
        .unwrap()["userPrincipalName"]
        .clone();
    fake.with_tenant(|t| {
        assert!(t.delete("users", &user));
        assert!(t.delete("identity/conditionalAccess/policies", &policy_id));
        assert!(t.delete("groups", &group));
        assert!(t.delete("identity/conditionalAccess/namedLocations", &location));
    });
    let after_incident = snapshot(&entra).await;
    let d = diff::diff(
        &original,
        &after_incident,
        entra.kinds(),
        &entra.severity_rules(),
    );
    assert_eq!(
        d.max_severity(),
        Some(Severity::Critical),
        "{}",
        d.render_text(Severity::High)
    );

    // Plan: the dry run writes nothing.
    let writes_before = fake.write_count();
    let options = RestoreOptions {
        update_existing: true,
        ..RestoreOptions::default()
    };
    let plan = restore::plan(&original, &entra, &options).await.unwrap();
    assert_eq!(fake.write_count(), writes_before, "the dry run sent writes");
    let created: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.action == StepAction::Create)
        .map(|s| s.kind.as_str())
        .collect();
    for kind in [
        "entra.user",
        "entra.conditional_access_policy",
        "entra.group",
        "entra.group_member",
        "entra.named_location",
    ] {
        assert!(
            created.contains(&kind),
            "{kind} not in plan: {}",
            plan.render_text()
        );
    }
    // Every member of the deleted group comes back (the deleted user's other memberships too).
    assert_eq!(
        plan.steps
            .iter()
            .filter(|s| s.action == StepAction::Create
                && s.kind == "entra.group_member"
                && s.source_id.starts_with(&group))
            .count(),
        members
    );
    let pos = |k: &str| created.iter().position(|c| *c == k).unwrap();
    assert!(pos("entra.group") < pos("entra.group_member"));
    assert!(pos("entra.named_location") < pos("entra.conditional_access_policy"));
    assert!(pos("entra.group") < pos("entra.conditional_access_policy"));
    assert_eq!(plan.unresolved().count(), 0, "{}", plan.render_text());

    let report = restore::execute(&plan, &original, &entra, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{}", report.render_text());
    assert!(report.unverified.is_empty(), "{:?}", report.unverified);

    // The re-created policy names the re-created group and location.
    let restored_policy = fake
        .items("identity/conditionalAccess/policies")
        .into_iter()
        .find(|p| p["displayName"] == policy["displayName"])
        .expect("the policy is back");
    let new_group = guids(&restored_policy["conditions"]["users"]["includeGroups"])[0].clone();
    assert_ne!(new_group, group);
    assert!(
        fake.items("groups")
            .iter()
            .any(|g| g["id"] == new_group.as_str())
    );
    assert_eq!(
        restored_policy["conditions"]["locations"]["excludeLocations"]
            .as_array()
            .unwrap()
            .len(),
        policy["conditions"]["locations"]["excludeLocations"]
            .as_array()
            .unwrap()
            .len(),
        "keywords such as AllTrusted are kept"
    );
    assert_eq!(restored_policy["state"], policy["state"]);

    // The user is back, disabled, with a password to change at the next sign-in.
    let back = fake
        .items("users")
        .into_iter()
        .find(|u| u["userPrincipalName"] == upn)
        .expect("the user is back");
    assert_eq!(back["accountEnabled"], false);
    assert_ne!(back["id"], user.as_str());

    // Back up again: apart from new ids and the documented difference (re-created users
    // are disabled), the tenant equals the original.
    let restored = snapshot(&entra).await;
    let (remaining, paired) =
        diff::diff_after_restore(&original, &restored, entra.kinds(), &entra.severity_rules());
    assert!(paired >= members + 4, "{paired}");
    let unexpected: Vec<_> = remaining
        .changes
        .iter()
        .filter(|c| {
            !(c.kind == "entra.user"
                && c.fields.len() == 1
                && c.fields[0].pointer == "/accountEnabled")
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "{}",
        remaining.render_text(Severity::Info)
    );
    assert_eq!(
        remaining.changes.len(),
        1,
        "only the re-created user differs"
    );

    // Idempotent: a fresh plan writes nothing.
    let again = restore::plan(&original, &entra, &RestoreOptions::default())
        .await
        .unwrap();
    let writes: Vec<String> = again
        .steps
        .iter()
        .filter(|s| s.action.writes())
        .map(|s| format!("{} {}", s.kind, s.label))
        .collect();
    assert!(writes.is_empty(), "second plan still writes: {writes:?}");
    let writes_after = fake.write_count();
    let report = restore::execute(&again, &original, &entra, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failed, 0);
    assert_eq!(
        fake.write_count(),
        writes_after,
        "a second execute created something"
    );
}
