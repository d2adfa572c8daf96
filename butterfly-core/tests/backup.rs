//! Backup orchestrator tests against an in-memory provider (no HTTP).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use butterfly_core::backup::{self, BackupEvent, BackupOptions};
use butterfly_core::kind::{KindRef, SecretField};
use butterfly_core::snapshot::KindOutcome;
use butterfly_core::store::{MemoryStore, StoreExt};
use butterfly_core::{
    AccessReport, Capabilities, Category, Error, ErrorKind, FetchContext, KindSpec, Provider,
    Resource, ResourceKind, SnapshotStatus,
};
use proptest::prelude::*;
use serde_json::{Value, json};

const GROUP: KindSpec = KindSpec {
    natural_key: &["/name"],
    ..KindSpec::new("t.group", "Groups", Category::Directory)
};
const MEMBER: KindSpec = KindSpec {
    parent: Some("t.group"),
    ..KindSpec::new("t.member", "Members", Category::Directory)
};
const APP: KindSpec = KindSpec {
    secret_fields: &[SecretField {
        pointer: "/oauth/secret",
        secret: "client secret",
    }],
    ..KindSpec::new("t.app", "Apps", Category::Application)
};
const DENIED: KindSpec = KindSpec::new("t.denied", "Denied", Category::Settings);
const BROKEN: KindSpec = KindSpec::new("t.broken", "Broken", Category::Settings);
const DENIED_CHILD_PARENT: KindSpec = KindSpec::new("t.locked", "Locked", Category::Settings);
const DENIED_CHILD: KindSpec = KindSpec {
    parent: Some("t.locked"),
    ..KindSpec::new("t.locked_item", "Locked items", Category::Settings)
};

static KINDS: &[KindRef] = &[
    &GROUP,
    &MEMBER,
    &APP,
    &DENIED,
    &BROKEN,
    &DENIED_CHILD_PARENT,
    &DENIED_CHILD,
];

