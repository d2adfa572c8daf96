//! Restore through the core engine against the fake PingOne environment: an application with
//! its grants and a user with their memberships deleted and brought back (new ids, references
//! remapped, the dry run writing nothing, a second plan writing nothing), the lockout guard on
//! the default sign-on policy, and a whole backup restored into another environment. The
//! incident round trip is the behaviour suite's, run from `fake_env.rs`.

use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::diff::{self, Severity};
use butterfly_core::restore::{self, ExecuteOptions, GuardLevel, RestoreOptions, StepAction};
use butterfly_core::{Provider, Snapshot};
use butterfly_ping::{PingConfig, PingProvider};
use butterfly_testkit::ping::{FakePing, PingEnvSpec, PingOptions};
use secrecy::SecretString;
use serde_json::json;

fn provider(fake: &FakePing) -> PingProvider {
    PingProvider::new(PingConfig {
        environment_id: fake.environment_id().to_string(),
        client_id: fake.client_id().to_string(),
        client_secret: SecretString::from(fake.client_secret().to_string()),
        region: "com".into(),
        api_url: Some(fake.api_url()),
        auth_url: None,
        max_share: Some(1.0),
        rate_scale: Some(100.0),
    })
    .unwrap()
}

async fn snapshot(ping: &PingProvider) -> Snapshot {
    backup::run(ping, &BackupOptions::default()).await.unwrap()
}

/// An admin's `method` on `rel` (relative to the environment) through the API.
async fn admin(
    fake: &FakePing,
    method: reqwest::Method,
    rel: &str,
    body: Option<serde_json::Value>,
) {
    let token = fake.access_token().await.unwrap();
    let url = format!(
        "{}/environments/{}/{rel}",
        fake.api_url(),
        fake.environment_id()
    );
    let mut req = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    assert!(resp.status().is_success(), "{rel}: {}", resp.status());
}

