//! # butterfly-testkit
//!
//! Test support for butterfly, shared by every provider:
//!
//! - [`fake`]: the fake-tenant framework: an axum server on `127.0.0.1:0`, rate-limit
//!   emulation with the provider's headers and a time scale, deterministic fault injection
//!   (5xx, 429 storms with and without headers, resets, truncated bodies, slow answers), a
//!   write log and a catch-all that records unknown requests.
//! - [`okta`]: a fake Okta org generated from a seed, built from the official OpenAPI spec
//!   and recorded cassettes, with secret sentinels planted in every secret field.
//! - [`auth0`]: a fake Auth0 tenant (Management API v2) generated from a seed: the token
//!   endpoint, scope checks, page and checkpoint paging with the 1,000-user cap, the
//!   users-export job, a token-bucket rate limit and secret sentinels.
//! - [`entra`]: a fake Microsoft Entra ID tenant (Graph v1.0) generated from a seed: the
//!   token endpoint (secret or certificate assertion), per-route permissions, skiptoken paging,
//!   `$select`/`$filter`, users and groups delta, `$batch`, resource-unit throttling, writes
//!   with Graph's cascades and secret sentinels.
//! - [`ping`]: a fake PingOne environment (Platform API v1) generated from a seed: the worker
//!   app's token endpoint, admin roles per collection, HAL paging with cursors, writes with
//!   required-field checks, PingOne's rate limits with `Retry-After`, and secret sentinels.
//! - [`onepassword`]: a fake 1Password Connect server (API 1.7.1 with the PR #88
//!   corrections) generated from a seed: vaults, items of every common category with their
//!   fields and files, the bearer token check, Connect's error bodies, and secret sentinels in
//!   every concealed, one-time password, SSH key, password and note value and file content.
//! - [`tenants`]: the fake tenants as a registry of descriptors (options, start), each started
//!   fake giving its client settings and performing the incident it declares.
//! - [`behaviour`]: the behaviour suite every provider runs against its fake tenant.
//! - [`store_suite`]: the conformance suite every snapshot store runs.
//! - [`synthetic`]: synthetic snapshots for store, diff and benchmark tests.
//!
//! The `fake-tenant` binary serves a generated org until stopped
//! (`cargo run -p butterfly-testkit --bin fake-tenant -- okta --users 10000`; `auth0` for a
//! fake Auth0 tenant).
//!
//! ```
//! use butterfly_testkit::okta::{FakeOkta, OktaOptions, OktaOrgSpec};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let fake = FakeOkta::start(OktaOrgSpec { users: 50, seed: 1, governance: false }, OktaOptions::default())
//!     .await
//!     .unwrap();
//! assert!(fake.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(fake.items("/api/v1/users").len(), 50);
//! assert!(!fake.sentinels().is_empty());
//! assert_eq!(fake.write_count(), 0);
//! # });
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth0;
pub mod behaviour;
pub mod entra;
pub mod fake;
pub mod fixtures;
pub mod okta;
pub mod onepassword;
pub mod ping;
pub mod s3;
pub mod store_suite;
pub mod synthetic;
pub mod tenants;
pub mod workflows;