/// A provider whose data is a map kind -> pages of bodies; pages can be served in any order.
struct TestProvider {
    pages: BTreeMap<&'static str, Vec<Vec<Value>>>,
    order: Vec<usize>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl TestProvider {
    fn new(groups: usize) -> Self {
        let group_bodies: Vec<Value> = (0..groups)
            .map(|i| json!({"id": format!("g{i:04}"), "name": format!("group {i}")}))
            .collect();
        let apps: Vec<Value> = (0..5).map(|i| json!({"id": format!("a{i}"), "oauth": {"id": "x", "secret": format!("SENTINEL-{i}")}})).collect();
        let mut pages = BTreeMap::new();
        pages.insert(
            "t.group",
            group_bodies.chunks(7).map(|c| c.to_vec()).collect(),
        );
        pages.insert("t.app", vec![apps]);
        TestProvider {
            pages,
            order: Vec::new(),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        }
    }
}

#[async_trait]
impl Provider for TestProvider {
    fn name(&self) -> &str {
        "t"
    }
    fn tenant(&self) -> &str {
        "test-tenant"
    }
    fn kinds(&self) -> &[KindRef] {
        KINDS
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    async fn probe(&self, _kinds: &[KindRef]) -> butterfly_core::Result<AccessReport> {
        Ok(AccessReport::default())
    }
    async fn fetch(
        &self,
        kind: KindRef,
        ctx: FetchContext,
    ) -> butterfly_core::Result<Vec<Resource>> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let items: Vec<butterfly_core::Result<Resource>> = match kind.id() {
            "t.denied" | "t.locked" => vec![Err(Error::new(ErrorKind::Denied, "okta.test.read"))],
            "t.broken" => vec![
                Ok(Resource::new(kind, "b1", None, json!({}))),
                Err(Error::new(ErrorKind::Transient, "server error").with_status(503)),
            ],
            "t.member" => ctx
                .parents
                .iter()
                .take(3)
                .map(|g| {
                    Ok(Resource::new(
                        kind,
                        format!("{}:u1", g.id),
                        Some(g.id.clone()),
                        json!({"user": "u1"}),
                    ))
                })
                .collect(),
            id => {
                let pages = &self.pages[id];
                let order: Vec<usize> = if self.order.len() == pages.len() {
                    self.order.clone()
                } else {
                    (0..pages.len()).collect()
                };
                order
                    .into_iter()
                    .flat_map(|p| pages[p].iter())
                    .map(|b| {
                        Ok(Resource::new(
                            kind,
                            b["id"].as_str().unwrap_or_default(),
                            None,
                            b.clone(),
                        ))
                    })
                    .collect()
            }
        };
        // The guard lives until the fetch returns, so in_flight counts kinds being fetched.
        let _guard = InFlight(&self.in_flight);
        let mut out = Vec::new();
        for item in items {
            tokio::task::yield_now().await;
            out.push(item?);
        }
        Ok(out)
    }
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn outcomes_children_redaction_and_events() {
    let provider = TestProvider::new(30);
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let options =
        BackupOptions::default()
            .concurrency(2)
            .observer(Arc::new(move |e: &BackupEvent| {
                sink.lock().unwrap().push(e.clone())
            }));
    let snapshot = backup::run(&provider, &options).await.unwrap();

    assert_eq!(snapshot.resources("t.group").len(), 30);
    assert_eq!(
        snapshot.resources("t.member").len(),
        3,
        "children fetched with their parents"
    );
    assert_eq!(snapshot.kinds["t.member"].outcome, KindOutcome::Complete);
    assert_eq!(
        snapshot.kinds["t.denied"].outcome,
        KindOutcome::Denied {
            missing: "okta.test.read".into()
        }
    );
    assert_eq!(
        snapshot.kinds["t.locked_item"].outcome,
        KindOutcome::Denied {
            missing: "okta.test.read".into()
        },
        "child of a denied kind is denied"
    );
    assert!(matches!(
        snapshot.kinds["t.broken"].outcome,
        KindOutcome::Failed {
            kind: ErrorKind::Transient,
            ..
        }
    ));
    assert!(
        snapshot.resources("t.broken").is_empty(),
        "a failed kind keeps no partial data"
    );
    assert_eq!(snapshot.status(), SnapshotStatus::CompletedWithWarnings);

    let text = serde_json::to_string(&snapshot).unwrap();
    assert!(
        !text.contains("SENTINEL"),
        "secrets are redacted before the snapshot"
    );
    assert_eq!(
        butterfly_core::redact::placeholders(snapshot.get("t.app", "a0").unwrap()).len(),
        1
    );

    assert_eq!(
        provider.max_in_flight.load(Ordering::SeqCst),
        2,
        "kinds overlap, up to the bound"
    );
    let events = events.lock().unwrap();
    assert!(matches!(
        events.first(),
        Some(BackupEvent::Started { kinds: 7, .. })
    ));
    assert!(matches!(
        events.last(),
        Some(BackupEvent::Finished {
            status: SnapshotStatus::CompletedWithWarnings,
            ..
        })
    ));
    let finished = events
        .iter()
        .filter(|e| matches!(e, BackupEvent::KindFinished { .. }))
        .count();
    assert_eq!(finished, 7, "every kind reports once");
}

#[tokio::test]
async fn selecting_a_child_kind_brings_its_parent_and_unknown_kinds_are_config_errors() {
    let provider = TestProvider::new(10);
    let snapshot = backup::run(&provider, &BackupOptions::default().kinds(["t.member"]))
        .await
        .unwrap();
    assert_eq!(
        snapshot.kinds.keys().collect::<Vec<_>>(),
        vec!["t.group", "t.member"]
    );
    let err = backup::run(&provider, &BackupOptions::default().kinds(["t.nope"]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.to_string().contains("t.group"),
        "lists the known kinds: {err}"
    );
}

#[tokio::test]
async fn saved_backup_round_trips_through_a_store() {
    let provider = TestProvider::new(50);
    let store = MemoryStore::new();
    let (snapshot, report) = backup::run_and_save(&provider, &store, &BackupOptions::default())
        .await
        .unwrap();
    assert!(report.new_blobs > 0);
    let loaded = store.load(&snapshot.meta.id).await.unwrap();
    assert_eq!(loaded, snapshot);
}

fn content_of(
    order: Vec<usize>,
    groups: usize,
) -> (String, Vec<(butterfly_core::snapshot::BlobId, Vec<u8>)>) {
    let mut provider = TestProvider::new(groups);
    provider.order = order;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let snapshot = rt
        .block_on(backup::run(&provider, &BackupOptions::default()))
        .unwrap();
    let encoded = snapshot.encode().unwrap();
    (encoded.manifest.content_sha256, encoded.blobs)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// The same tenant state gives byte-identical content and hashes whatever page order.
    #[test]
    fn shuffled_pages_give_identical_bytes_and_hashes(seed in any::<u64>()) {
        let groups: usize = 200;
        let pages = groups.div_ceil(7);
        let mut order: Vec<usize> = (0..pages).collect();
        // Fisher-Yates driven by the seed.
        let mut s = seed | 1;
        for i in (1..order.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            order.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let (hash_a, blobs_a) = content_of((0..pages).collect(), groups);
        let (hash_b, blobs_b) = content_of(order, groups);
        prop_assert_eq!(hash_a, hash_b);
        prop_assert_eq!(blobs_a, blobs_b);
    }
}

#[test]
fn kind_trait_objects_are_usable() {
    let k: &dyn ResourceKind = &GROUP;
    assert_eq!(
        k.natural_key_of(&json!({"name": "x"})).as_deref(),
        Some("x")
    );
}

/// A provider whose every kind either hangs (a server that accepts and never answers) or is
/// refused with a 401, counting the kinds it was asked for.
struct Unanswering {
    hang: bool,
    asked: AtomicUsize,
}

#[async_trait]
impl Provider for Unanswering {
    fn name(&self) -> &str {
        "t"
    }
    fn tenant(&self) -> &str {
        "test-tenant"
    }
    fn kinds(&self) -> &[KindRef] {
        KINDS
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    async fn probe(&self, _kinds: &[KindRef]) -> butterfly_core::Result<AccessReport> {
        Ok(AccessReport::default())
    }
    async fn fetch(
        &self,
        _kind: KindRef,
        _ctx: FetchContext,
    ) -> butterfly_core::Result<Vec<Resource>> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        if self.hang {
            futures::future::pending().await
        } else {
            Err(Error::new(ErrorKind::Auth, "invalid token (401 E0000011)"))
        }
    }
}

#[tokio::test]
async fn a_kind_that_never_answers_fails_at_its_deadline() {
    let provider = Unanswering {
        hang: true,
        asked: AtomicUsize::new(0),
    };
    let options = BackupOptions::default()
        .kinds(["t.group", "t.app"])
        .kind_timeout(Some(std::time::Duration::from_millis(200)));
    let started = std::time::Instant::now();
    let snap = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        backup::run(&provider, &options),
    )
    .await
    .expect("the backup ends by itself")
    .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    for kind in ["t.group", "t.app"] {
        match &snap.kinds[kind].outcome {
            KindOutcome::Failed { kind, error } => {
                assert_eq!(*kind, ErrorKind::Transient);
                assert!(error.contains("deadline"), "{error}");
            }
            other => panic!("{kind}: {other:?}"),
        }
    }
    assert_eq!(snap.status(), SnapshotStatus::Failed);
}

#[tokio::test]
async fn rejected_credentials_are_one_error_and_save_nothing() {
    let provider = Unanswering {
        hang: false,
        asked: AtomicUsize::new(0),
    };
    // One kind at a time: after the first 401 no other kind is requested.
    let options = BackupOptions::default().concurrency(1);
    let snap = backup::run(&provider, &options).await.unwrap();
    assert_eq!(provider.asked.load(Ordering::SeqCst), 1, "one kind asked");
    assert!(
        snap.kinds.len() == KINDS.len(),
        "every kind still has an outcome"
    );
    let err = backup::rejected_credentials(&snap).expect("recognised as rejected credentials");
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(err.to_string().contains("E0000011"), "{err}");

    let store = MemoryStore::new();
    let err = backup::run_and_save(&provider, &store, &options)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(
        store.list(None).await.unwrap().is_empty(),
        "nothing saved: a rejected backup must not become the latest snapshot"
    );

    // A snapshot with one kind read is not "rejected credentials".
    let good = backup::run(&TestProvider::new(3), &BackupOptions::default())
        .await
        .unwrap();
    assert!(backup::rejected_credentials(&good).is_none());
}
