//! End to end against the fake Okta org: backup, probe, the shared behaviour suite, restore.

use std::collections::BTreeSet;

use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::provider::Access;
use butterfly_core::snapshot::KindOutcome;
use butterfly_core::{ErrorKind, Provider};
use butterfly_okta::{OktaAuth, OktaConfig, OktaProvider};
use butterfly_testkit::behaviour::{self, TableHarness};
use butterfly_testkit::fake::{Fault, FaultRule};
use butterfly_testkit::okta::{FakeOkta, OktaOptions, OktaOrgSpec};
use secrecy::SecretString;

mod common;
use common::{jwt, ssws};

fn spec(users: usize) -> OktaOrgSpec {
    OktaOrgSpec {
        users,
        seed: 7,
        governance: false,
    }
}

#[tokio::test]
async fn backup_reads_every_kind_completely() {
    let fake = FakeOkta::start(spec(400), OktaOptions::default())
        .await
        .unwrap();
    let okta = jwt(&fake);
    let snap = backup::run(&okta, &BackupOptions::default()).await.unwrap();
    for (kind, data) in &snap.kinds {
        match &data.outcome {
            KindOutcome::Complete => {}
            KindOutcome::Unsupported { .. }
                if kind.starts_with("okta.access_") || kind == "okta.entitlement_bundle" => {}
            other => panic!("{kind}: {other:?}"),
        }
    }
    assert_eq!(snap.kinds.len(), okta.kinds().len());
    // Every user, DEPROVISIONED included.
    let users = fake.items("/api/v1/users");
    assert_eq!(snap.resources("okta.user").len(), users.len());
    assert!(users.iter().any(|u| u["status"] == "DEPROVISIONED"));
    assert!(
        snap.resources("okta.user")
            .iter()
            .any(|u| u.body["status"] == "DEPROVISIONED")
    );
    // Memberships of every group but Everyone.
    let groups = fake.items("/api/v1/groups");
    let expected: usize = groups
        .iter()
        .filter(|g| g["type"] != "BUILT_IN")
        .map(|g| fake.members(g["id"].as_str().unwrap()).len())
        .sum();
    assert_eq!(snap.resources("okta.group_member").len(), expected);
    // Every policy type and every rule.
    let policies = fake.items("/api/v1/policies");
    assert_eq!(snap.resources("okta.policy").len(), policies.len());
    let rules: usize = policies
        .iter()
        .map(|p| {
            fake.items(&format!(
                "/api/v1/policies/{}/rules",
                p["id"].as_str().unwrap()
            ))
            .len()
        })
        .sum();
    assert_eq!(snap.resources("okta.policy_rule").len(), rules);
    assert!(!snap.resources("okta.auth_server_policy_rule").is_empty());
    assert!(!snap.resources("okta.email_customization").is_empty());
    // References are recorded.
    let rule = &snap.resources("okta.policy_rule")[0];
    assert!(
        rule.references
            .iter()
            .any(|r| r.kind == "okta.network_zone")
    );
    // No secret reached the snapshot.
    let text = serde_json::to_string(&snap).unwrap();
    for s in fake.sentinels() {
        assert!(!text.contains(&s), "{s} leaked");
    }
    assert!(
        fake.server().unknown_requests().is_empty(),
        "{:?}",
        fake.server().unknown_requests()
    );
    assert_eq!(fake.write_count(), 0);
}

#[tokio::test]
async fn governance_kinds_are_read_when_the_org_has_them() {
    let fake = FakeOkta::start(
        OktaOrgSpec {
            governance: true,
            ..spec(50)
        },
        OktaOptions::default(),
    )
    .await
    .unwrap();
    let okta = ssws(&fake);
    let snap = backup::run(
        &okta,
        &BackupOptions::default().kinds(["okta.access_certification", "okta.entitlement_bundle"]),
    )
    .await
    .unwrap();
    assert_eq!(
        snap.kinds["okta.access_certification"].outcome,
        KindOutcome::Complete
    );
    assert_eq!(snap.resources("okta.entitlement_bundle").len(), 1);
    let without = FakeOkta::start(spec(50), OktaOptions::default())
        .await
        .unwrap();
    let report = ssws(&without)
        .probe(butterfly_okta::kinds::all())
        .await
        .unwrap();
    assert!(matches!(
        report.kinds["okta.access_request"],
        Access::Unsupported { .. }
    ));
}