/// Checks a provider descriptor against the source of its configuration code: every
/// `PREFIX_NAME` setting the source names is declared in the descriptor, and every declared
/// setting is read somewhere in it. Panics naming the difference.
///
/// ```
/// use butterfly_core::registry::{ProviderDescriptor, Setting};
/// static DEMO: ProviderDescriptor = ProviderDescriptor {
///     name: "demo",
///     title: "Demo",
///     env_prefix: "DEMO_",
///     settings: &[Setting::required("DEMO_URL", "the API root")],
///     base_url_setting: "DEMO_URL",
///     kinds: || &[],
///     severity_rules: Vec::new,
///     build: |_, _| Err(butterfly_core::Error::config("demo")),
/// };
/// butterfly_testkit::assert_settings_declared(&DEMO, r#"get("DEMO_URL")"#);
/// ```
pub fn assert_settings_declared(
    descriptor: &butterfly_core::registry::ProviderDescriptor,
    source: &str,
) {
    let prefix = descriptor.env_prefix();
    let mut named = std::collections::BTreeSet::new();
    for (i, _) in source.match_indices(&format!("\"{prefix}")) {
        let rest = &source[i + 1..];
        let end = rest
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(rest.len());
        if rest[end..].starts_with('"') {
            named.insert(rest[..end].to_string());
        }
    }
    let declared: std::collections::BTreeSet<String> = descriptor
        .settings
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    let undeclared: Vec<&String> = named.difference(&declared).collect();
    let unread: Vec<&String> = declared.difference(&named).collect();
    assert!(
        undeclared.is_empty() && unread.is_empty(),
        "{}: settings read but not declared: {undeclared:?}; declared but never read: {unread:?}",
        descriptor.name
    );
    assert!(
        descriptor.knows(descriptor.base_url_setting),
        "{}: the base-URL setting {} is not declared",
        descriptor.name,
        descriptor.base_url_setting
    );
}

/// Checks a provider's kind table for consistency, failing with every problem found:
/// - kind ids are unique and start with `{provider}.`;
/// - parents, dependencies and reference targets are kinds of the table, without cycles;
/// - every field pointer (natural key, secret, volatile, reference) is a JSON Pointer;
/// - restorability is declared once, by the row's write column (`writable`): the kinds whose
///   [`RestoreSupport`] is not `None` are exactly the kinds the provider can write (rows derive
///   it with [`butterfly_core::kind::restorability`]; a writable row whose spec still says
///   `None` is caught here).
///
/// [`RestoreSupport`]: butterfly_core::RestoreSupport
pub fn assert_kind_table_consistent(
    provider: &str,
    kinds: &[butterfly_core::KindRef],
    writable: impl Fn(&str) -> bool,
) {
    use butterfly_core::RestoreSupport;
    let mut problems = Vec::new();
    let ids: std::collections::BTreeSet<&str> = kinds.iter().map(|k| k.id()).collect();
    if ids.len() != kinds.len() {
        problems.push("kind ids repeat".to_string());
    }
    let prefix = format!("{provider}.");
    for kind in kinds {
        let id = kind.id();
        if !id.starts_with(&prefix) {
            problems.push(format!("{id} does not start with {prefix}"));
        }
        let named = kind
            .parent()
            .into_iter()
            .chain(kind.depends_on().iter().copied())
            .chain(kind.reference_fields().iter().map(|r| r.kind));
        for other in named {
            if !ids.contains(other) {
                problems.push(format!(
                    "{id} names {other}, which is not a kind of {provider}"
                ));
            }
        }
        let pointers = kind
            .natural_key()
            .iter()
            .copied()
            .chain(kind.secret_fields().iter().map(|s| s.pointer))
            .chain(kind.volatile_fields().iter().copied())
            .chain(kind.reference_fields().iter().map(|r| r.pointer));
        for pointer in pointers {
            if !pointer.starts_with('/') {
                problems.push(format!("{id}: {pointer:?} is not a JSON Pointer"));
            }
        }
        let restorable = !matches!(kind.restore_support(), RestoreSupport::None { .. });
        if restorable != writable(id) {
            problems.push(format!(
                "{id}: restore support {:?} but the row {} write it",
                kind.restore_support(),
                if writable(id) { "can" } else { "cannot" }
            ));
        }
    }
    if let Err(e) = butterfly_core::kind::topological_order(kinds) {
        problems.push(format!("the dependencies have a cycle: {e}"));
    }
    assert!(
        problems.is_empty(),
        "{provider} kind table:\n{}",
        problems.join("\n")
    );
}

