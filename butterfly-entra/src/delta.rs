//! Delta cursors for incremental backups: the `@odata.deltaLink` of `users/delta` and
//! `groups/delta`, tied to the exact resources they continue from.
//!
//! A cursor is used only when the previous snapshot handed to the backup holds exactly the
//! resources the cursor was taken with (same fingerprint); otherwise the kind is read in
//! full. Cursors live in memory and, when a state file is configured, in that file (delta
//! links are opaque continuation tokens: they read nothing without a valid access token).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;

use butterfly_core::Resource;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a cursor of this version tracks; cursors saved by another version (an older state
/// file) are not used: the kind is read in full once and a new cursor taken. Version 2: the
/// groups cursor tracks owners too, fingerprints are XXH3.
pub(crate) const CURSOR_VERSION: u32 = 2;

/// Where an incremental read continues from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    /// The delta link (empty for kinds derived from another kind's delta).
    pub link: String,
    /// Fingerprint of the resources the cursor was taken with.
    pub fingerprint: String,
    /// [`CURSOR_VERSION`] when it was taken (absent in state files before version 2).
    #[serde(default)]
    pub version: u32,
}

impl Cursor {
    /// A cursor of the current version.
    pub fn new(link: String, fingerprint: String) -> Cursor {
        Cursor {
            link,
            fingerprint,
            version: CURSOR_VERSION,
        }
    }
}

/// Relationship changes seen in a `groups/delta` round (`members@delta`, `owners@delta`),
/// for the members and owners kinds of the same backup.
#[derive(Debug, Clone, Default)]
pub(crate) struct MemberDelta {
    /// The previous snapshot the round continued from.
    pub previous: String,
    /// Per relationship (`members`, `owners`), per group id, the entries in order. Each kind
    /// takes its own relationship out.
    pub changes: BTreeMap<String, BTreeMap<String, Vec<Value>>>,
}

/// The cursors of one provider instance.
#[derive(Debug, Default)]
pub(crate) struct CursorStore {
    cursors: Mutex<HashMap<String, Cursor>>,
    file: Option<PathBuf>,
    pub members: Mutex<Option<MemberDelta>>,
}

impl CursorStore {
    pub fn new(file: Option<PathBuf>) -> CursorStore {
        let cursors = file
            .as_ref()
            .and_then(|f| std::fs::read(f).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        CursorStore {
            cursors: Mutex::new(cursors),
            file,
            members: Mutex::new(None),
        }
    }

    pub fn get(&self, kind: &str) -> Option<Cursor> {
        self.cursors
            .lock()
            .ok()?
            .get(kind)
            .filter(|c| c.version == CURSOR_VERSION)
            .cloned()
    }

    pub fn set(&self, kind: &str, cursor: Option<Cursor>) {
        let Ok(mut map) = self.cursors.lock() else {
            return;
        };
        match cursor {
            Some(c) => map.insert(kind.to_string(), c),
            None => map.remove(kind),
        };
        if let Some(file) = &self.file {
            // Best effort: a lost state file only makes the next backup a full one.
            let tmp = file.with_extension("tmp");
            let saved = serde_json::to_vec_pretty(&*map)
                .map_err(std::io::Error::other)
                .and_then(|bytes| {
                    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir)?;
                    }
                    std::fs::write(&tmp, bytes)?;
                    std::fs::rename(&tmp, file)
                });
            if let Err(e) = saved {
                tracing::warn!(error = %e, file = %file.display(), "cannot save the Entra delta state file; the next backup reads everything");
            }
        }
    }
}

/// An order-independent fingerprint of resources (ids, parents and bodies): the count and
/// the wrapping sum of one 128-bit XXH3 per resource, so that a resource can be added or
/// taken out without hashing the others again.
///
/// It guards against continuing a delta cursor from the wrong snapshot (one edited, pruned or
/// from another backup), not against an attacker: whoever can rewrite the snapshot store can
/// rewrite the state file too. A fast non-cryptographic hash is enough for that, and 128 bits
/// make an accidental match out of reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Fingerprint {
    len: usize,
    sum: [u64; 2],
}

impl Fingerprint {
    /// The fingerprint of `resources`.
    pub fn of(resources: &[Resource]) -> Fingerprint {
        let mut fp = Fingerprint::default();
        fp.add_all(resources);
        fp
    }

    /// Counts every resource of `resources` in.
    pub fn add_all(&mut self, resources: &[Resource]) {
        let mut buf = Vec::with_capacity(1024);
        for r in resources {
            self.apply(&digest(r, &mut buf), u64::wrapping_add);
            self.len += 1;
        }
    }

