//! End to end against the fake PingOne environment: the shared behaviour suite, every kind
//! read completely, the access probe naming the missing admin role, secrets never stored, and
//! refused configurations.

use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::provider::Access;
use butterfly_core::snapshot::KindOutcome;
use butterfly_core::{ErrorKind, Provider};
use butterfly_ping::{PingConfig, PingProvider};
use butterfly_testkit::behaviour::{self, TableHarness};
use butterfly_testkit::ping::{ENVIRONMENT_ADMIN, FakePing, PingEnvSpec, PingOptions};
use secrecy::SecretString;

fn config(fake: &FakePing) -> PingConfig {
    PingConfig {
        environment_id: fake.environment_id().to_string(),
        client_id: fake.client_id().to_string(),
        client_secret: SecretString::from(fake.client_secret().to_string()),
        region: "com".into(),
        api_url: Some(fake.api_url()),
        auth_url: None,
        max_share: Some(1.0),
        // The fake is not rate-limited: pace as for a clock running 100 times faster.
        rate_scale: Some(100.0),
    }
}

fn provider(fake: &FakePing) -> PingProvider {
    PingProvider::new(config(fake)).unwrap()
}

#[tokio::test]
async fn behaviour_suite() {
    behaviour::run_all(&TableHarness::<FakePing> {
        table: butterfly_ping::kinds::TABLE,
        users: 80,
        withheld_kind: "ping.sign_on_policy",
        provider: |fake| Box::new(provider(fake)),
    })
    .await;
}

#[tokio::test]
async fn backup_reads_every_kind_completely() {
    let fake = FakePing::start(
        PingEnvSpec {
            users: 250,
            seed: 3,
        },
        PingOptions::default(),
    )
    .await
    .unwrap();
    let ping = provider(&fake);
    let snap = backup::run(&ping, &BackupOptions::default()).await.unwrap();
    for (kind, data) in &snap.kinds {
        assert_eq!(data.outcome, KindOutcome::Complete, "{kind}");
    }
    // Every page of users and groups was followed.
    assert_eq!(snap.resources("ping.user").len(), fake.items("users").len());
    assert_eq!(
        snap.resources("ping.group").len(),
        fake.items("groups").len()
    );
    let memberships: usize = fake
        .items("users")
        .iter()
        .map(|u| {
            fake.items(&format!(
                "users/{}/memberOfGroups",
                u["id"].as_str().unwrap()
            ))
            .len()
        })
        .sum();
    assert!(memberships > 0);
    assert_eq!(snap.resources("ping.group_membership").len(), memberships);
    assert_eq!(snap.resources("ping.environment").len(), 1);
    // Items never carry the environment's id: a backup restores into any environment.
    for kind in snap.kinds.keys() {
        for r in snap.resources(kind) {
            assert!(r.body.get("environment").is_none(), "{kind} {}", r.id);
        }
    }
    // Grants reference their resource and scopes, remapped on restore.
    let grant = &snap.resources("ping.application_grant")[0];
    assert!(grant.references.iter().any(|r| r.kind == "ping.resource"));
    assert!(
        grant
            .references
            .iter()
            .any(|r| r.kind == "ping.resource_scope")
    );
    // Secrets are never read; OIDC applications and gateways carry typed placeholders
    // naming what a restore must rotate.
    let apps = snap.resources("ping.application");
    for app in apps {
        let oidc = app.body["protocol"] == "OPENID_CONNECT";
        assert_eq!(
            butterfly_core::redact::is_placeholder(&app.body["clientSecret"]),
            oidc,
            "{}",
            app.body
        );
    }
    assert!(apps.iter().any(|a| a.body["protocol"] == "OPENID_CONNECT"));
    for gateway in snap.resources("ping.gateway") {
        assert!(butterfly_core::redact::is_placeholder(
            &gateway.body["credentials"]
        ));
    }
    // No planted secret is in the snapshot.
    let text = serde_json::to_string(&snap.kinds).unwrap();
    for sentinel in fake.sentinels() {
        assert!(!text.contains(&sentinel), "a secret reached the snapshot");
    }
}

