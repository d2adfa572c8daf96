//! The Okta lockout guard: a plan that would lock admins out is critical and refused without
//! the override.

mod common;

use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::restore::{self, ExecuteOptions, GuardLevel, RestoreOptions};
use butterfly_core::{ErrorKind, Snapshot};
use butterfly_testkit::okta::{FakeOkta, OktaOptions, OktaOrgSpec};
use serde_json::json;

async fn org() -> (FakeOkta, butterfly_okta::OktaProvider, Snapshot) {
    let fake = FakeOkta::start(
        OktaOrgSpec {
            users: 80,
            seed: 21,
            governance: false,
        },
        OktaOptions::default(),
    )
    .await
    .unwrap();
    let okta = common::ssws(&fake);
    let snap = backup::run(&okta, &BackupOptions::default()).await.unwrap();
    (fake, okta, snap)
}

fn sign_on_rule(snap: &Snapshot) -> (String, String) {
    let rule = snap
        .resources("okta.policy_rule")
        .iter()
        .find(|r| r.body["type"] == "SIGN_ON")
        .unwrap();
    let (policy, own) = rule.id.split_once('/').unwrap();
    (policy.to_string(), own.to_string())
}

#[tokio::test]
async fn a_rule_denying_every_admin_is_critical() {
    let (fake, okta, mut snap) = org().await;
    // The snapshot (say, tampered with, or taken after a bad change) holds a DENY rule for the
    // admins' group; the target lost that rule.
    let (policy, own) = sign_on_rule(&snap);
    let id = format!("{policy}/{own}");
    let kinds = snap.kinds.get_mut("okta.policy_rule").unwrap();
    let rule = kinds.resources.iter_mut().find(|r| r.id == id).unwrap();
    std::sync::Arc::make_mut(&mut rule.body)["actions"]["signon"]["access"] = json!("DENY");
    let writes = fake.write_count();
    reqwest::Client::new()
        .delete(format!(
            "{}/api/v1/policies/{policy}/rules/{own}",
            fake.base_url()
        ))
        .header("authorization", format!("SSWS {}", fake.api_token()))
        .send()
        .await
        .unwrap();
    let plan = restore::plan(
        &snap,
        &okta,
        &RestoreOptions {
            kinds: Some(vec!["okta.policy_rule".into()]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(plan.is_critical(), "{}", plan.render_text());
    assert!(
        plan.guard
            .iter()
            .any(|g| g.level == GuardLevel::Critical && g.message.contains("deny sign-in"))
    );
    let err = restore::execute(&plan, &snap, &okta, ExecuteOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(
        fake.write_count(),
        writes + 1,
        "only the incident's DELETE: nothing written by the refused plan"
    );
}

#[tokio::test]
async fn removing_mfa_from_admins_is_critical() {
    let (fake, okta, snap) = org().await;
    let (policy, own) = sign_on_rule(&snap);
    // The live rule requires MFA; the snapshot's copy does not: an update would remove it.
    let mut stale = snap.clone();
    let rule = stale
        .kinds
        .get_mut("okta.policy_rule")
        .unwrap()
        .resources
        .iter_mut()
        .find(|r| r.id == format!("{policy}/{own}"))
        .unwrap();
    std::sync::Arc::make_mut(&mut rule.body)["actions"]["signon"]["requireFactor"] = json!(false);
    let plan = restore::plan(
        &stale,
        &okta,
        &RestoreOptions {
            kinds: Some(vec!["okta.policy_rule".into()]),
            update_existing: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        plan.guard
            .iter()
            .any(|g| g.level == GuardLevel::Critical && g.message.contains("MFA")),
        "{:?}",
        plan.guard
    );
    assert_eq!(fake.write_count(), 0);
    let report = restore::execute(
        &plan,
        &stale,
        &okta,
        ExecuteOptions {
            override_lockout: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(report.updated, 1, "the explicit override executes it");
}

#[tokio::test]
async fn no_active_super_admin_left_is_critical() {
    let (fake, okta, snap) = org().await;
    // Every SUPER_ADMIN assignment is gone from the target and the plan does not bring one back.
    let assignees: Vec<String> = fake
        .items("/api/v1/iam/assignees/users")
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    fake.with_org(|collections, _| {
        for uid in &assignees {
            if let Some(roles) = collections.get_mut(&format!("/api/v1/users/{uid}/roles")) {
                roles.retain(|r| r["type"] != "SUPER_ADMIN");
            }
        }
    });
    let plan = restore::plan(
        &snap,
        &okta,
        &RestoreOptions {
            kinds: Some(vec!["okta.group".into()]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        plan.guard.iter().any(|g| g.message.contains("super admin")),
        "{:?}",
        plan.guard
    );
    assert!(plan.is_critical());
}
