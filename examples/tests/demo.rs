//! The README's first command: the demo runs end to end for every provider of the CLI's
//! registry (each paired with its fake tenant by name), its dry runs write nothing, and every
//! provider's tenant comes back to the first backup (apart from the differences its fake
//! documents).

use std::process::Command;

#[test]
fn the_demo_recovers_every_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_demo"))
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        stdout.lines().rev().take(30).collect::<Vec<_>>().join("\n")
    );
    let scenarios = stdout.matches("back up, lose, restore ═══").count();
    assert_eq!(
        scenarios,
        examples::registry::names().len(),
        "a scenario for every provider"
    );
    // Read-only providers (1Password Connect) stop after the diff that finds their incident.
    let read_only = stdout.matches("restore: not available for").count();
    assert_eq!(
        stdout.matches("The diff found everything the ").count(),
        read_only,
        "every read-only provider's incident is found by diff"
    );
    assert_eq!(
        stdout.matches("writes sent by the dry run: 0").count() + read_only,
        scenarios,
        "every dry run writes nothing"
    );
    assert_eq!(
        stdout.matches("matches the first backup").count() + read_only,
        scenarios,
        "every tenant is restored"
    );
    // Okta Workflows sums its plan up in folders, tables and connectors, and ends with the
    // post-restore checklist.
    assert!(
        stdout.contains("Workflows restore: folders 1,")
            && stdout.contains("Post-restore checklist:"),
        "the Workflows incident is planned with its counts and checklist"
    );
    // The snapshots landed in the embedded default store of the working directory.
    let snapshots = std::fs::read_dir(dir.path().join("butterfly-data"))
        .unwrap()
        .count();
    assert!(snapshots > 0);
}