    /// Counts in every resource another fingerprint counted.
    pub fn merge(&mut self, other: &Fingerprint) {
        self.apply(&other.sum, u64::wrapping_add);
        self.len += other.len;
    }

    /// Counts one more resource in.
    pub fn add(&mut self, r: &Resource) {
        self.apply(&digest(r, &mut Vec::new()), u64::wrapping_add);
        self.len += 1;
    }

    /// Takes one counted resource out.
    pub fn remove(&mut self, r: &Resource) {
        self.apply(&digest(r, &mut Vec::new()), u64::wrapping_sub);
        self.len = self.len.saturating_sub(1);
    }

    fn apply(&mut self, d: &[u64; 2], op: fn(u64, u64) -> u64) {
        for (s, d) in self.sum.iter_mut().zip(d) {
            *s = op(*s, *d);
        }
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b] = self.sum;
        write!(f, "{}:x3:{a:016x}{b:016x}", self.len)
    }
}

/// One resource's 128-bit XXH3 as two words; `buf` is scratch space.
///
/// What is hashed is a tagged, length-prefixed encoding of the id, the parent id and the body
/// (serde_json's maps are sorted, so equal bodies encode equally), written straight from the
/// value: no JSON text is built and nothing is escaped.
fn digest(r: &Resource, buf: &mut Vec<u8>) -> [u64; 2] {
    buf.clear();
    put_str(buf, &r.id);
    put_str(buf, r.parent_id.as_deref().unwrap_or(""));
    put_value(buf, &r.body);
    let h = xxhash_rust::xxh3::xxh3_128(&buf[..]);
    [h as u64, (h >> 64) as u64]
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
    buf.extend_from_slice(s.as_bytes());
}

fn put_value(buf: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => buf.push(0),
        Value::Bool(b) => buf.push(1 + u8::from(*b)),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                buf.push(3);
                buf.extend_from_slice(&u.to_le_bytes());
            } else if let Some(i) = n.as_i64() {
                buf.push(4);
                buf.extend_from_slice(&i.to_le_bytes());
            } else {
                buf.push(5);
                buf.extend_from_slice(&n.as_f64().unwrap_or(f64::NAN).to_bits().to_le_bytes());
            }
        }
        Value::String(s) => {
            buf.push(6);
            put_str(buf, s);
        }
        Value::Array(items) => {
            buf.push(7);
            buf.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for item in items {
                put_value(buf, item);
            }
        }
        Value::Object(map) => {
            buf.push(8);
            buf.extend_from_slice(&(map.len() as u64).to_le_bytes());
            for (k, item) in map {
                put_str(buf, k);
                put_value(buf, item);
            }
        }
    }
}

/// The fingerprint of resources, as stored in a cursor.
pub(crate) fn fingerprint(resources: &[Resource]) -> String {
    Fingerprint::of(resources).to_string()
}

/// The previous resources a cursor continues from, copied for the new snapshot.
#[derive(Debug)]
pub(crate) struct Copied {
    /// Copies of the kept resources, sorted by id, one per id (the last one of an id when
    /// the resources held it more than once).
    pub kept: Vec<Resource>,
    /// The fingerprint of all the resources (the one the cursor was taken with).
    pub all: Fingerprint,
    /// The fingerprint of `kept`.
    pub kept_fp: Fingerprint,
}

/// Copies the resources `keep` chooses when the fingerprint of all of `resources` is the one
/// `cursor` was taken with; `None` (and nothing kept) otherwise.
///
/// One pass: each resource is hashed and copied while it is in cache, instead of one walk
/// for the fingerprint and another for the copies. The copies are dropped on a mismatch.
pub(crate) fn copy_matching<'r>(
    cursor: &Cursor,
    resources: &'r [Resource],
    mut keep: impl FnMut(&'r Resource) -> bool,
) -> Option<Copied> {
    let mut all = Fingerprint::default();
    let mut kept_fp = Fingerprint::default();
    // Room for a few additions, so that applying the changes moves nothing (capacity that
    // is never written costs no memory).
    let mut kept: Vec<Resource> = Vec::with_capacity(resources.len() + resources.len() / 64 + 16);
    let mut sorted = true;
    let mut buf = Vec::with_capacity(1024);
    for r in resources {
        let d = digest(r, &mut buf);
        all.apply(&d, u64::wrapping_add);
        all.len += 1;
        if keep(r) {
            kept_fp.apply(&d, u64::wrapping_add);
            kept_fp.len += 1;
            if let Some(last) = kept.last() {
                sorted &= last.id < r.id;
            }
            kept.push(r.clone());
        }
    }
    if all.to_string() != cursor.fingerprint {
        return None;
    }
    if !sorted {
        // Not the order snapshots keep: one copy per id, the last one, by id.
        let mut by_id: BTreeMap<String, Resource> = BTreeMap::new();
        for r in kept {
            if let Some(old) = by_id.insert(r.id.clone(), r) {
                kept_fp.remove(&old);
            }
        }
        kept = by_id.into_values().collect();
    }
    Some(Copied { kept, all, kept_fp })
}