#[tokio::test]
async fn an_application_with_grants_and_a_user_with_memberships_come_back() {
    let fake = FakePing::start(PingEnvSpec { users: 40, seed: 6 }, PingOptions::default())
        .await
        .unwrap();
    let ping = provider(&fake);
    let original = snapshot(&ping).await;
    let grants = original.resources("ping.application_grant");
    let app = grants
        .iter()
        .filter_map(|g| g.parent_id.clone())
        .find(|a| {
            grants
                .iter()
                .filter(|g| g.parent_id.as_deref() == Some(a))
                .count()
                > 1
        })
        .expect("an application with grants");
    let user = original
        .resources("ping.group_membership")
        .first()
        .and_then(|m| m.parent_id.clone())
        .expect("a user with memberships");
    admin(
        &fake,
        reqwest::Method::DELETE,
        &format!("applications/{app}"),
        None,
    )
    .await;
    admin(
        &fake,
        reqwest::Method::DELETE,
        &format!("users/{user}"),
        None,
    )
    .await;
    // A custom notification content (`{template name}/{content id}`) and an Authorize role.
    let content = original.resources("ping.notification_template_content")[0]
        .id
        .clone();
    let (template, content_id) = content.split_once('/').unwrap();
    admin(
        &fake,
        reqwest::Method::DELETE,
        &format!("templates/{template}/contents/{content_id}"),
        None,
    )
    .await;
    // An Authorize role with permissions, and the application resource its permissions are
    // of (deleting the resource takes its permissions out of every role).
    let role = original
        .resources("ping.application_role")
        .iter()
        .find(|r| {
            original
                .resources("ping.application_role_permission")
                .iter()
                .any(|p| p.parent_id.as_deref() == Some(r.id.as_str()))
        })
        .expect("a role with permissions")
        .id
        .clone();
    let app_resource = &original.resources("ping.application_resource")[0];
    let resource = app_resource.id.clone();
    let under = app_resource.body["parent"]["id"].as_str().unwrap();
    for path in [
        format!("applicationRoles/{role}"),
        format!("resources/{under}/applicationResources/{resource}"),
    ] {
        admin(&fake, reqwest::Method::DELETE, &path, None).await;
    }
    let before = fake.write_count();
    let plan = restore::plan(&original, &ping, &RestoreOptions::default())
        .await
        .unwrap();
    assert_eq!(fake.write_count(), before, "the dry run sent writes");
    let text = plan.render_text();
    assert!(text.contains("without a password"), "{text}");
    assert!(text.contains("new client id and client secret"), "{text}");
    assert!(
        plan.rotation_checklist
            .iter()
            .any(|p| p.kind == "ping.application" && p.secret == "application client secret"),
        "the re-created application's secret is on the rotation checklist: {text}"
    );
    for kind in [
        "ping.application",
        "ping.application_grant",
        "ping.application_sign_on_policy_assignment",
        "ping.user",
        "ping.group_membership",
        "ping.notification_template_content",
        "ping.application_role",
        "ping.application_resource",
        "ping.application_resource_permission",
        "ping.application_role_permission",
    ] {
        assert!(
            plan.steps
                .iter()
                .any(|s| s.kind == kind && s.action == StepAction::Create),
            "{kind} not created: {text}"
        );
    }
    let report = restore::execute(&plan, &original, &ping, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{}", report.render_text());
    assert!(
        report.unverified.is_empty(),
        "{:?}\n{}\n{}",
        report.unverified,
        report.render_text(),
        plan.render_text()
    );

    let restored = snapshot(&ping).await;
    let (remaining, _) =
        diff::diff_after_restore(&original, &restored, ping.kinds(), &ping.severity_rules());
    assert!(
        remaining.changes.is_empty(),
        "{}",
        remaining.render_text(Severity::Info)
    );
    // The re-created application's grants name the environment's scopes by their ids.
    let scopes: Vec<String> = restored
        .resources("ping.resource_scope")
        .iter()
        .map(|s| s.id.clone())
        .collect();
    let new_app = restored
        .resources("ping.application")
        .iter()
        .find(|a| original.get("ping.application", &app).unwrap().natural_key == a.natural_key)
        .unwrap()
        .id
        .clone();
    assert_ne!(new_app, app, "PingOne assigns a new id");
    let new_grants: Vec<_> = restored
        .resources("ping.application_grant")
        .iter()
        .filter(|g| g.parent_id.as_deref() == Some(new_app.as_str()))
        .collect();
    assert!(!new_grants.is_empty());
    for g in new_grants {
        for r in g
            .references
            .iter()
            .filter(|r| r.kind == "ping.resource_scope")
        {
            assert!(
                scopes.contains(&r.id),
                "{} names no scope of the environment",
                r.id
            );
        }
    }
    // Every role names permissions of the environment's resources by their (new) ids.
    let permissions: Vec<String> = restored
        .resources("ping.application_resource_permission")
        .iter()
        .map(|p| p.id.clone())
        .collect();
    assert!(!permissions.iter().any(|p| p.starts_with(&resource)));
    let role_permissions = restored.resources("ping.application_role_permission");
    assert_eq!(
        role_permissions.len(),
        original.resources("ping.application_role_permission").len()
    );
    for p in role_permissions {
        let named = p.body["id"].as_str().unwrap();
        assert!(permissions.iter().any(|id| id == named), "{named}");
    }
    let again = restore::plan(&original, &ping, &RestoreOptions::default())
        .await
        .unwrap();
    assert_eq!(again.writes(), 0, "{}", again.render_text());
}

#[tokio::test]
async fn the_default_sign_on_policy_is_guarded() {
    let fake = FakePing::start(PingEnvSpec { users: 10, seed: 7 }, PingOptions::default())
        .await
        .unwrap();
    let ping = provider(&fake);
    let mut original = snapshot(&ping).await;
    // A backup in which the default policy was no longer the default: restoring it with
    // --update-existing would leave the environment without one.
    let default = original
        .resources("ping.sign_on_policy")
        .iter()
        .find(|p| p.body["default"] == true)
        .unwrap()
        .clone();
    let mut changed = default.clone();
    let mut body = (*changed.body).clone();
    body["default"] = json!(false);
    changed.body = std::sync::Arc::new(body);
    let mut list = original.resources("ping.sign_on_policy").to_vec();
    for p in &mut list {
        if p.id == default.id {
            *p = changed.clone();
        }
    }
    original.insert_kind(
        "ping.sign_on_policy",
        butterfly_core::KindOutcome::Complete,
        list,
    );
    let plan = restore::plan(
        &original,
        &ping,
        &RestoreOptions {
            update_existing: true,
            ..RestoreOptions::default()
        },
    )
    .await
    .unwrap();
    assert!(
        plan.guard
            .iter()
            .any(|g| g.level == GuardLevel::Critical && g.message.contains("default")),
        "{:?}",
        plan.guard
    );
    let before = fake.write_count();
    let err = restore::execute(&plan, &original, &ping, ExecuteOptions::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("lockout") || err.to_string().contains("override"),
        "{err}"
    );
    assert_eq!(
        fake.write_count(),
        before,
        "nothing written without the override"
    );
}

#[tokio::test]
async fn replacing_a_group_that_holds_an_admin_is_guarded() {
    let fake = FakePing::start(PingEnvSpec { users: 40, seed: 8 }, PingOptions::default())
        .await
        .unwrap();
    let ping = provider(&fake);
    let mut original = snapshot(&ping).await;
    // A group one of the admins (users with an admin role assignment) is a member of,
    // computed from the fake's own data.
    let admins: Vec<String> = fake
        .items("users")
        .iter()
        .filter_map(|u| u["id"].as_str().map(str::to_string))
        .filter(|u| !fake.items(&format!("users/{u}/roleAssignments")).is_empty())
        .collect();
    let group = admins
        .iter()
        .flat_map(|u| fake.items(&format!("users/{u}/memberOfGroups")))
        .filter_map(|m| m["id"].as_str().map(str::to_string))
        .next()
        .expect("an admin in a group");
    // The backup holds that group under another description: restoring it with
    // --update-existing would replace the group the admins are in.
    let mut list = original.resources("ping.group").to_vec();
    for g in &mut list {
        if g.id == group {
            let mut body = (*g.body).clone();
            body["description"] = json!("changed since the backup");
            g.body = std::sync::Arc::new(body);
        }
    }
    original.insert_kind("ping.group", butterfly_core::KindOutcome::Complete, list);
    let plan = restore::plan(
        &original,
        &ping,
        &RestoreOptions {
            update_existing: true,
            ..RestoreOptions::default()
        },
    )
    .await
    .unwrap();
    let finding = plan
        .guard
        .iter()
        .find(|g| g.level == GuardLevel::Critical && g.message.contains("holds admins"))
        .unwrap_or_else(|| panic!("{:?}", plan.guard));
    let step = &plan.steps[finding.step.unwrap()];
    assert_eq!(step.target_id.as_deref(), Some(group.as_str()));
    // A group without admins is not flagged.
    assert_eq!(
        plan.guard
            .iter()
            .filter(|g| g.message.contains("holds admins"))
            .count(),
        1
    );
    let before = fake.write_count();
    assert!(
        restore::execute(&plan, &original, &ping, ExecuteOptions::default())
            .await
            .is_err()
    );
    assert_eq!(
        fake.write_count(),
        before,
        "nothing written without the override"
    );
}