/// Checks the listing columns of a provider's table rows ([`ListSpec`]), failing with every
/// problem found:
/// - a sub-resource's path names its parent id (`{0}`), unless it is listed once for all
///   parents ([`ListSpec::group_by`]); a top-level path names none;
/// - a path with `{v}` has values to put there, and values sent as a query parameter leave
///   the path without `{v}`;
/// - every row names the scope or permission that reads it, and lists at least one parent at
///   a time;
/// - a page size goes with a paging style that sends it.
///
/// [`ListSpec`]: butterfly_core::table::ListSpec
/// [`ListSpec::group_by`]: butterfly_core::table::ListSpec::group_by
pub fn assert_list_specs_consistent(
    provider: &str,
    table: &[&dyn butterfly_core::table::TableKind],
) {
    use butterfly_core::table::Paging;
    let mut problems = Vec::new();
    for row in table {
        let spec = row.list_spec();
        let id = row.id();
        let names_parent = spec.path.contains("{0}");
        match (row.parent(), spec.group_by) {
            (Some(_), None) if !names_parent => problems.push(format!(
                "{id}: a sub-resource whose path {} has no {{0}}",
                spec.path
            )),
            (None, _) if names_parent => problems.push(format!(
                "{id}: a top-level path {} names a parent",
                spec.path
            )),
            _ => {}
        }
        let in_path = spec.path.contains("{v}");
        if in_path != (!spec.per_value.is_empty() && spec.value_param.is_none()) {
            problems.push(format!(
                "{id}: path {} and per-value listing {:?} (parameter {:?}) disagree",
                spec.path, spec.per_value, spec.value_param
            ));
        }
        if spec.access.trim().is_empty() {
            problems.push(format!("{id}: no scope or permission named"));
        }
        if spec.concurrency == 0 {
            problems.push(format!("{id}: reads no parent at a time"));
        }
        if spec.page_size.is_some() && spec.paging == Paging::None {
            problems.push(format!("{id}: a page size without paging is never sent"));
        }
    }
    assert!(
        problems.is_empty(),
        "{provider} listing columns:\n{}",
        problems.join("\n")
    );
}

#[cfg(test)]
mod table_tests {
    use butterfly_core::kind::{Category, KindRef, KindSpec, ReferenceField};

    const RULE: KindSpec = KindSpec {
        reference_fields: &[ReferenceField {
            pointer: "/groupId",
            kind: "t.missing",
        }],
        ..KindSpec::new("t.rule", "Rules", Category::Directory)
    };
    static KINDS: &[KindRef] = &[&RULE];

    #[test]
    #[should_panic(expected = "t.rule names t.missing")]
    fn a_reference_to_an_unknown_kind_is_found() {
        super::assert_kind_table_consistent("t", KINDS, |_| false);
    }

    #[test]
    #[should_panic(expected = "but the row cannot write it")]
    fn restorability_declared_twice_must_agree() {
        // Restorable by default, while the provider's row has no write.
        const GROUP: KindSpec = KindSpec::new("t.group", "Groups", Category::Directory);
        static TABLE: &[KindRef] = &[&GROUP];
        super::assert_kind_table_consistent("t", TABLE, |_| false);
    }

    use butterfly_core::table::Row;

    #[test]
    #[should_panic(expected = "t.member: a sub-resource whose path api/members has no {0}")]
    fn a_sub_resource_path_without_its_parent_is_found() {
        static MEMBER: Row = Row {
            spec: KindSpec {
                parent: Some("t.group"),
                ..KindSpec::new("t.member", "Members", Category::Directory)
            },
            list: butterfly_core::table::ListSpec::new("api/members", "groups.read"),
        };
        super::assert_list_specs_consistent("t", &[&MEMBER]);
    }

    #[test]
    #[should_panic(expected = "a page size without paging is never sent")]
    fn a_page_size_without_paging_is_found() {
        static GROUP: Row = Row {
            spec: KindSpec::new("t.group", "Groups", Category::Directory),
            list: butterfly_core::table::ListSpec::new("api/groups", "groups.read")
                .page_size("limit", 200),
        };
        super::assert_list_specs_consistent("t", &[&GROUP]);
    }
}
