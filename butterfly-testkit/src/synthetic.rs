//! Synthetic snapshots for store, diff and benchmark tests: realistic user- and policy-like
//! resources, generated deterministically from a seed.

use butterfly_core::ResourceKind;
use butterfly_core::kind::{ArrayKey, Category, KindRef, KindSpec, ReferenceField};
use butterfly_core::snapshot::{KindOutcome, Snapshot, SnapshotId, SnapshotMeta};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

/// A user-like kind.
pub const USER: KindSpec = KindSpec {
    natural_key: &["/profile/login"],
    volatile_fields: &["/lastLogin", "/_links"],
    ..KindSpec::new("synthetic.user", "Users", Category::Directory)
};
/// A group-like kind.
pub const GROUP: KindSpec = KindSpec {
    natural_key: &["/profile/name"],
    ..KindSpec::new("synthetic.group", "Groups", Category::Directory)
};
/// A policy-like kind with key-matched rules and references to groups.
pub const POLICY: KindSpec = KindSpec {
    natural_key: &["/name"],
    depends_on: &["synthetic.group"],
    reference_fields: &[ReferenceField {
        pointer: "/rules/*/groups/*",
        kind: "synthetic.group",
    }],
    array_keys: &[ArrayKey {
        pointer: "/rules",
        key: "id",
    }],
    ..KindSpec::new("synthetic.policy", "Policies", Category::Policy)
};
/// The synthetic kinds.
pub static KINDS: &[KindRef] = &[&USER, &GROUP, &POLICY];

/// A snapshot of `n` resources: about 96% users, 3% groups, 1% policies.
pub fn snapshot(n: usize, seed: u64) -> Snapshot {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let at = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default();
    let mut s = Snapshot::new(SnapshotMeta {
        id: SnapshotId::generate("synthetic", at),
        provider: "synthetic".into(),
        tenant: format!("tenant-{seed}"),
        started_at: at,
        finished_at: at,
    });
    let groups = (n * 3 / 100).max(1);
    let policies = (n / 100).max(1);
    let users = n.saturating_sub(groups + policies);
    let depts = [
        "Engineering",
        "Sales",
        "Finance",
        "Support",
        "Legal",
        "Marketing",
    ];
    let user_list = (0..users)
        .map(|i| {
            let id = format!("00u{i:017}");
            let body = json!({
                "id": id,
                "status": if rng.random_range(0..50) == 0 { "SUSPENDED" } else { "ACTIVE" },
                "created": "2024-01-01T00:00:00.000Z",
                "lastLogin": format!("2026-11-{:02}T08:00:00.000Z", rng.random_range(1..28)),
                "profile": {
                    "login": format!("user{i}@example.com"),
                    "email": format!("user{i}@example.com"),
                    "firstName": format!("First{i}"),
                    "lastName": format!("Last{}", rng.random_range(0..100_000)),
                    "department": depts[rng.random_range(0..depts.len())],
                    "title": "Engineer",
                    "mobilePhone": null,
                    "employeeNumber": format!("{}", 100_000 + i),
                },
                "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
                "_links": {"self": {"href": format!("https://example.okta.com/api/v1/users/{id}")}}
            });
            USER.resource(id, None, body)
        })
        .collect();
    let group_list = (0..groups)
        .map(|i| {
            let id = format!("00g{i:017}");
            GROUP.resource(id.clone(), None, json!({"id": id, "type": "OKTA_GROUP", "profile": {"name": format!("group-{i}"), "description": "synthetic"}}))
        })
        .collect();
    let policy_list = (0..policies)
        .map(|i| {
            let id = format!("00p{i:017}");
            let rules: Vec<Value> = (0..3)
                .map(|r| json!({"id": format!("0pr{i}-{r}"), "name": format!("rule {r}"), "priority": r,
                    "groups": [format!("00g{:017}", rng.random_range(0..groups))], "requireMfa": r != 2}))
                .collect();
            POLICY.resource(id.clone(), None, json!({"id": id, "name": format!("policy-{i}"), "status": "ACTIVE", "rules": rules}))
        })
        .collect();
    s.insert_kind(USER.id(), KindOutcome::Complete, user_list);
    s.insert_kind(GROUP.id(), KindOutcome::Complete, group_list);
    s.insert_kind(POLICY.id(), KindOutcome::Complete, policy_list);
    s
}

/// A copy of `snapshot` with about `percent`% of its users changed (a profile field), as a new
/// snapshot id.
pub fn mutate(snapshot: &Snapshot, percent: f64, seed: u64) -> Snapshot {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = snapshot.clone();
    out.meta.id = SnapshotId::generate(
        "synthetic",
        out.meta.started_at + chrono::TimeDelta::seconds(1),
    );
    if let Some(users) = out.kinds.get_mut(USER.id()) {
        for r in users.resources.iter_mut() {
            if rng.random::<f64>() * 100.0 < percent {
                std::sync::Arc::make_mut(&mut r.body)["profile"]["title"] =
                    json!(format!("Title {}", rng.random_range(0..1000)));
                r.refresh(&USER);
            }
        }
    }
    out
}
