//! The table engine against a small tenant on 127.0.0.1: pages, per-parent reads with bounded
//! concurrency, parents skipped by the row, one missing part of a multi-part kind kept as a
//! warning, "none configured" 404s, unsupported listings, denials naming the scope, and the
//! probe's inheritance.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use butterfly_core::http::{HttpClient, RetryConfig};
use butterfly_core::kind::{Category, KindSpec};
use butterfly_core::table::{self, ListSpec, Paging, Row, TableSource};
use butterfly_core::{Access, ErrorKind, FetchContext, Resource};
use serde_json::{Value, json};

static GROUP: Row = Row {
    spec: KindSpec::new("t.group", "Groups", Category::Directory),
    list: ListSpec::new("api/groups", "groups.read")
        .paging(Paging::LinkHeader)
        .page_size("limit", 2),
};
static MEMBER: Row = Row {
    spec: KindSpec {
        parent: Some("t.group"),
        ..KindSpec::new("t.member", "Members", Category::Directory)
    },
    list: ListSpec::new("api/groups/{0}/users", "groups.read")
        .keep_only(&["id"])
        .concurrency(2)
        .lists_parent(|g| g.body["type"] != "BUILT_IN"),
};
static POLICY: Row = Row {
    spec: KindSpec::new("t.policy", "Policies", Category::Policy),
    list: ListSpec::new("api/policies", "policies.read")
        .per_value_param("type", &["OKTA_SIGN_ON", "PASSWORD", "ENTITY_RISK"]),
};
static BRANDING: Row = Row {
    spec: KindSpec::new("t.branding", "Branding", Category::Branding),
    list: ListSpec::new("api/branding", "branding.read")
        .singleton()
        .absent_is_empty(),
};
static MAPPING: Row = Row {
    spec: KindSpec::new("t.mapping", "Mappings", Category::Directory),
    list: ListSpec::new("api/mappings", "mappings.read"),
};
static ROLE: Row = Row {
    spec: KindSpec::new("t.role", "Roles", Category::Authorization),
    list: ListSpec::new("api/roles", "roles.read"),
};
static ROLE_PERMISSION: Row = Row {
    spec: KindSpec {
        parent: Some("t.role"),
        ..KindSpec::new(
            "t.role_permission",
            "Role permissions",
            Category::Authorization,
        )
    },
    list: ListSpec::new("api/roles/{0}/permissions", "roles.read"),
};

#[derive(Default)]
struct Tenant {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    member_reads: AtomicUsize,
}

async fn groups(Query(q): Query<Vec<(String, String)>>, headers: HeaderMap) -> Response {
    let all: Vec<Value> = (0..5)
        .map(|i| json!({"id": format!("g{i}"), "type": if i == 0 { "BUILT_IN" } else { "OKTA_GROUP" }}))
        .collect();
    let limit: usize = q
        .iter()
        .find(|(k, _)| k == "limit")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(200);
    let after: usize = q
        .iter()
        .find(|(k, _)| k == "after")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let page: Vec<Value> = all.iter().skip(after).take(limit).cloned().collect();
    let mut resp = axum::Json(page).into_response();
    if after + limit < all.len() {
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let link = format!(
            "<http://{host}/api/groups?limit={limit}&after={}>; rel=\"next\"",
            after + limit
        );
        resp.headers_mut()
            .insert("link", HeaderValue::from_str(&link).unwrap());
    }
    resp
}

async fn members(State(t): State<Arc<Tenant>>, Path(id): Path<String>) -> Response {
    let now = t.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    t.max_in_flight.fetch_max(now, Ordering::SeqCst);
    t.member_reads.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(30)).await;
    t.in_flight.fetch_sub(1, Ordering::SeqCst);
    if id == "g3" {
        // Deleted while the backup ran.
        return (StatusCode::NOT_FOUND, "{}").into_response();
    }
    axum::Json(json!([{"id": format!("u-{id}"), "profile": {"login": "x"}}])).into_response()
}

async fn policies(Query(q): Query<Vec<(String, String)>>) -> Response {
    let t = q
        .iter()
        .find(|(k, _)| k == "type")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if t == "ENTITY_RISK" {
        return (StatusCode::NOT_FOUND, "{}").into_response();
    }
    axum::Json(json!([{"id": format!("p-{t}"), "type": t}])).into_response()
}