#[tokio::test]
async fn bad_credentials_and_urls_are_typed_errors() {
    let fake = FakeOkta::start(spec(20), OktaOptions::default())
        .await
        .unwrap();
    let okta = OktaProvider::new(OktaConfig {
        auth: OktaAuth::ApiToken {
            token: SecretString::from("wrong".to_string()),
        },
        ..OktaConfig::from_vars(|k| {
            (k == "OKTA_ORG_URL")
                .then(|| fake.base_url())
                .or((k == "OKTA_API_TOKEN").then(|| "x".into()))
        })
        .unwrap()
    })
    .unwrap();
    let snap = backup::run(&okta, &BackupOptions::default().kinds(["okta.group"]))
        .await
        .unwrap();
    assert!(
        matches!(
            &snap.kinds["okta.group"].outcome,
            KindOutcome::Failed {
                kind: ErrorKind::Auth,
                ..
            }
        ),
        "{:?}",
        snap.kinds["okta.group"].outcome
    );
    let err = OktaConfig::from_vars(|k| match k {
        "OKTA_ORG_URL" => Some("http://idp.example.invalid".into()),
        "OKTA_API_TOKEN" => Some("SECRET-token".into()),
        _ => None,
    })
    .and_then(OktaProvider::new)
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let missing =
        OktaConfig::from_vars(|k| (k == "OKTA_ORG_URL").then(|| "https://acme.okta.com".into()))
            .unwrap_err();
    assert!(missing.to_string().contains("OKTA_CLIENT_ID"), "{missing}");
    let cfg = OktaConfig::from_vars(|k| match k {
        "OKTA_ORG_URL" => Some("https://acme.okta.com".into()),
        "OKTA_CLIENT_ID" => Some("0oa1".into()),
        "OKTA_PRIVATE_KEY" => Some("-----BEGIN PRIVATE KEY-----SECRET".into()),
        _ => None,
    })
    .unwrap();
    assert!(!format!("{cfg:?}").contains("SECRET"));
    let err = OktaProvider::new(cfg).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(!err.to_string().contains("SECRET"));
}

#[tokio::test]
async fn behaviour_suite() {
    behaviour::run_all(&TableHarness::<FakeOkta> {
        table: butterfly_okta::kinds::TABLE,
        users: 250,
        withheld_kind: "okta.group",
        provider: |fake| Box::new(jwt(fake)),
    })
    .await;
}

#[tokio::test]
async fn scopes_are_derived_from_the_kinds() {
    let fake = FakeOkta::start(
        spec(20),
        OktaOptions {
            withheld_scopes: vec!["okta.apps.read".into()],
            ..OktaOptions::default()
        },
    )
    .await
    .unwrap();
    let report = jwt(&fake)
        .probe(butterfly_okta::kinds::all())
        .await
        .unwrap();
    let denied: BTreeSet<&str> = report
        .kinds
        .iter()
        .filter(|(_, a)| matches!(a, Access::Denied { .. }))
        .map(|(k, _)| k.as_str())
        .collect();
    assert!(
        denied.contains("okta.app")
            && denied.contains("okta.app_user")
            && denied.contains("okta.app_group"),
        "{denied:?}"
    );
    assert!(!denied.contains("okta.user"));
}

