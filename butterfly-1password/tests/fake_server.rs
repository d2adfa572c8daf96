//! End to end against the fake 1Password Connect server: the parts of the shared behaviour
//! suite a read-only provider has, every kind read completely, diffs of a moved item, an added
//! field and a removed vault, the `keep_values` opt-in, a rejected token, bad items, and the
//! table and settings checks.

use butterfly_1password::{OnePasswordConfig, OnePasswordProvider};
use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::diff::{self, ChangeType, Severity};
use butterfly_core::redact::is_placeholder;
use butterfly_core::snapshot::KindOutcome;
use butterfly_core::{ErrorKind, Provider, RestoreSupport};
use butterfly_testkit::behaviour::{self, Harness, TableHarness};
use butterfly_testkit::onepassword::{FakeOnePassword, OnePasswordOptions, OnePasswordOrgSpec};
use secrecy::SecretString;
use serde_json::{Value, json};

fn config(fake: &FakeOnePassword) -> OnePasswordConfig {
    OnePasswordConfig {
        max_share: Some(1.0),
        // The fake is not rate-limited: pace as for a clock running 100 times faster.
        rate_scale: Some(100.0),
        ..OnePasswordConfig::new(fake.host(), SecretString::from(fake.token().to_string()))
    }
}

fn provider(fake: &FakeOnePassword) -> OnePasswordProvider {
    OnePasswordProvider::new(config(fake)).unwrap()
}

async fn start(items: usize, seed: u64) -> FakeOnePassword {
    FakeOnePassword::start(
        OnePasswordOrgSpec { items, seed },
        OnePasswordOptions::default(),
    )
    .await
    .unwrap()
}

/// The suite's checks that apply to a provider without restore: backup and re-backup
/// determinism, a backup under a fault storm equal to the clean one, no sentinel in an on-disk
/// store, the dry run and restore round trip (which stand down without a restorer), and the
/// incident (an item deleted with its file) found exactly by diff. The withheld-scope check
/// does not apply: a Connect token's access is per vault, and a vault it was not granted is
/// simply not listed (see `a_vault_out_of_scope_is_not_listed`).
#[tokio::test]
async fn behaviour_suite_without_the_restore_checks() {
    let harness = TableHarness::<FakeOnePassword> {
        table: butterfly_1password::kinds::TABLE,
        users: 70,
        withheld_kind: "onepassword.vault",
        provider: |fake| Box::new(provider(fake)),
    };
    let run = harness.start(Default::default()).await;
    assert!(
        !run.provider.capabilities().restore && run.provider.restorer().is_none(),
        "these checks are chosen for a read-only provider"
    );
    let clean = behaviour::backup_succeeds_and_is_deterministic(&harness).await;
    behaviour::backup_under_faults_equals_clean(&harness, &clean).await;
    behaviour::no_sentinel_reaches_the_store(&harness).await;
    behaviour::dry_run_writes_nothing(&harness, &clean).await;
    let incident = behaviour::incident_is_diffed_exactly(&harness).await;
    assert!(
        incident
            .diff
            .changes
            .iter()
            .any(|c| c.kind == "onepassword.item_file" && c.change == ChangeType::Removed),
        "the deleted item's file is gone too"
    );
    behaviour::restore_round_trip(incident).await;
}