#[tokio::test]
async fn a_missing_role_is_named_by_the_probe_and_the_backup() {
    let fake = FakePing::start(
        PingEnvSpec { users: 30, seed: 4 },
        PingOptions {
            withheld: vec![ENVIRONMENT_ADMIN.to_string()],
            ..PingOptions::default()
        },
    )
    .await
    .unwrap();
    let ping = provider(&fake);
    let report = ping.probe(ping.kinds()).await.unwrap();
    let denied = Access::Denied {
        missing: ENVIRONMENT_ADMIN.into(),
    };
    assert_eq!(report.kinds["ping.sign_on_policy"], denied);
    assert_eq!(report.kinds["ping.sign_on_policy_action"], denied);
    assert_eq!(report.kinds["ping.user"], Access::Readable);
    let snap = backup::run(&ping, &BackupOptions::default()).await.unwrap();
    assert!(matches!(
        snap.kinds["ping.sign_on_policy"].outcome,
        KindOutcome::Denied { .. }
    ));
    assert_eq!(snap.kinds["ping.user"].outcome, KindOutcome::Complete);
}

#[tokio::test]
async fn a_service_the_environment_lacks_is_unsupported_not_denied() {
    let fake = FakePing::start(
        PingEnvSpec { users: 20, seed: 6 },
        PingOptions {
            missing_products: vec!["PING_ONE_MFA".into(), "PING_ONE_AUTHORIZE".into()],
            ..PingOptions::default()
        },
    )
    .await
    .unwrap();
    // The fake answers those routes as it answers a missing role (tests/ping_fake.rs):
    // only the bill of materials tells the two apart.
    let ping = provider(&fake);
    let report = ping.probe(ping.kinds()).await.unwrap();
    let unsupported = |kind: &str, product: &str| match &report.kinds[kind] {
        Access::Unsupported { reason } => assert!(
            reason.contains(product) && reason.contains("bill of materials"),
            "{kind}: {reason}"
        ),
        other => panic!("{kind} is {other:?}, not unsupported"),
    };
    for kind in [
        "ping.mfa_device_policy",
        "ping.fido2_policy",
        "ping.mfa_settings",
    ] {
        unsupported(kind, "PING_ONE_MFA");
    }
    for kind in [
        "ping.application_role",
        "ping.application_role_permission",
        "ping.api_server",
    ] {
        unsupported(kind, "PING_ONE_AUTHORIZE");
    }
    // The services it has stay readable.
    assert_eq!(report.kinds["ping.risk_policy_set"], Access::Readable);
    assert_eq!(report.kinds["ping.sign_on_policy"], Access::Readable);

    let snap = backup::run(&ping, &BackupOptions::default()).await.unwrap();
    for kind in [
        "ping.mfa_device_policy",
        "ping.api_server",
        "ping.application_role",
    ] {
        assert!(
            matches!(snap.kinds[kind].outcome, KindOutcome::Unsupported { .. }),
            "{kind}: {:?}",
            snap.kinds[kind].outcome
        );
    }
    assert_eq!(
        snap.kinds["ping.risk_predictor"].outcome,
        KindOutcome::Complete
    );
    assert_eq!(
        snap.status(),
        butterfly_core::SnapshotStatus::Success,
        "a service the environment lacks is not a warning"
    );
}

#[tokio::test]
async fn bad_credentials_are_one_clear_error() {
    let fake = FakePing::start(PingEnvSpec { users: 5, seed: 5 }, PingOptions::default())
        .await
        .unwrap();
    let mut bad = config(&fake);
    bad.client_secret = SecretString::from("WRONG-SECRET-VALUE".to_string());
    let ping = PingProvider::new(bad).unwrap();
    let snap = backup::run(&ping, &BackupOptions::default()).await.unwrap();
    let err = backup::rejected_credentials(&snap).expect("the credentials are rejected");
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert!(!err.to_string().contains("WRONG-SECRET-VALUE"));
    assert!(
        err.to_string().contains("PINGONE_CLIENT_SECRET"),
        "the error names the setting to fix: {err}"
    );
    assert_eq!(fake.write_count(), 0);
}
