//! Restore through the core engine against the fake Auth0 tenant: the incident round trip
//! (an application with grants and enabled connections deleted, an action unbound), the dry
//! run writing nothing, idempotence.

use butterfly_auth0::Auth0Provider;
use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::diff::{self, Severity};
use butterfly_core::restore::{self, ExecuteOptions, RestoreOptions, StepAction};
use butterfly_core::{Provider, Snapshot};
use butterfly_testkit::auth0::{Auth0Options, Auth0TenantSpec, FakeAuth0};
use serde_json::Value;

mod common;
use common::provider;

async fn snapshot(auth0: &Auth0Provider) -> Snapshot {
    backup::run(auth0, &BackupOptions::default()).await.unwrap()
}

#[tokio::test]
async fn incident_round_trip() {
    let fake = FakeAuth0::start(
        Auth0TenantSpec { users: 80, seed: 3 },
        Auth0Options::default(),
    )
    .await
    .unwrap();
    let auth0 = provider(&fake);
    let original = snapshot(&auth0).await;

    // The incident: an application that has grants (and is enabled on connections) is
    // deleted, and one action is unbound from its trigger.
    let grants = fake.items("client-grants");
    let victim = fake
        .items("clients")
        .into_iter()
        .find(|c| {
            c["client_id"] != fake.client_id()
                && c["global"] != true
                && grants.iter().any(|g| g["client_id"] == c["client_id"])
        })
        .expect("an application with grants");
    let victim_id = victim["client_id"].as_str().unwrap().to_string();
    let victim_name = victim["name"].as_str().unwrap().to_string();
    let (trigger, unbound) = fake.with_tenant(|t| {
        t.collections
            .get_mut("clients")
            .unwrap()
            .retain(|c| c["client_id"] != victim_id.as_str());
        t.collections
            .get_mut("client-grants")
            .unwrap()
            .retain(|g| g["client_id"] != victim_id.as_str());
        for conn in t.collections.get_mut("connections").unwrap() {
            if let Some(e) = conn
                .get_mut("enabled_clients")
                .and_then(Value::as_array_mut)
            {
                e.retain(|c| c != victim_id.as_str());
            }
        }
        let key = t
            .collections
            .keys()
            .find(|k| k.starts_with("actions/triggers/") && k.ends_with("/bindings"))
            .cloned()
            .expect("a trigger with bindings");
        let bindings = t.collections.get_mut(&key).unwrap();
        let removed = bindings.remove(0);
        (key, removed)
    });
    assert!(!victim_name.is_empty());
    let after = snapshot(&auth0).await;
    let d = diff::diff(&original, &after, auth0.kinds(), &auth0.severity_rules());
    assert!(
        d.max_severity() >= Some(Severity::High),
        "{}",
        d.render_text(Severity::Info)
    );

    // The dry run writes nothing.
    let writes_before = fake.write_count();
    let options = RestoreOptions {
        update_existing: true,
        ..RestoreOptions::default()
    };
    let plan = restore::plan(&original, &auth0, &options).await.unwrap();
    assert_eq!(fake.write_count(), writes_before, "the dry run sent writes");
    let creates: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.action == StepAction::Create)
        .map(|s| s.kind.as_str())
        .collect();
    for kind in [
        "auth0.client",
        "auth0.client_grant",
        "auth0.connection_client",
    ] {
        assert!(
            creates.contains(&kind),
            "{kind} not created: {}",
            plan.render_text()
        );
    }
    assert!(
        plan.steps
            .iter()
            .any(|s| s.kind == "auth0.action_binding"
                && matches!(s.action, StepAction::Update { .. })),
        "the binding is not updated: {}",
        plan.render_text()
    );
    let pos = |k: &str| creates.iter().position(|c| *c == k).unwrap();
    assert!(pos("auth0.client") < pos("auth0.client_grant"));
    assert_eq!(plan.unresolved().count(), 0, "{}", plan.render_text());
    // The application's secret goes on the rotation checklist.
    assert!(
        plan.rotation_checklist
            .iter()
            .any(|p| p.kind == "auth0.client" && p.field == "/client_secret"),
        "{:?}",
        plan.rotation_checklist
    );
    let text = plan.render_text();
    assert!(text.contains("new client ids"), "{text}");

    let report = restore::execute(&plan, &original, &auth0, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{}", report.render_text());
    assert!(report.unverified.is_empty(), "{:?}", report.unverified);

    // The tenant has the application back (new id), its grants point at it, the binding is back.
    let restored_client = fake
        .items("clients")
        .into_iter()
        .find(|c| c["name"] == victim_name.as_str())
        .expect("the application is back");
    let new_id = restored_client["client_id"].as_str().unwrap().to_string();
    assert_ne!(new_id, victim_id);
    let old_grants = grants
        .iter()
        .filter(|g| g["client_id"] == victim_id.as_str())
        .count();
    let new_grants = fake
        .items("client-grants")
        .iter()
        .filter(|g| g["client_id"] == new_id.as_str())
        .count();
    assert_eq!(old_grants, new_grants);
    let bindings = fake.items(&trigger);
    assert!(
        bindings
            .iter()
            .any(|b| b["action"]["id"] == unbound["action"]["id"]),
        "the action is bound again: {bindings:?}"
    );

    // Backed up again: apart from new ids, the tenant equals the original.
    let restored = snapshot(&auth0).await;
    let (remaining, paired) =
        diff::diff_after_restore(&original, &restored, auth0.kinds(), &auth0.severity_rules());
    assert!(paired > 0);
    assert!(
        remaining.changes.is_empty(),
        "{}",
        remaining.render_text(Severity::Info)
    );

    // Idempotent: a second plan and execute create nothing.
    let again = restore::plan(&original, &auth0, &options).await.unwrap();
    let writes: Vec<String> = again
        .steps
        .iter()
        .filter(|s| s.action.writes())
        .map(|s| format!("{} {}", s.kind, s.label))
        .collect();
    assert!(writes.is_empty(), "second plan still writes: {writes:?}");
    let before = fake.write_count();
    let second = restore::execute(&again, &original, &auth0, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(second.created, 0);
    assert_eq!(fake.write_count(), before);
}

/// A Management API token from the fake, for the incident's own deletes.
async fn admin_token(fake: &FakeAuth0) -> String {
    let resp: Value = reqwest::Client::new()
        .post(format!("{}/oauth/token", fake.base_url()))
        .json(&serde_json::json!({
            "grant_type": "client_credentials",
            "client_id": fake.client_id(),
            "client_secret": fake.client_secret(),
            "audience": fake.audience(),
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    resp["access_token"].as_str().unwrap().to_string()
}

async fn delete(fake: &FakeAuth0, token: &str, path: &str) {
    let resp = reqwest::Client::new()
        .delete(format!("{}/api/v2/{path}", fake.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(
        resp.status().is_success(),
        "DELETE {path}: {}",
        resp.status()
    );
}

#[tokio::test]
async fn roles_organizations_and_users_come_back() {
    let fake = FakeAuth0::start(
        Auth0TenantSpec { users: 60, seed: 5 },
        Auth0Options::default(),
    )
    .await
    .unwrap();
    let auth0 = provider(&fake);
    let original = snapshot(&auth0).await;
    let token = admin_token(&fake).await;

    // A role with members and permissions, an organization with members, and database users
    // holding roles are deleted.
    let role = original
        .resources("auth0.role")
        .iter()
        .find(|r| {
            original
                .resources("auth0.role_member")
                .iter()
                .any(|m| m.parent_id.as_deref() == Some(r.id.as_str()))
                && original
                    .resources("auth0.role_permission")
                    .iter()
                    .any(|m| m.parent_id.as_deref() == Some(r.id.as_str()))
        })
        .expect("a role with members and permissions")
        .clone();
    let org = original
        .resources("auth0.organization")
        .iter()
        .find(|o| {
            original
                .resources("auth0.organization_member")
                .iter()
                .any(|m| m.parent_id.as_deref() == Some(o.id.as_str()))
        })
        .expect("an organization with members")
        .clone();
    // Database users, members of a role first.
    let mut users: Vec<String> = original
        .resources("auth0.role_member")
        .iter()
        .filter_map(|m| m.body["user_id"].as_str())
        .chain(
            original
                .resources("auth0.user")
                .iter()
                .map(|u| u.id.as_str()),
        )
        .filter(|u| u.starts_with("auth0|"))
        .map(str::to_string)
        .collect();
    users.dedup();
    users.truncate(3);
    assert_eq!(users.len(), 3);
    assert!(
        original
            .resources("auth0.role_member")
            .iter()
            .any(|m| m.body["user_id"] == users[0].as_str())
    );
    delete(&fake, &token, &format!("roles/{}", role.id)).await;
    delete(&fake, &token, &format!("organizations/{}", org.id)).await;
    for u in &users {
        delete(&fake, &token, &format!("users/{}", u.replace('|', "%7C"))).await;
    }
    let after = snapshot(&auth0).await;
    assert!(after.get("auth0.role", &role.id).is_none());

    let before = fake.write_count();
    let plan = restore::plan(&original, &auth0, &RestoreOptions::default())
        .await
        .unwrap();
    assert_eq!(fake.write_count(), before, "the dry run sent writes");
    let text = plan.render_text();
    assert!(text.contains("without their password"), "{text}");
    for kind in [
        "auth0.role",
        "auth0.role_member",
        "auth0.role_permission",
        "auth0.organization",
        "auth0.organization_member",
        "auth0.user",
    ] {
        assert!(
            plan.steps
                .iter()
                .any(|s| s.kind == kind && s.action == StepAction::Create),
            "{kind} not created: {text}"
        );
    }
    let report = restore::execute(&plan, &original, &auth0, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{}", report.render_text());
    assert!(report.unverified.is_empty(), "{:?}", report.unverified);
    // Users keep their ids, so every membership naming them resolves.
    for u in &users {
        assert!(
            fake.items("users")
                .iter()
                .any(|x| x["user_id"] == u.as_str())
        );
    }
    let restored = snapshot(&auth0).await;
    let (remaining, _) =
        diff::diff_after_restore(&original, &restored, auth0.kinds(), &auth0.severity_rules());
    // The documented difference: pending invitations are not re-sent (they expire).
    let real: Vec<_> = remaining
        .changes
        .iter()
        .filter(|c| c.kind != "auth0.organization_invitation")
        .collect();
    assert!(real.is_empty(), "{}", remaining.render_text(Severity::Info));
    assert!(plan.steps.iter().any(|s| s.kind == "auth0.organization_invitation"
        && matches!(&s.action, StepAction::CannotRestore { reason } if reason.contains("expire"))));
    let again = restore::plan(&original, &auth0, &RestoreOptions::default())
        .await
        .unwrap();
    assert_eq!(again.writes(), 0, "{}", again.render_text());
}
