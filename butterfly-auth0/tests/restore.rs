//! Restore through the core engine against the fake Auth0 tenant: roles, organizations and
//! database users deleted and brought back (users keep their ids, invitations are not re-sent),
//! the dry run writing nothing, idempotence. The incident round trip (the incident the fake
//! declares, diffed, restored and backed up again) is the behaviour suite's, run from
//! `fake_tenant.rs`.

use butterfly_auth0::Auth0Provider;
use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::diff::{self, Severity};
use butterfly_core::restore::{self, ExecuteOptions, RestoreOptions, StepAction};
use butterfly_core::{Provider, Snapshot};
use butterfly_testkit::auth0::{Auth0Options, Auth0TenantSpec, FakeAuth0};
use butterfly_testkit::tenants::auth0::admin_delete;

mod common;
use common::provider;

async fn snapshot(auth0: &Auth0Provider) -> Snapshot {
    backup::run(auth0, &BackupOptions::default()).await.unwrap()
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
    admin_delete(&fake, &format!("/api/v2/roles/{}", role.id))
        .await
        .unwrap();
    admin_delete(&fake, &format!("/api/v2/organizations/{}", org.id))
        .await
        .unwrap();
    for u in &users {
        admin_delete(&fake, &format!("/api/v2/users/{}", u.replace('|', "%7C")))
            .await
            .unwrap();
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
