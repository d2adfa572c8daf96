//! The real API descriptions and recordings the fakes and fidelity tests are built from:
//! `shared/fixtures` beside the repository (`../shared/fixtures` from its root), or the
//! directory `BUTTERFLY_FIXTURES` names.
//!
//! A missing fixture fails the test with a message naming the path it looked for and how to
//! provide it, never with a bare `No such file or directory`.
//!
//! ```
//! let spec = butterfly_testkit::fixtures::path("okta/spec/management-oneOfInheritance.yaml");
//! assert!(spec.ends_with("okta/spec/management-oneOfInheritance.yaml"));
//! ```

use std::path::{Path, PathBuf};

/// The fixtures root: `BUTTERFLY_FIXTURES`, or `shared/fixtures` beside the repository.
pub fn root() -> PathBuf {
    match std::env::var_os("BUTTERFLY_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
    }
}

/// The path of a fixture (`"okta/cassettes/okta-sdk-python"`), without checking it exists.
pub fn path(rel: &str) -> PathBuf {
    root().join(rel)
}

/// The message for a fixture that cannot be read.
fn missing(path: &Path, err: &std::io::Error) -> String {
    format!(
        "fixture {} cannot be read ({err}): the tests read the real API descriptions in \
         ../shared/fixtures beside the repository (or the directory BUTTERFLY_FIXTURES names)",
        path.display()
    )
}

/// A fixture directory that exists; a missing one fails the test naming the path.
pub fn dir(rel: &str) -> PathBuf {
    let path = path(rel);
    if let Err(e) = std::fs::read_dir(&path) {
        panic!("{}", missing(&path, &e));
    }
    path
}

/// The text of a fixture; a missing one fails the test naming the path.
pub fn read_to_string(rel: &str) -> String {
    let path = path(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}", missing(&path, &e)))
}

/// Every file below a fixture directory, sorted; a missing directory fails the test naming
/// the path.
pub fn files_under(rel: &str) -> Vec<PathBuf> {
    let top = path(rel);
    let mut out = Vec::new();
    let mut stack = vec![top];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}", missing(&dir, &e)));
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_missing_fixture_names_its_path() {
        let err = std::panic::catch_unwind(|| super::read_to_string("no/such/fixture.json"))
            .expect_err("a missing fixture fails");
        let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            message.contains("no/such/fixture.json") && message.contains("BUTTERFLY_FIXTURES"),
            "{message}"
        );
    }
}