/// The resource of `id` in `sorted` (sorted by id, one per id).
pub(crate) fn find<'r>(sorted: &'r [Resource], id: &str) -> Option<&'r Resource> {
    sorted
        .binary_search_by(|r| r.id.as_str().cmp(id))
        .ok()
        .map(|i| &sorted[i])
}

/// Applies `changes` (per id, the resource now or `None` when removed) to `sorted` (sorted by
/// id, one per id), in place: it stays sorted by id. Replacements take their resource's slot;
/// removals close up in one pass; additions are merged in from the end, moving only the
/// resources after the first one added (the copies have room for a few).
pub(crate) fn apply(sorted: &mut Vec<Resource>, changes: BTreeMap<String, Option<Resource>>) {
    let mut removed: Vec<usize> = Vec::new();
    let mut added: Vec<Resource> = Vec::new();
    // In id order: the removed indices and the added resources come out sorted.
    for (id, now) in changes {
        match (sorted.binary_search_by(|r| r.id.as_str().cmp(&id)), now) {
            (Ok(i), Some(r)) => sorted[i] = r,
            (Ok(i), None) => removed.push(i),
            (Err(_), Some(r)) => added.push(r),
            (Err(_), None) => {}
        }
    }
    if !removed.is_empty() {
        let mut gone = removed.into_iter().peekable();
        let mut i = 0;
        sorted.retain(|_| {
            let keep = gone.next_if_eq(&i).is_none();
            i += 1;
            keep
        });
    }
    if added.is_empty() {
        return;
    }
    // Room at the end, then from the back: the greater of the last old resource not yet
    // moved and the last added one goes into the last free slot.
    let mut old = sorted.len();
    sorted.resize_with(old + added.len(), placeholder);
    let mut free = sorted.len();
    while let Some(a) = added.pop() {
        free -= 1;
        while old > 0 && sorted[old - 1].id > a.id {
            old -= 1;
            sorted.swap(old, free);
            free -= 1;
        }
        sorted[free] = a;
    }
}