#[tokio::test]
async fn backup_reads_every_kind_completely_and_stores_structure_only() {
    let fake = start(90, 3).await;
    let op = provider(&fake);
    let snap = backup::run(&op, &BackupOptions::default()).await.unwrap();
    for (kind, data) in &snap.kinds {
        assert_eq!(data.outcome, KindOutcome::Complete, "{kind}");
        assert!(data.warnings.is_empty(), "{kind}: {:?}", data.warnings);
    }
    let vaults = fake.vaults();
    assert_eq!(snap.resources("onepassword.vault").len(), vaults.len());
    let items: Vec<Value> = vaults
        .iter()
        .flat_map(|v| fake.items(v["id"].as_str().unwrap()))
        .collect();
    assert_eq!(snap.resources("onepassword.item").len(), items.len());
    let files: usize = items
        .iter()
        .map(|i| i["files"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(files > 0);
    assert_eq!(snap.resources("onepassword.item_file").len(), files);
    // Vaults keep their metadata.
    let vault = &snap.resources("onepassword.vault")[0];
    for member in [
        "name",
        "description",
        "type",
        "attributeVersion",
        "contentVersion",
        "items",
    ] {
        assert!(vault.body.get(member).is_some(), "vault {member}");
    }
    // Items keep their structure, each field's id, label, type and purpose; secret values
    // are placeholders, plain values are not kept by default.
    let mut secret_fields = 0;
    for item in snap.resources("onepassword.item") {
        let parent = item.parent_id.as_deref().unwrap();
        assert_eq!(
            item.id,
            format!("{parent}/{}", item.body["id"].as_str().unwrap())
        );
        assert_eq!(item.body["vault"]["id"], parent);
        for field in item.body["fields"].as_array().unwrap() {
            assert!(field.get("id").is_some() && field.get("type").is_some());
            let kind = field["type"].as_str().unwrap();
            let secret =
                ["CONCEALED", "OTP", "SSHKEY"].contains(&kind) || field["purpose"] == "PASSWORD";
            match field.get("value") {
                Some(v) => {
                    assert!(secret && is_placeholder(v), "{field}");
                    secret_fields += 1;
                }
                None => assert!(!secret, "{field}"),
            }
            for dropped in ["totp", "entropy", "passwordDetails", "recipe", "generate"] {
                assert!(field.get(dropped).is_none(), "{dropped} in {field}");
            }
        }
    }
    assert!(secret_fields > 0);
    let categories: std::collections::BTreeSet<&str> = snap
        .resources("onepassword.item")
        .iter()
        .filter_map(|i| i.body["category"].as_str())
        .collect();
    assert!(categories.len() >= 10, "{categories:?}");
    // Files: metadata, never the content.
    for file in snap.resources("onepassword.item_file") {
        assert!(file.body.get("content").is_none());
        assert!(file.body["size"].as_u64().unwrap() > 0);
        assert!(file.body["name"].is_string());
    }
    let text = serde_json::to_string(&snap.kinds).unwrap();
    for sentinel in fake.sentinels() {
        assert!(!text.contains(&sentinel), "a secret reached the snapshot");
    }
    assert_eq!(fake.write_count(), 0);
    assert!(fake.server().unknown_requests().is_empty());
}

#[tokio::test]
async fn kept_values_are_the_plain_ones_only() {
    let fake = start(30, 4).await;
    let op = OnePasswordProvider::new(OnePasswordConfig {
        keep_values: true,
        ..config(&fake)
    })
    .unwrap();
    let snap = backup::run(&op, &BackupOptions::default()).await.unwrap();
    let items = snap.resources("onepassword.item");
    let value_of = |id: &str| {
        items
            .iter()
            .flat_map(|i| i.body["fields"].as_array().unwrap().clone())
            .find(|f| f["id"] == id && f.get("value").is_some())
            .map(|f| f["value"].clone())
    };
    let note = value_of("notesPlain").expect("a note is kept");
    assert!(note.as_str().unwrap().starts_with("SENTINEL-note"));
    assert!(value_of("hostname").unwrap().is_string());
    assert!(is_placeholder(&value_of("password").unwrap()));
    let text = serde_json::to_string(&snap.kinds).unwrap();
    for sentinel in fake
        .sentinels()
        .iter()
        .filter(|s| !s.starts_with("SENTINEL-note"))
    {
        assert!(
            !text.contains(sentinel.as_str()),
            "{sentinel} reached the snapshot"
        );
    }
}

#[tokio::test]
async fn diff_finds_a_moved_item_an_added_field_and_a_removed_vault() {
    let fake = start(60, 5).await;
    let op = provider(&fake);
    let before = backup::run(&op, &BackupOptions::default()).await.unwrap();
    let vaults: Vec<String> = fake
        .vaults()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    let (a, b, c) = (&vaults[0], &vaults[1], &vaults[2]);
    let moved = fake.items(a)[1].clone();
    let moved_id = moved["id"].as_str().unwrap();
    let new_id = fake.move_item(moved_id, b).unwrap();
    let changed = fake.items(b)[0]["id"].as_str().unwrap().to_string();
    fake.add_field(
        &changed,
        json!({"id": "recovery", "type": "CONCEALED", "label": "recovery code", "value": "SENTINEL-added-1"}),
    )
    .unwrap();
    let removed_items = fake.items(c).len();
    fake.remove_vault(c).unwrap();
    let after = backup::run(&op, &BackupOptions::default()).await.unwrap();
    let d = diff::diff(&before, &after, op.kinds(), &op.severity_rules());
    let find = |kind: &str, id: &str| {
        d.changes
            .iter()
            .find(|ch| ch.kind == kind && ch.id == id)
            .unwrap_or_else(|| panic!("{kind} {id} not in {}", d.render_text(Severity::Info)))
    };
    // The move: 1Password re-creates the item under a new id in the other vault.
    let gone = find("onepassword.item", &format!("{a}/{moved_id}"));
    assert_eq!(gone.change, ChangeType::Removed);
    let landed = find("onepassword.item", &format!("{b}/{new_id}"));
    assert_eq!(landed.change, ChangeType::Added);
    assert_eq!(gone.label, landed.label, "the same title on both sides");
    // The added field, with its value a placeholder.
    let modified = find("onepassword.item", &format!("{b}/{changed}"));
    assert_eq!(modified.change, ChangeType::Modified);
    let field = modified
        .fields
        .iter()
        .find(|f| f.pointer.contains("recovery"))
        .unwrap_or_else(|| panic!("{:?}", modified.fields));
    assert_eq!(field.old, None);
    let new = field.new.as_ref().unwrap();
    assert_eq!(new["type"], "CONCEALED");
    assert!(is_placeholder(&new["value"]));
    // The removed vault, with every item in it.
    let vault = find("onepassword.vault", c);
    assert_eq!(vault.change, ChangeType::Removed);
    assert_eq!(vault.severity, Severity::Critical);
    let removed_with_vault = d
        .changes
        .iter()
        .filter(|ch| ch.kind == "onepassword.item" && ch.id.starts_with(&format!("{c}/")))
        .count();
    assert_eq!(removed_with_vault, removed_items);
    // Versions and counts moved too, but diff ignores them: vault a and b are not modified.
    assert!(
        d.changes
            .iter()
            .all(|ch| ch.kind != "onepassword.vault" || ch.id == *c)
    );
    assert!(
        !serde_json::to_string(&after.kinds)
            .unwrap()
            .contains("SENTINEL-added-1")
    );
}

#[tokio::test]
async fn a_rejected_token_is_one_clear_auth_error_naming_op_connect_token() {
    let fake = start(5, 6).await;
    let op = OnePasswordProvider::new(OnePasswordConfig {
        token: SecretString::from("WRONG-TOKEN-VALUE".to_string()),
        ..config(&fake)
    })
    .unwrap();
    let snap = backup::run(&op, &BackupOptions::default()).await.unwrap();
    let err = backup::rejected_credentials(&snap).expect("the token is rejected");
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert!(err.to_string().contains("OP_CONNECT_TOKEN"), "{err}");
    assert!(!err.to_string().contains("WRONG-TOKEN-VALUE"));
    let probe = op.probe(op.kinds()).await.unwrap_err();
    assert_eq!(probe.kind(), ErrorKind::Auth, "{probe}");
    assert_eq!(fake.write_count(), 0);
}

#[tokio::test]
async fn a_vault_out_of_scope_is_not_listed() {
    let all = start(40, 8).await;
    let hidden = all.vaults()[1]["name"].as_str().unwrap().to_string();
    let fake = FakeOnePassword::start(
        OnePasswordOrgSpec { items: 40, seed: 8 },
        OnePasswordOptions {
            out_of_scope: vec![hidden.clone()],
            ..OnePasswordOptions::default()
        },
    )
    .await
    .unwrap();
    let op = provider(&fake);
    let report = op.probe(op.kinds()).await.unwrap();
    assert_eq!(report.readable().count(), 3);
    let snap = backup::run(&op, &BackupOptions::default()).await.unwrap();
    assert_eq!(
        snap.resources("onepassword.vault").len(),
        all.vaults().len() - 1
    );
    assert!(
        snap.resources("onepassword.vault")
            .iter()
            .all(|v| v.body["name"] != hidden.as_str())
    );
}

#[tokio::test]
async fn a_field_of_an_unknown_type_is_a_warning_naming_the_item_and_its_value_is_not_stored() {
    let fake = start(20, 9).await;
    let vault = fake.vaults()[0]["id"].as_str().unwrap().to_string();
    let item = fake.items(&vault)[0]["id"].as_str().unwrap().to_string();
    fake.add_field(
        &item,
        json!({"id": "future", "type": "PASSKEY", "label": "passkey", "value": "SENTINEL-future-1"}),
    )
    .unwrap();
    let op = provider(&fake);
    let snap = backup::run(&op, &BackupOptions::default()).await.unwrap();
    let data = &snap.kinds["onepassword.item"];
    assert_eq!(data.outcome, KindOutcome::Complete);
    assert!(
        data.warnings
            .iter()
            .any(|w| w.contains(&format!("{vault}/{item}")) && w.contains("PASSKEY")),
        "{:?}",
        data.warnings
    );
    assert_eq!(
        snap.resources("onepassword.item").len(),
        fake.vaults()
            .iter()
            .map(|v| fake.items(v["id"].as_str().unwrap()).len())
            .sum::<usize>()
    );
    assert!(
        !serde_json::to_string(&snap.kinds)
            .unwrap()
            .contains("SENTINEL-future-1")
    );
}

#[test]
fn every_kind_is_read_only_with_the_reason_and_the_table_is_consistent() {
    let kinds = butterfly_1password::kinds::all();
    butterfly_testkit::assert_kind_table_consistent("onepassword", kinds, |_| false);
    butterfly_testkit::assert_list_specs_consistent(
        "onepassword",
        butterfly_1password::kinds::TABLE,
    );
    for kind in kinds {
        match kind.restore_support() {
            RestoreSupport::None { reason } => assert!(reason.contains("read-only"), "{reason}"),
            other => panic!("{} is restorable: {other:?}", kind.id()),
        }
    }
    butterfly_testkit::assert_settings_declared(
        &butterfly_1password::DESCRIPTOR,
        include_str!("../src/config.rs"),
    );
}