async fn serve() -> (String, Arc<Tenant>) {
    let tenant = Arc::new(Tenant::default());
    let app = Router::new()
        .route("/api/groups", get(groups))
        .route("/api/groups/{id}/users", get(members))
        .route("/api/policies", get(policies))
        .route(
            "/api/branding",
            get(|| async { (StatusCode::NOT_FOUND, "{}") }),
        )
        .route(
            "/api/roles",
            get(|| async { (StatusCode::FORBIDDEN, "{}") }),
        )
        .with_state(tenant.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, tenant)
}

struct Source(HttpClient);
impl TableSource<Row> for Source {
    fn http(&self) -> &HttpClient {
        &self.0
    }
}

async fn source() -> (Source, Arc<Tenant>) {
    let (base, tenant) = serve().await;
    let http = HttpClient::builder(&base)
        .retry(RetryConfig {
            max_retries: 1,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .max_share(1.0)
        .build()
        .unwrap();
    (Source(http), tenant)
}

fn ctx(parents: Vec<Resource>) -> FetchContext {
    FetchContext {
        parents: Arc::new(parents),
        ..FetchContext::default()
    }
}

#[tokio::test]
async fn pages_parents_and_missing_parts() {
    let (source, tenant) = source().await;
    let groups = table::fetch(&source, &GROUP, &ctx(vec![])).await.unwrap();
    assert_eq!(groups.len(), 5, "every page is followed");

    let members = table::fetch(&source, &MEMBER, &ctx(groups.clone()))
        .await
        .unwrap();
    let mut ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    ids.sort();
    // g0 is built in (skipped by the row), g3 went away (404: no members).
    assert_eq!(ids, ["g1/u-g1", "g2/u-g2", "g4/u-g4"]);
    assert_eq!(
        *members[0].body,
        json!({"id": format!("u-{}", members[0].parent_id.as_deref().unwrap())})
    );
    assert_eq!(tenant.member_reads.load(Ordering::SeqCst), 4);
    assert!(
        tenant.max_in_flight.load(Ordering::SeqCst) <= 2,
        "at most the row's concurrency of parents at once"
    );

    let ctx = ctx(vec![]);
    let policies = table::fetch(&source, &POLICY, &ctx).await.unwrap();
    assert_eq!(policies.len(), 2, "the parts that answered are kept");
    let warnings = ctx.warnings.take();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("type=ENTITY_RISK"),
        "the warning names the listing: {warnings:?}"
    );
}

#[tokio::test]
async fn absent_unsupported_and_denied() {
    let (source, _) = source().await;
    let none = table::fetch(&source, &BRANDING, &ctx(vec![]))
        .await
        .unwrap();
    assert!(none.is_empty(), "a 404 that means none configured is empty");

    let err = table::fetch(&source, &MAPPING, &ctx(vec![]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("api/mappings"), "{err}");

    let err = table::fetch(&source, &ROLE, &ctx(vec![]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Denied);
    assert!(err.to_string().contains("roles.read"), "{err}");
}

#[tokio::test]
async fn probe_reports_each_row_and_sub_kinds_inherit() {
    let (source, _) = source().await;
    let rows: Vec<&'static Row> = vec![
        &GROUP,
        &MEMBER,
        &POLICY,
        &BRANDING,
        &MAPPING,
        &ROLE,
        &ROLE_PERMISSION,
    ];
    let report = table::probe(&source, &rows).await.unwrap();
    assert_eq!(report.kinds["t.group"], Access::Readable);
    assert_eq!(report.kinds["t.member"], Access::Readable);
    assert_eq!(report.kinds["t.policy"], Access::Readable);
    assert_eq!(report.kinds["t.branding"], Access::Readable);
    assert!(matches!(
        report.kinds["t.mapping"],
        Access::Unsupported { .. }
    ));
    for id in ["t.role", "t.role_permission"] {
        assert_eq!(
            report.kinds[id],
            Access::Denied {
                missing: "roles.read".into()
            },
            "{id}"
        );
    }
}
