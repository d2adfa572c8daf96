//! End to end against the fake Auth0 tenant: the shared behaviour suite, every kind, users
//! beyond 1,000 through the export job, the access probe, and refused configurations.

use butterfly_auth0::{Auth0Auth, Auth0Config, Auth0Provider};
use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::provider::Access;
use butterfly_core::snapshot::KindOutcome;
use butterfly_core::{ErrorKind, Provider};
use butterfly_testkit::auth0::{Auth0Options, Auth0TenantSpec, FakeAuth0};
use butterfly_testkit::behaviour::{self, TableHarness};
use butterfly_testkit::fake::{Fault, FaultRule};
use secrecy::SecretString;

mod common;
use common::{config, jwt, provider, secret_auth};

fn spec(users: usize) -> Auth0TenantSpec {
    Auth0TenantSpec { users, seed: 7 }
}

#[tokio::test]
async fn behaviour_suite() {
    behaviour::run_all(&TableHarness::<FakeAuth0> {
        table: butterfly_auth0::kinds::TABLE,
        users: 60,
        withheld_kind: "auth0.client_grant",
        provider: |fake| Box::new(provider(fake)),
    })
    .await;
}

#[tokio::test]
async fn backup_reads_every_kind_completely() {
    let fake = FakeAuth0::start(spec(120), Auth0Options::default())
        .await
        .unwrap();
    let auth0 = jwt(&fake);
    let snap = backup::run(&auth0, &BackupOptions::default())
        .await
        .unwrap();
    for (kind, data) in &snap.kinds {
        assert!(
            matches!(data.outcome, KindOutcome::Complete),
            "{kind}: {:?}",
            data.outcome
        );
    }
    assert_eq!(snap.kinds.len(), auth0.kinds().len());
    let counts: Vec<String> = snap
        .kinds
        .iter()
        .map(|(k, d)| format!("{k}={}", d.resources.len()))
        .collect();
    println!("{} resources: {}", snap.resource_count(), counts.join(" "));
    println!("requests: {:?}", auth0.http_stats());
    for (kind, collection) in [
        ("auth0.user", "users"),
        ("auth0.client", "clients"),
        ("auth0.client_grant", "client-grants"),
        ("auth0.connection", "connections"),
        ("auth0.role", "roles"),
        ("auth0.organization", "organizations"),
        ("auth0.action", "actions/actions"),
    ] {
        assert_eq!(
            snap.resources(kind).len(),
            fake.items(collection).len(),
            "{kind}"
        );
        assert!(!snap.resources(kind).is_empty(), "{kind} is empty");
    }
    // Sub-resources and references are read.
    for kind in [
        "auth0.role_member",
        "auth0.role_permission",
        "auth0.organization_member",
        "auth0.connection_client",
        "auth0.action_binding",
    ] {
        assert!(!snap.resources(kind).is_empty(), "{kind} is empty");
    }
    let grant = &snap.resources("auth0.client_grant")[0];
    assert!(grant.references.iter().any(|r| r.kind == "auth0.client"));
    assert!(
        snap.resources("auth0.action_binding")
            .iter()
            .any(|b| b.references.iter().any(|r| r.kind == "auth0.action"))
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
async fn users_beyond_1000_come_through_the_export_job() {
    let fake = FakeAuth0::start(spec(5000), Auth0Options::default())
        .await
        .unwrap();
    let users = BackupOptions::default().kinds(["auth0.user"]);
    let snap = backup::run(&provider(&fake), &users).await.unwrap();
    assert_eq!(snap.kinds["auth0.user"].outcome, KindOutcome::Complete);
    let expected = fake.items("users").len();
    assert_eq!(expected, 5000);
    assert_eq!(snap.resources("auth0.user").len(), expected);
    // The same fake refuses the plain search beyond the first 1,000.
    let search_only = Auth0Provider::new(Auth0Config {
        export_threshold: Some(u64::MAX),
        ..config(&fake, secret_auth(&fake))
    })
    .unwrap();
    let snap = backup::run(&search_only, &users).await.unwrap();
    match &snap.kinds["auth0.user"].outcome {
        KindOutcome::Failed { kind, error } => {
            assert_eq!(*kind, ErrorKind::InvalidData);
            assert!(error.contains("invalid_paging"), "{error}");
        }
        other => panic!("search-only listing of 5,000 users ended {other:?}"),
    }
}

#[tokio::test]
async fn export_and_search_give_the_same_users() {
    let fake = FakeAuth0::start(spec(150), Auth0Options::default())
        .await
        .unwrap();
    let users = BackupOptions::default().kinds(["auth0.user"]);
    let searched = backup::run(&provider(&fake), &users).await.unwrap();
    let exporting = Auth0Provider::new(Auth0Config {
        export_threshold: Some(1),
        ..config(&fake, secret_auth(&fake))
    })
    .unwrap();
    let exported = backup::run(&exporting, &users).await.unwrap();
    assert_eq!(searched.resources("auth0.user").len(), 150);
    let (a, b) = (searched.encode().unwrap(), exported.encode().unwrap());
    if a.manifest.content_sha256 != b.manifest.content_sha256 {
        let (x, y) = (
            searched.resources("auth0.user"),
            exported.resources("auth0.user"),
        );
        let first = x
            .iter()
            .zip(y)
            .find(|(p, q)| p != q)
            .map(|(p, q)| format!("search: {}\nexport: {}", p.body, q.body));
        panic!("export and search differ: {first:?}");
    }
    assert_eq!(fake.write_count(), 0, "an export job is not a tenant write");
}

#[tokio::test]
async fn probe_names_missing_scopes_and_denied_kinds_do_not_stop_the_backup() {
    let fake = FakeAuth0::start(
        spec(20),
        Auth0Options {
            withheld_scopes: vec!["read:roles".into(), "read:log_streams".into()],
            ..Auth0Options::default()
        },
    )
    .await
    .unwrap();
    let auth0 = provider(&fake);
    let report = auth0.probe(auth0.kinds()).await.unwrap();
    for kind in ["auth0.role", "auth0.role_member", "auth0.role_permission"] {
        assert_eq!(
            report.kinds[kind],
            Access::Denied {
                missing: "read:roles".into()
            },
            "{kind}"
        );
    }
    assert_eq!(
        report.kinds["auth0.log_stream"],
        Access::Denied {
            missing: "read:log_streams".into()
        }
    );
    assert_eq!(report.kinds["auth0.user"], Access::Readable);
    let snap = backup::run(&auth0, &BackupOptions::default())
        .await
        .unwrap();
    assert!(matches!(
        &snap.kinds["auth0.role"].outcome,
        KindOutcome::Denied { missing } if missing == "read:roles"
    ));
    assert_eq!(snap.kinds["auth0.client"].outcome, KindOutcome::Complete);
}

#[tokio::test]
async fn bad_credentials_and_urls_are_typed_errors() {
    let fake = FakeAuth0::start(spec(10), Auth0Options::default())
        .await
        .unwrap();
    let wrong = Auth0Provider::new(config(
        &fake,
        Auth0Auth::ClientSecret {
            client_id: fake.client_id().to_string(),
            client_secret: SecretString::from("SECRET-wrong".to_string()),
        },
    ))
    .unwrap();
    let snap = backup::run(&wrong, &BackupOptions::default().kinds(["auth0.client"]))
        .await
        .unwrap();
    match &snap.kinds["auth0.client"].outcome {
        KindOutcome::Failed { kind, error } => {
            assert_eq!(*kind, ErrorKind::Auth);
            assert!(!error.contains("SECRET-wrong"));
        }
        other => panic!("{other:?}"),
    }
    // Plain http is refused off loopback, for the domain and for the base URL.
    for (domain, base) in [
        ("http://tenant.example.invalid", None),
        ("acme.eu.auth0.com", Some("http://proxy.example.invalid")),
    ] {
        let err = Auth0Provider::new(Auth0Config {
            domain: domain.into(),
            base_url: base.map(str::to_string),
            ..config(&fake, secret_auth(&fake))
        })
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{domain} {base:?}");
        assert!(err.to_string().contains("http"), "{err}");
    }
    let bad_key = Auth0Provider::new(config(
        &fake,
        Auth0Auth::PrivateKeyJwt {
            client_id: "abc".into(),
            private_key: SecretString::from("-----BEGIN PRIVATE KEY-----SECRET".to_string()),
            key_id: None,
        },
    ))
    .unwrap_err();
    assert_eq!(bad_key.kind(), ErrorKind::Config);
    assert!(!bad_key.to_string().contains("SECRET"));
}

#[tokio::test]
async fn weakened_security_is_critical_in_the_diff() {
    use butterfly_core::diff::{self, Severity};
    let fake = FakeAuth0::start(spec(20), Auth0Options::default())
        .await
        .unwrap();
    let auth0 = provider(&fake);
    let before = backup::run(&auth0, &BackupOptions::default())
        .await
        .unwrap();
    let connection = before.resources("auth0.connection")[0].id.clone();
    fake.with_tenant(|t| {
        t.singletons
            .get_mut("attack-protection/brute-force-protection")
            .unwrap()["enabled"] = serde_json::json!(false);
        t.singletons
            .insert("guardian/policies".into(), serde_json::json!([]));
        let grant = t
            .collections
            .get_mut("client-grants")
            .unwrap()
            .first_mut()
            .unwrap();
        grant["scope"]
            .as_array_mut()
            .unwrap()
            .push("delete:users".into());
        t.collections
            .get_mut("connections")
            .unwrap()
            .retain(|c| c["id"] != connection.as_str());
    });
    let after = backup::run(&auth0, &BackupOptions::default())
        .await
        .unwrap();
    let d = diff::diff(&before, &after, auth0.kinds(), &auth0.severity_rules());
    let severity = |kind: &str| {
        d.changes
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.severity)
            .max()
    };
    let text = d.render_text(Severity::Info);
    assert_eq!(
        severity("auth0.brute_force_protection"),
        Some(Severity::Critical),
        "{text}"
    );
    assert_eq!(
        severity("auth0.guardian_policy"),
        Some(Severity::Critical),
        "{text}"
    );
    assert_eq!(
        severity("auth0.client_grant"),
        Some(Severity::High),
        "{text}"
    );
    assert_eq!(
        severity("auth0.connection"),
        Some(Severity::Critical),
        "{text}"
    );
}

#[tokio::test]
async fn a_smaller_bucket_than_configured_is_learnt_from_the_headers() {
    use butterfly_testkit::auth0::{Auth0Tier, auth0_rate_limits};
    // The tenant is on the free tier (2 per second, time 50x faster); the client believes it
    // has Enterprise limits at the same scale and must slow down from the x-ratelimit-* headers
    // and the 429s' reset times.
    let fake = FakeAuth0::start(
        spec(20),
        Auth0Options {
            rate_limits: Some(auth0_rate_limits(Auth0Tier::Free, 50.0)),
            ..Auth0Options::default()
        },
    )
    .await
    .unwrap();
    let auth0 = Auth0Provider::new(Auth0Config {
        rate_limit: Some(butterfly_auth0::TokenBucket::ENTERPRISE.scaled(50.0)),
        ..config(&fake, secret_auth(&fake))
    })
    .unwrap();
    let kinds = [
        "auth0.client",
        "auth0.role",
        "auth0.role_member",
        "auth0.connection",
    ];
    let snap = backup::run(&auth0, &BackupOptions::default().kinds(kinds))
        .await
        .unwrap();
    for kind in kinds {
        assert_eq!(snap.kinds[kind].outcome, KindOutcome::Complete, "{kind}");
    }
    assert_eq!(
        snap.resources("auth0.role").len(),
        fake.items("roles").len()
    );
    let stats = auth0.http_stats();
    println!("{stats:?}");
    // The client paced itself: it waited on the headers or on 429 resets, and never gave up.
    assert!(stats.waited_ms > 0 || stats.rate_limited > 0, "{stats:?}");
}

#[tokio::test]
async fn a_trigger_without_bindings_loses_only_its_part() {
    // One trigger's bindings answer 404 (a trigger the tenant does not have); the others and
    // the rest of the kind are kept, with a warning naming the trigger.
    let fake = FakeAuth0::start(
        spec(20),
        Auth0Options {
            faults: vec![FaultRule::get(
                "/api/v2/actions/triggers/",
                Fault::Status(404),
                1,
                1,
            )],
            ..Auth0Options::default()
        },
    )
    .await
    .unwrap();
    // The same tenant without the fault: one resource per trigger.
    let clean = FakeAuth0::start(spec(20), Auth0Options::default())
        .await
        .unwrap();
    let options = BackupOptions::default().kinds(["auth0.action_binding"]);
    let triggers = backup::run(&provider(&clean), &options)
        .await
        .unwrap()
        .resources("auth0.action_binding")
        .len();
    assert!(triggers > 1, "the fake has several triggers");
    let snap = backup::run(&provider(&fake), &options).await.unwrap();
    let bindings = &snap.kinds["auth0.action_binding"];
    assert_eq!(bindings.outcome, KindOutcome::Complete);
    assert_eq!(bindings.resources.len(), triggers - 1);
    assert_eq!(bindings.warnings.len(), 1, "{:?}", bindings.warnings);
    assert!(
        bindings.warnings[0].contains("bindings of trigger"),
        "{:?}",
        bindings.warnings
    );
    assert_eq!(
        snap.status(),
        butterfly_core::SnapshotStatus::CompletedWithWarnings
    );
}