/// An empty resource, for a slot about to be filled (allocates only its null body).
fn placeholder() -> Resource {
    Resource {
        body: std::sync::Arc::new(Value::Null),
        id: String::new(),
        kind: String::new(),
        natural_key: None,
        parent_id: None,
        references: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use butterfly_core::kind::{Category, KindSpec};
    use serde_json::json;

    #[test]
    fn fingerprints_ignore_order_but_not_content() {
        const K: KindSpec = KindSpec::new("t.k", "K", Category::Directory);
        let a = Resource::new(&K, "a", None, json!({"x": 1, "y": [1, 2]}));
        let b = Resource::new(&K, "b", None, json!({"y": "z"}));
        let c = Resource::new(&K, "b", None, json!({"y": "w"}));
        assert_eq!(
            fingerprint(&[a.clone(), b.clone()]),
            fingerprint(&[b.clone(), a.clone()])
        );
        assert_ne!(
            fingerprint(&[a.clone(), b.clone()]),
            fingerprint(&[a.clone(), c.clone()])
        );
        // Updating in place gives the fingerprint of the changed set.
        let mut fp = Fingerprint::of(&[a.clone(), b.clone()]);
        fp.remove(&b);
        fp.add(&c);
        assert_eq!(fp, Fingerprint::of(&[c.clone(), a.clone()]));
        fp.remove(&c);
        assert_eq!(fp.to_string(), fingerprint(std::slice::from_ref(&a)));
        assert_eq!(fingerprint(&[]), Fingerprint::default().to_string());
        // Fingerprints of parts add up to the fingerprint of the whole.
        let mut parts = Fingerprint::of(std::slice::from_ref(&a));
        parts.merge(&Fingerprint::of(&[b.clone(), c.clone()]));
        assert_eq!(parts, Fingerprint::of(&[c, b, a]));
    }

    #[test]
    fn fingerprints_tell_apart_what_json_text_would() {
        const K: KindSpec = KindSpec::new("t.k", "K", Category::Directory);
        let fp = |id: &str, parent: Option<&str>, body: Value| {
            fingerprint(&[Resource::new(&K, id, parent.map(str::to_string), body)])
        };
        let bodies = [
            json!(null),
            json!(false),
            json!(true),
            json!(0),
            json!(-1),
            json!(1.5),
            json!("0"),
            json!(""),
            json!([]),
            json!({}),
            json!([null]),
            json!({"a": null}),
            json!({"a": "b"}),
            json!({"ab": ""}),
            json!(["a", "b"]),
            json!(["ab"]),
            json!([[]]),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for b in &bodies {
            assert!(seen.insert(fp("x", None, b.clone())), "collision for {b}");
        }
        // The id and the parent are framed: moving bytes between them changes the fingerprint.
        assert_ne!(fp("ab", Some("c"), json!(1)), fp("a", Some("bc"), json!(1)));
    }

    #[test]
    fn changes_apply_in_place_as_a_map_would() {
        const K: KindSpec = KindSpec::new("t.k", "K", Category::Directory);
        let r = |id: &str, v: i64| Resource::new(&K, id, None, json!({"v": v}));
        let base: Vec<Resource> = ["b", "d", "f", "h"].iter().map(|id| r(id, 0)).collect();
        let cases: Vec<Vec<(&str, Option<i64>)>> = vec![
            vec![],
            vec![("d", Some(1))],
            vec![("a", Some(1))],
            vec![("z", Some(1))],
            vec![
                ("e", Some(1)),
                ("c", Some(2)),
                ("i", Some(3)),
                ("a", Some(4)),
            ],
            vec![("b", None), ("h", None)],
            vec![("b", None), ("d", None), ("f", None), ("h", None)],
            vec![
                ("b", None),
                ("c", Some(1)),
                ("d", Some(2)),
                ("g", Some(3)),
                ("x", None),
            ],
            vec![
                ("a", Some(1)),
                ("b", None),
                ("e", Some(2)),
                ("f", None),
                ("i", Some(3)),
            ],
        ];
        for case in cases {
            let mut expected: BTreeMap<String, Resource> =
                base.iter().map(|x| (x.id.clone(), x.clone())).collect();
            let mut changes = BTreeMap::new();
            for (id, v) in &case {
                match v {
                    Some(v) => expected.insert(id.to_string(), r(id, *v)),
                    None => expected.remove(*id),
                };
                changes.insert(id.to_string(), v.map(|v| r(id, v)));
            }
            let mut got = base.clone();
            apply(&mut got, changes);
            let expected: Vec<Resource> = expected.into_values().collect();
            assert_eq!(got, expected, "{case:?}");
        }
    }

    #[test]
    fn copies_are_taken_only_for_the_cursor_s_resources() {
        const K: KindSpec = KindSpec::new("t.k", "K", Category::Directory);
        let r = |id: &str, v: i64| Resource::new(&K, id, None, json!({"v": v}));
        let prev = vec![r("a", 1), r("b", 2), r("c", 3)];
        let cursor = |fp: String| Cursor::new(String::new(), fp);
        let c = copy_matching(&cursor(fingerprint(&prev)), &prev, |x| x.id != "b").unwrap();
        assert_eq!(c.kept, vec![r("a", 1), r("c", 3)]);
        assert_eq!(c.all, Fingerprint::of(&prev));
        assert_eq!(c.kept_fp, Fingerprint::of(&c.kept));
        assert!(copy_matching(&cursor(fingerprint(&prev[1..])), &prev, |_| true).is_none());
        // Out of order or twice: one per id, the last one, sorted.
        let odd = vec![r("b", 1), r("a", 1), r("b", 2)];
        let c = copy_matching(&cursor(fingerprint(&odd)), &odd, |_| true).unwrap();
        assert_eq!(c.kept, vec![r("a", 1), r("b", 2)]);
        assert_eq!(c.kept_fp, Fingerprint::of(&c.kept));
    }

    #[test]
    fn cursors_persist_in_the_state_file() {
        let dir = std::env::temp_dir().join(format!("entra-delta-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("state.json");
        let store = CursorStore::new(Some(file.clone()));
        let cursor = Cursor::new(
            "https://graph.microsoft.com/v1.0/users/delta?$deltatoken=x".into(),
            "1:00".into(),
        );
        store.set("entra.user", Some(cursor.clone()));
        assert_eq!(
            CursorStore::new(Some(file.clone())).get("entra.user"),
            Some(cursor)
        );
        // A state file from before version 2 (no version): its cursors are not used.
        std::fs::write(
            &file,
            r#"{"entra.group": {"link": "https://graph.microsoft.com/v1.0/groups/delta?$deltatoken=y", "fingerprint": "1:00"}}"#,
        )
        .unwrap();
        assert_eq!(CursorStore::new(Some(file)).get("entra.group"), None);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