#[tokio::test]
async fn a_missing_listing_loses_only_its_part() {
    // The first policy listing (type=OKTA_SIGN_ON) answers 404, as for a policy type an org
    // does not have; profile mappings answer a bare 404, as recorded for orgs without them.
    let fake = FakeOkta::start(
        spec(60),
        OktaOptions {
            faults: vec![
                FaultRule::get("/api/v1/policies", Fault::Status(404), 1, 1),
                FaultRule::get("/api/v1/mappings", Fault::Status(404), 1, 100),
            ],
            ..OktaOptions::default()
        },
    )
    .await
    .unwrap();
    let okta = ssws(&fake);
    let snap = backup::run(
        &okta,
        &BackupOptions::default().kinds(["okta.policy_rule", "okta.profile_mapping"]),
    )
    .await
    .unwrap();
    let policies = &snap.kinds["okta.policy"];
    assert_eq!(policies.outcome, KindOutcome::Complete);
    assert_eq!(policies.warnings.len(), 1, "{:?}", policies.warnings);
    assert!(
        policies.warnings[0].contains("type=OKTA_SIGN_ON"),
        "the warning names the listing: {:?}",
        policies.warnings
    );
    // Every other type was kept, and so were the rules of those policies.
    let kept: BTreeSet<&str> = snap
        .resources("okta.policy")
        .iter()
        .map(|p| p.body["type"].as_str().unwrap())
        .collect();
    assert!(!kept.contains("OKTA_SIGN_ON"));
    assert!(
        kept.contains("PASSWORD") && kept.contains("ACCESS_POLICY"),
        "{kept:?}"
    );
    assert_eq!(
        snap.kinds["okta.policy_rule"].outcome,
        KindOutcome::Complete
    );
    assert!(!snap.resources("okta.policy_rule").is_empty());
    // A top-level listing the org does not have is unsupported, not failed.
    assert!(
        matches!(
            &snap.kinds["okta.profile_mapping"].outcome,
            KindOutcome::Unsupported { reason } if reason.contains("404")
        ),
        "{:?}",
        snap.kinds["okta.profile_mapping"].outcome
    );
    assert_eq!(
        snap.status(),
        butterfly_core::SnapshotStatus::CompletedWithWarnings,
        "a kind with a missing part is a warning"
    );
    // The warning is kept in the stored snapshot.
    let store = butterfly_core::store::MemoryStore::new();
    use butterfly_core::store::StoreExt;
    let saved = store.save(&snap).await.unwrap();
    let loaded = store.load(&saved.id).await.unwrap();
    assert_eq!(loaded.kinds["okta.policy"].warnings, policies.warnings);
}

#[tokio::test]
async fn threat_insight_and_api_token_metadata_are_backed_up() {
    // Two kinds added as table rows plus fake routes: a singleton with a reference and a
    // read-only listing.
    let fake = FakeOkta::start(spec(30), OktaOptions::default())
        .await
        .unwrap();
    let okta = jwt(&fake);
    let snap = backup::run(
        &okta,
        &BackupOptions::default().kinds(["okta.threat_insight", "okta.api_token"]),
    )
    .await
    .unwrap();
    let threat = snap.resources("okta.threat_insight");
    assert_eq!(threat.len(), 1);
    assert_eq!(threat[0].body["action"], "audit");
    let zone = fake.items("/api/v1/zones")[0]["id"].clone();
    assert!(
        threat[0]
            .references
            .iter()
            .any(|r| r.kind == "okta.network_zone" && r.id == zone.as_str().unwrap()),
        "the excluded zone is a reference: {:?}",
        threat[0].references
    );
    let tokens = snap.resources("okta.api_token");
    assert_eq!(tokens.len(), fake.items("/api/v1/api-tokens").len());
    assert!(
        tokens
            .iter()
            .all(|t| t.references.iter().any(|r| r.kind == "okta.user"))
    );
    let kind = okta.kind("okta.api_token").unwrap();
    assert!(
        !kind.restore_support().can_create(),
        "API tokens cannot be re-created"
    );
}

#[tokio::test]
async fn group_owners_and_custom_role_permissions_are_backed_up() {
    // Two sub-resource kinds added as one table row each plus a fake route.
    let fake = FakeOkta::start(spec(120), OktaOptions::default())
        .await
        .unwrap();
    let okta = jwt(&fake);
    let snap = backup::run(
        &okta,
        &BackupOptions::default().kinds(["okta.group_owner", "okta.role_permission"]),
    )
    .await
    .unwrap();
    let groups = fake.items("/api/v1/groups");
    let expected: usize = groups
        .iter()
        .map(|g| {
            fake.items(&format!(
                "/api/v1/groups/{}/owners",
                g["id"].as_str().unwrap()
            ))
            .len()
        })
        .sum();
    let owners = snap.resources("okta.group_owner");
    assert!(expected > 0, "the fake org has group owners");
    assert_eq!(owners.len(), expected);
    for owner in owners {
        let group = owner.parent_id.as_deref().unwrap();
        assert_eq!(
            owner.id,
            format!("{group}/{}", owner.body["id"].as_str().unwrap())
        );
    }
    let role = fake.items("/api/v1/iam/roles")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut labels: Vec<String> = snap
        .resources("okta.role_permission")
        .iter()
        .map(|p| {
            assert_eq!(p.parent_id.as_deref(), Some(role.as_str()));
            p.natural_key.clone().unwrap()
        })
        .collect();
    labels.sort();
    assert_eq!(
        labels,
        ["okta.users.credentials.resetPassword", "okta.users.read"]
    );
}
