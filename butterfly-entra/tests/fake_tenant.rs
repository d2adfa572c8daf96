//! End to end against the fake Entra tenant: backup, probe, the shared behaviour suite,
//! both credential types, bad credentials and URLs, page token expiry, incremental equals
//! full.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::provider::Access;
use butterfly_core::snapshot::KindOutcome;
use butterfly_core::{ErrorKind, Provider};
use butterfly_entra::{EXPAND_LIMIT, EntraAuth, EntraConfig, EntraProvider};
use butterfly_testkit::behaviour::{self, TableHarness};
use butterfly_testkit::entra::{EntraOptions, EntraTenantSpec, FakeEntra, LONG_RELATIONS_FROM};
use butterfly_testkit::fake::{Fault, FaultRule};
use secrecy::SecretString;
use serde_json::json;

mod common;
use common::{certificate, config, secret};

fn spec(users: usize) -> EntraTenantSpec {
    EntraTenantSpec { users, seed: 7 }
}

#[tokio::test]
async fn backup_reads_every_kind_completely() {
    let fake = FakeEntra::start(spec(300), EntraOptions::default())
        .await
        .unwrap();
    let entra = certificate(&fake);
    let snap = backup::run(&entra, &BackupOptions::default())
        .await
        .unwrap();
    for (kind, data) in &snap.kinds {
        assert_eq!(data.outcome, KindOutcome::Complete, "{kind}");
        if !kind.ends_with("_owner") && kind != "entra.federated_identity_credential" {
            assert!(!data.resources.is_empty(), "{kind} is empty");
        }
    }
    assert_eq!(snap.kinds.len(), entra.kinds().len());
    // Every user, disabled accounts included, with the properties Graph only gives on $select.
    let users = fake.items("users");
    assert_eq!(snap.resources("entra.user").len(), users.len());
    assert!(
        snap.resources("entra.user")
            .iter()
            .any(|u| u.body["accountEnabled"] == json!(false))
    );
    // Every membership of every group.
    let expected: usize = fake
        .items("groups")
        .iter()
        .map(|g| {
            fake.with_tenant(|t| {
                t.references(&format!("groups/{}/members", g["id"].as_str().unwrap()))
            })
            .len()
        })
        .sum();
    assert_eq!(snap.resources("entra.group_member").len(), expected);
    // Conditional access references are typed and keywords are not references.
    let refs: BTreeSet<&str> = snap
        .resources("entra.conditional_access_policy")
        .iter()
        .flat_map(|p| p.references.iter().map(|r| r.kind.as_str()))
        .collect();
    assert!(
        refs.contains("entra.group") && refs.contains("entra.named_location"),
        "{refs:?}"
    );
    for p in snap.resources("entra.conditional_access_policy") {
        assert!(
            p.references.iter().all(|r| r.id.len() == 36),
            "{:?}",
            p.references
        );
    }
    // Role assignments name their principal's kind.
    assert!(snap.resources("entra.role_assignment").iter().all(|r| {
        r.references
            .iter()
            .any(|x| x.pointer.starts_with("/principal/"))
    }));
    // No secret reached the snapshot; credential metadata is kept.
    let text = serde_json::to_string(&snap).unwrap();
    for s in fake.sentinels() {
        assert!(!text.contains(&s), "{s} leaked");
    }
    assert!(snap.resources("entra.application").iter().any(|a| {
        a.body["passwordCredentials"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    }));
    assert!(
        fake.server().unknown_requests().is_empty(),
        "{:?}",
        fake.server().unknown_requests()
    );
    assert_eq!(fake.write_count(), 0);
}

#[tokio::test]
async fn large_user_listings_run_in_parallel_ranges() {
    let fake = FakeEntra::start(spec(2600), EntraOptions::default())
        .await
        .unwrap();
    let entra = secret(&fake);
    let snap = backup::run(&entra, &BackupOptions::default().kinds(["entra.user"]))
        .await
        .unwrap();
    let expected: BTreeSet<String> = fake
        .items("users")
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    let got: BTreeSet<String> = snap
        .resources("entra.user")
        .iter()
        .map(|u| u.id.clone())
        .collect();
    assert_eq!(got, expected);
    // A cursor, a first page for the range bounds, then the ranges (not three pages in a row).
    let requests = entra.http_stats().requests["graph"];
    assert!(
        requests >= 2 + butterfly_entra::USER_PARTITIONS as u64 - 1,
        "{requests}"
    );
}

#[tokio::test]
async fn secret_and_certificate_credentials_both_work() {
    let fake = FakeEntra::start(spec(20), EntraOptions::default())
        .await
        .unwrap();
    for entra in [secret(&fake), certificate(&fake)] {
        let snap = backup::run(&entra, &BackupOptions::default().kinds(["entra.user"]))
            .await
            .unwrap();
        assert_eq!(snap.kinds["entra.user"].outcome, KindOutcome::Complete);
        assert_eq!(snap.resources("entra.user").len(), 20);
        // The token's roles claim lists the granted Graph application permissions.
        assert!(
            entra
                .granted_permissions()
                .contains(&"User.Read.All".to_string())
        );
    }
}

#[tokio::test]
async fn bad_credentials_and_urls_are_typed_errors() {
    let fake = FakeEntra::start(spec(20), EntraOptions::default())
        .await
        .unwrap();
    let wrong = EntraProvider::new(config(
        &fake,
        EntraAuth::ClientSecret {
            secret: SecretString::from("SECRET-wrong".to_string()),
        },
    ))
    .unwrap();
    let snap = backup::run(&wrong, &BackupOptions::default().kinds(["entra.group"]))
        .await
        .unwrap();
    match &snap.kinds["entra.group"].outcome {
        KindOutcome::Failed { kind, error } => {
            assert_eq!(*kind, ErrorKind::Auth);
            assert!(error.contains("AADSTS"), "{error}");
            assert!(!error.contains("SECRET"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    let wrong_thumbprint = EntraProvider::new(config(
        &fake,
        EntraAuth::Certificate {
            private_key: SecretString::from(fake.certificate_private_key_pem().to_string()),
            thumbprint: "not-the-registered-certificate".into(),
        },
    ))
    .unwrap();
    assert_eq!(
        wrong_thumbprint
            .probe(&butterfly_entra::kinds::all()[..1])
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Auth
    );
    for (graph, authority) in [
        ("http://graph.example.invalid".to_string(), fake.base_url()),
        (fake.base_url(), "http://login.example.invalid".to_string()),
    ] {
        let err = EntraConfig::from_vars(|k| match k {
            "ENTRA_TENANT_ID" => Some(fake.tenant_id().to_string()),
            "ENTRA_CLIENT_ID" => Some(fake.client_id().to_string()),
            "ENTRA_CLIENT_SECRET" => Some("SECRET-x".into()),
            "ENTRA_GRAPH_URL" => Some(graph.clone()),
            "ENTRA_AUTHORITY_URL" => Some(authority.clone()),
            _ => None,
        })
        .and_then(EntraProvider::new)
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains("http"), "{err}");
        assert!(!err.to_string().contains("SECRET"));
    }
    let cfg = EntraConfig::from_vars(|k| match k {
        "ENTRA_TENANT_ID" => Some("t".into()),
        "ENTRA_CLIENT_ID" => Some("c".into()),
        "ENTRA_CERTIFICATE" => Some("-----BEGIN PRIVATE KEY-----SECRET".into()),
        "ENTRA_CERTIFICATE_THUMBPRINT" => Some("x".into()),
        _ => None,
    })
    .unwrap();
    assert!(!format!("{cfg:?}").contains("SECRET"));
    let err = EntraProvider::new(cfg).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(!err.to_string().contains("SECRET"));
}

#[tokio::test]
async fn probe_names_the_missing_permission() {
    let fake = FakeEntra::start(
        spec(20),
        EntraOptions {
            withheld_permissions: vec!["Application.Read.All".into()],
            ..EntraOptions::default()
        },
    )
    .await
    .unwrap();
    let entra = secret(&fake);
    let report = entra.probe(butterfly_entra::kinds::all()).await.unwrap();
    for kind in [
        "entra.application",
        "entra.application_owner",
        "entra.service_principal",
        "entra.app_role_assignment",
    ] {
        assert_eq!(
            report.kinds[kind],
            Access::Denied {
                missing: "Application.Read.All".into()
            },
            "{kind}"
        );
    }
    assert_eq!(report.kinds["entra.user"], Access::Readable);
    assert!(
        !entra
            .granted_permissions()
            .contains(&"Application.Read.All".to_string())
    );
}

#[tokio::test]
async fn expired_page_tokens_restart_the_listing() {
    // One group with more members than a page: its second page is requested with a
    // skiptoken, answered late (slow fault) so the token has expired by then. Tenants from
    // the same seed have the same ids: a first one tells the group's id.
    let group = FakeEntra::start(spec(1100), EntraOptions::default())
        .await
        .unwrap()
        .items("groups")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let slow = FakeEntra::start(
        spec(1100),
        EntraOptions {
            page_token_ttl: Some(Duration::from_millis(1000)),
            faults: vec![FaultRule::get(
                &format!("/v1.0/groups/{group}/members"),
                Fault::Slow(Duration::from_millis(1500)),
                1,
                1,
            )],
            ..EntraOptions::default()
        },
    )
    .await
    .unwrap();
    let users: Vec<String> = slow
        .items("users")
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    let members = slow.with_tenant(|t| {
        for u in &users {
            t.add_reference(&format!("groups/{group}"), "members", u);
        }
        t.references(&format!("groups/{group}/members")).len()
    });
    assert!(members > 999);
    let entra = secret(&slow);
    let snap = backup::run(
        &entra,
        &BackupOptions::default().kinds(["entra.group_member"]),
    )
    .await
    .unwrap();
    assert_eq!(
        snap.kinds["entra.group_member"].outcome,
        KindOutcome::Complete
    );
    let got = snap
        .resources("entra.group_member")
        .iter()
        .filter(|m| m.parent_id.as_deref() == Some(group.as_str()))
        .count();
    assert_eq!(got, members);
}

#[tokio::test]
async fn incremental_backup_equals_a_full_one() {
    let fake = FakeEntra::start(spec(400), EntraOptions::default())
        .await
        .unwrap();
    let entra = secret(&fake);
    let first = Arc::new(
        backup::run(&entra, &BackupOptions::default())
            .await
            .unwrap(),
    );
    let full_requests = total(&entra);
    let full_gets = gets(&entra);

    // Nothing changed: a handful of requests, and the same content.
    let before = (total(&entra), gets(&entra));
    let same = backup::run(&entra, &BackupOptions::default().previous(first.clone()))
        .await
        .unwrap();
    let unchanged_requests = total(&entra) - before.0;
    // Users and groups: one delta request each; the organization's branding is another
    // plain GET; application owners, federated credentials and app role assignments one
    // page each of their parents' listing with `$expand` (the other kinds go in shared
    // batches).
    assert_eq!(gets(&entra) - before.1, 6);
    // The full backup took a cursor and a listing for users and groups, and the same three
    // expanded listings.
    assert_eq!(full_gets, 8);
    assert_eq!(hash(&same), hash(&first));
    // Carried over, not copied: what came through delta unchanged shares its bodies with the
    // previous snapshot (an incremental backup of a large tenant costs little memory or CPU).
    for kind in [
        "entra.user",
        "entra.group",
        "entra.group_member",
        "entra.group_owner",
    ] {
        let (was, now) = (&first.kinds[kind].resources, &same.kinds[kind].resources);
        assert!(!was.is_empty(), "{kind}");
        assert_eq!(was.len(), now.len(), "{kind}");
        assert!(
            was.iter()
                .zip(now)
                .all(|(a, b)| Arc::ptr_eq(&a.body, &b.body)),
            "{kind}: bodies were copied"
        );
    }

    // An admin's changes: users added, renamed, disabled, deleted; a group renamed and one
    // deleted; members added and removed.
    let users = fake.items("users");
    let groups = fake.items("groups");
    let id = |v: &serde_json::Value| v["id"].as_str().unwrap().to_string();
    fake.with_tenant(|t| {
        let new_user = t.insert(
            "users",
            json!({"displayName": "New Hire", "userPrincipalName": "new.hire@contoso.example",
                "mailNickname": "newhire", "accountEnabled": true, "userType": "Member"}),
        );
        t.update("users", &id(&users[1]), &json!({"displayName": "Renamed"}));
        t.update("users", &id(&users[2]), &json!({"accountEnabled": false}));
        t.delete("users", &id(&users[3]));
        t.update(
            "groups",
            &id(&groups[0]),
            &json!({"description": "changed"}),
        );
        t.add_reference(&format!("groups/{}", id(&groups[1])), "members", &new_user);
        let members = t.references(&format!("groups/{}/members", id(&groups[2])));
        t.remove_reference(
            &format!("groups/{}", id(&groups[2])),
            "members",
            &members[0],
        );
        t.delete("groups", &id(&groups[3]));
        // Owners: one added, one taken away (tracked by the groups delta round too).
        t.add_reference(&format!("groups/{}", id(&groups[4])), "owners", &new_user);
        let owners = t.references(&format!("groups/{}/owners", id(&groups[5])));
        assert!(!owners.is_empty(), "the generated group has owners");
        t.remove_reference(&format!("groups/{}", id(&groups[5])), "owners", &owners[0]);
    });
    let before = (total(&entra), gets(&entra));
    let incremental = backup::run(&entra, &BackupOptions::default().previous(Arc::new(same)))
        .await
        .unwrap();
    let incremental_requests = total(&entra) - before.0;
    // The cursors continued from the unchanged backup: deltas again, no listing.
    assert_eq!(gets(&entra) - before.1, 6);
    let full = backup::run(&secret(&fake), &BackupOptions::default())
        .await
        .unwrap();
    for (kind, data) in &full.kinds {
        assert_eq!(
            data.resources, incremental.kinds[kind].resources,
            "{kind} differs between the full and the incremental backup"
        );
    }
    assert_eq!(hash(&incremental), hash(&full));
    assert_ne!(hash(&incremental), hash(&first));
    println!(
        "requests: full {full_requests}, unchanged tenant {unchanged_requests}, after changes {incremental_requests}"
    );
    // A handful: two delta requests and a few batches (how many kinds share a batch
    // depends on how the orchestrator starts them).
    assert!(
        unchanged_requests <= 20,
        "an unchanged tenant cost {unchanged_requests} requests"
    );
}

#[tokio::test]
async fn relationships_longer_than_expand_returns_are_read_in_full() {
    // From 500 users the generated tenant has an application with 25 owners and 25 federated
    // credentials, and a service principal with 30 app role assignments: more than the 20
    // related objects Graph's `$expand` returns per parent.
    let fake = FakeEntra::start(spec(LONG_RELATIONS_FROM), EntraOptions::default())
        .await
        .unwrap();
    let entra = secret(&fake);
    let kinds = [
        "entra.application_owner",
        "entra.federated_identity_credential",
        "entra.app_role_assignment",
    ];
    let snap = backup::run(&entra, &BackupOptions::default().kinds(kinds))
        .await
        .unwrap();
    let per_parent = |kind: &str, parent: &str| {
        snap.resources(kind)
            .iter()
            .filter(|r| r.parent_id.as_deref() == Some(parent))
            .count()
    };
    let apps = fake.items("applications");
    let mut longest = [0usize; 2];
    for app in &apps {
        let id = app["id"].as_str().unwrap();
        let owners = fake.with_tenant(|t| t.references(&format!("applications/{id}/owners")));
        let fics = fake.items(&format!("applications/{id}/federatedIdentityCredentials"));
        assert_eq!(
            per_parent("entra.application_owner", id),
            owners.len(),
            "{id}"
        );
        assert_eq!(
            per_parent("entra.federated_identity_credential", id),
            fics.len(),
            "{id}"
        );
        longest = [longest[0].max(owners.len()), longest[1].max(fics.len())];
    }
    let mut longest_assignments = 0;
    for sp in fake.items("servicePrincipals") {
        let id = sp["id"].as_str().unwrap();
        let assigned = fake.items(&format!("servicePrincipals/{id}/appRoleAssignedTo"));
        assert_eq!(
            per_parent("entra.app_role_assignment", id),
            assigned.len(),
            "{id}"
        );
        longest_assignments = longest_assignments.max(assigned.len());
    }
    // The tenant does exercise the fallback.
    assert!(
        longest[0] > EXPAND_LIMIT && longest[1] > EXPAND_LIMIT,
        "{longest:?}"
    );
    assert!(longest_assignments > EXPAND_LIMIT, "{longest_assignments}");
    for kind in kinds {
        assert_eq!(snap.kinds[kind].outcome, KindOutcome::Complete, "{kind}");
    }
}

#[tokio::test]
async fn delta_cursors_survive_the_process_in_a_state_file() {
    use butterfly_core::store::{FsStore, StoreExt};
    let fake = FakeEntra::start(spec(150), EntraOptions::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("entra-delta.json");
    let with_state = || {
        EntraProvider::new(EntraConfig {
            delta_state_file: Some(state.clone()),
            ..config(
                &fake,
                EntraAuth::ClientSecret {
                    secret: SecretString::from(fake.client_secret().to_string()),
                },
            )
        })
        .unwrap()
    };
    let store = FsStore::open(dir.path().join("store")).unwrap();
    let (first, _) = backup::run_and_save(&with_state(), &store, &BackupOptions::default())
        .await
        .unwrap();
    assert!(state.exists(), "the cursors were saved");
    let users = fake.items("users");
    fake.with_tenant(|t| {
        t.update(
            "users",
            users[0]["id"].as_str().unwrap(),
            &json!({"displayName": "Changed"}),
        );
    });
    // A new process: a new provider, the previous snapshot read back from the store.
    let loaded = store.load(&first.meta.id).await.unwrap();
    let next = with_state();
    let incremental = backup::run(&next, &BackupOptions::default().previous(Arc::new(loaded)))
        .await
        .unwrap();
    let full_provider = secret(&fake);
    let full = backup::run(&full_provider, &BackupOptions::default())
        .await
        .unwrap();
    assert_eq!(hash(&incremental), hash(&full));
    // Plain GETs are deterministic (batched requests depend on how kinds meet in the gather
    // window): the incremental backup read users and groups through their delta cursors.
    assert!(
        gets(&next) < gets(&full_provider),
        "{} >= {}",
        gets(&next),
        gets(&full_provider)
    );
}

fn gets(p: &EntraProvider) -> u64 {
    p.http_stats().requests.get("graph").copied().unwrap_or(0)
}

fn total(p: &EntraProvider) -> u64 {
    p.http_stats().requests.values().sum()
}

fn hash(s: &butterfly_core::Snapshot) -> String {
    s.encode().unwrap().manifest.content_sha256
}

#[tokio::test]
async fn behaviour_suite() {
    behaviour::run_all(&TableHarness::<FakeEntra> {
        table: butterfly_entra::kinds::TABLE,
        users: 250,
        withheld_kind: "entra.conditional_access_policy",
        provider: |fake| Box::new(certificate(fake)),
    })
    .await;
}

#[tokio::test]
async fn a_collection_the_tenant_does_not_have_is_unsupported() {
    // Named locations answer 404 (however they are asked for: alone or inside a $batch), as
    // Graph does for a feature the tenant does not have.
    let rules = || {
        [
            "/identity/conditionalAccess/namedLocations",
            "/v1.0/identity/conditionalAccess/namedLocations",
        ]
        .into_iter()
        .map(|p| FaultRule::get(p, Fault::Status(404), 1, 100))
        .collect::<Vec<_>>()
    };
    let fake = FakeEntra::start(
        spec(20),
        EntraOptions {
            faults: rules(),
            batch_faults: rules(),
            ..EntraOptions::default()
        },
    )
    .await
    .unwrap();
    let snap = backup::run(
        &secret(&fake),
        &BackupOptions::default().kinds(["entra.named_location", "entra.group"]),
    )
    .await
    .unwrap();
    assert!(
        matches!(
            &snap.kinds["entra.named_location"].outcome,
            KindOutcome::Unsupported { reason } if reason.contains("404")
        ),
        "{:?}",
        snap.kinds["entra.named_location"].outcome
    );
    assert_eq!(snap.kinds["entra.group"].outcome, KindOutcome::Complete);
    assert_eq!(snap.status(), butterfly_core::SnapshotStatus::Success);
}
