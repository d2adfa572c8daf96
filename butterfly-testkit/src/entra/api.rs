//! Request handling: token endpoint, Graph routes, paging, delta, `$batch`, throttling hooks.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use serde_json::{Map, Value, json};

use super::generate::{b64url, b64url_decode};
use super::{
    ChangeKind, DIRECTORY, EntraOptions, EntraTenant, PERMISSIONS, ROUTES, Route, Shape,
    TEST_CERT_THUMBPRINT,
};
use crate::fake::{
    AssertionError, FakeApi, FakeRequest, FakeResponse, Fault, FaultRule, lock, merge,
    verify_test_assertion,
};

/// The properties `GET /users` returns without `$select` (as the cassettes show).
const USER_DEFAULT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// `(path, $filter)` -> (tenant clock, matching positions).
type FilterCache = HashMap<(String, String), (u64, Arc<Vec<usize>>)>;

pub(crate) struct GraphApi {
    tenant: Arc<Mutex<EntraTenant>>,
    withheld: BTreeSet<String>,
    ttl: Option<Duration>,
    started: Instant,
    requests: AtomicU64,
    throttled: AtomicU64,
    /// `(path, $filter)` -> (tenant clock, matching positions).
    filters: Mutex<FilterCache>,
    /// Faults for batched requests, with how many matched and how many fired.
    batch_faults: Mutex<Vec<(FaultRule, usize, usize)>>,
}

/// What a path under `/v1.0/` addresses.
#[derive(Debug, Clone)]
enum Target {
    /// The route itself (list, singleton, relation, delta).
    Route,
    /// An item of a collection route.
    Item(String),
    /// `…/{relation}/$ref` (POST).
    Ref,
    /// `…/{relation}/{id}/$ref` (DELETE).
    RefItem(String),
    /// `addPassword` / `removePassword` on an item.
    Action(String, String),
}

fn template_matches(template: &str, segs: &[&str]) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    // Graph's URL segments are case-insensitive (`oAuth2PermissionGrants` in the cassettes).
    t.len() == segs.len()
        && t.iter()
            .zip(segs)
            .all(|(a, b)| *a == "{}" || a.eq_ignore_ascii_case(b))
}

/// The route's own spelling of a matching path (ids kept).
fn canon(route: &Route, segs: &[&str]) -> String {
    route
        .path
        .split('/')
        .zip(segs)
        .map(|(t, s)| if t == "{}" { *s } else { t })
        .collect::<Vec<_>>()
        .join("/")
}

fn find_route(segs: &[&str]) -> Option<&'static Route> {
    ROUTES.iter().find(|r| template_matches(r.path, segs))
}

/// Classifies a path (segments under `/v1.0/`).
fn classify(segs: &[&str]) -> Option<(&'static Route, String, Target)> {
    if let Some(r) = find_route(segs) {
        return Some((r, canon(r, segs), Target::Route));
    }
    let n = segs.len();
    if n >= 2 && segs[n - 1] == "$ref" {
        if let Some(r) = find_route(&segs[..n - 1]).filter(|r| r.shape == Shape::Relation) {
            return Some((r, canon(r, &segs[..n - 1]), Target::Ref));
        }
        if n >= 3
            && let Some(r) = find_route(&segs[..n - 2]).filter(|r| r.shape == Shape::Relation)
        {
            return Some((
                r,
                canon(r, &segs[..n - 2]),
                Target::RefItem(segs[n - 2].to_string()),
            ));
        }
        return None;
    }
    if n >= 3 && matches!(segs[n - 1], "addPassword" | "removePassword") {
        let r = find_route(&segs[..n - 2])?;
        if matches!(r.path, "applications" | "servicePrincipals") {
            return Some((
                r,
                canon(r, &segs[..n - 2]),
                Target::Action(segs[n - 2].to_string(), segs[n - 1].to_string()),
            ));
        }
        return None;
    }
    if n >= 2
        && let Some(r) = find_route(&segs[..n - 1]).filter(|r| r.shape == Shape::Collection)
    {
        return Some((
            r,
            canon(r, &segs[..n - 1]),
            Target::Item(segs[n - 1].to_string()),
        ));
    }
    None
}

fn now_iso() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(crate) fn graph_error(status: u16, code: &str, message: &str) -> FakeResponse {
    FakeResponse::status(
        status,
        json!({"error": {"code": code, "message": message, "innerError": {"date": now_iso(), "request-id": "00000000-0000-0000-0000-000000000000", "client-request-id": "00000000-0000-0000-0000-000000000000"}}}),
    )
}

fn unauthorized(message: &str) -> FakeResponse {
    graph_error(401, "InvalidAuthenticationToken", message).with_header(
        "www-authenticate",
        r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000""#,
    )
}

fn not_found(id: &str) -> FakeResponse {
    graph_error(
        404,
        "Request_ResourceNotFound",
        &format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

fn bad_request(message: &str) -> FakeResponse {
    graph_error(400, "Request_BadRequest", message)
}

/// Graph's `400` for the first of the `required` properties a created object lacks.
fn missing_property(body: &Value, required: &[&str]) -> Option<FakeResponse> {
    let missing = required.iter().find(|p| body.get(**p).is_none())?;
    Some(bad_request(&format!(
        "Property '{missing}' is required when creating the object."
    )))
}

/// `@odata.context` of a concrete path: `applications/{id}/owners` ->
/// `applications('{id}')/owners`.
fn context(base: &str, path: &str, route: &Route, suffix: &str) -> String {
    let mut out = String::new();
    for (seg, t) in path.split('/').zip(route.path.split('/')) {
        if t == "{}" {
            out.push_str(&format!("('{seg}')"));
        } else {
            if !out.is_empty() {
                out.push('/');
            }
            out.push_str(seg);
        }
    }
    if route.shape == Shape::Relation {
        out = "directoryObjects".into();
    }
    format!("{base}/v1.0/$metadata#{out}{suffix}")
}

/// Keeps the selected properties (and `id`, `@odata.type`).
fn select(item: &Value, fields: Option<&[String]>, default: Option<&[&str]>) -> Value {
    let keep = |k: &str| match (fields, default) {
        (Some(f), _) => k == "id" || k.starts_with('@') || f.iter().any(|s| s == k),
        (None, Some(d)) => k.starts_with('@') || d.contains(&k),
        (None, None) => true,
    };
    match item {
        Value::Object(map) if fields.is_some() || default.is_some() => Value::Object(
            map.iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// One `$filter` clause: property, operator (`eq`, `ne`, `ge`, `gt`, `le`, `lt`, `startswith`,
/// `any` for `prop/any(c:c eq 'v')`) and value.
type Clause = (String, &'static str, String);

/// A parsed `$filter`: clauses joined by ` and `.
fn parse_filter(text: &str) -> Option<Vec<Clause>> {
    let mut out = Vec::new();
    for part in text.split(" and ") {
        let part = part.trim();
        let unquote = |v: &str| {
            let v = v.trim();
            v.strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .map(|v| v.replace("''", "'"))
        };
        if let Some(inner) = part
            .strip_prefix("startswith(")
            .or_else(|| part.strip_prefix("startsWith("))
            .and_then(|p| p.strip_suffix(')'))
        {
            let (prop, v) = inner.split_once(',')?;
            out.push((prop.trim().to_string(), "startswith", unquote(v)?));
        } else if let Some((prop, rest)) = part.split_once("/any(") {
            let (_, cond) = rest.strip_suffix(')')?.split_once(':')?;
            let (_, v) = cond.split_once(" eq ")?;
            out.push((prop.to_string(), "any", unquote(v)?));
        } else {
            let (op, (prop, v)) = ["eq", "ne", "ge", "gt", "le", "lt"]
                .iter()
                .find_map(|op| part.split_once(&format!(" {op} ")).map(|pv| (*op, pv)))?;
            let v = v.trim();
            let v = unquote(v).unwrap_or_else(|| v.to_string());
            out.push((prop.trim().to_string(), op, v));
        }
    }
    Some(out)
}

fn filter_ok(item: &Value, filter: &[Clause]) -> bool {
    filter.iter().all(|(prop, op, v)| {
        let value = &item[prop.as_str()];
        if *op == "any" {
            return value
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(v)));
        }
        let text = match value {
            Value::String(s) => s.to_lowercase(),
            Value::Null => "null".to_string(),
            other => other.to_string(),
        };
        let v = v.to_lowercase();
        match *op {
            "startswith" => value.is_string() && text.starts_with(&v),
            "eq" => text == v,
            "ne" => text != v,
            "ge" => value.is_string() && text >= v,
            "gt" => value.is_string() && text > v,
            "le" => value.is_string() && text <= v,
            "lt" => value.is_string() && text < v,
            _ => false,
        }
    })
}

/// A page position and the delta round it belongs to, with its issue time.
#[derive(Debug, Clone, Copy)]
struct PageToken {
    pos: usize,
    since: u64,
    round: u64,
    issued_ms: u64,
}

fn encode_token(t: PageToken) -> String {
    b64url(format!("p{}.s{}.r{}.t{}", t.pos, t.since, t.round, t.issued_ms).as_bytes())
}

fn decode_token(text: &str) -> Option<PageToken> {
    let raw = String::from_utf8(b64url_decode(text)?).ok()?;
    let mut parts = raw.split('.');
    let mut num = |p: char| parts.next()?.strip_prefix(p)?.parse::<u64>().ok();
    Some(PageToken {
        pos: num('p')? as usize,
        since: num('s')?,
        round: num('r')?,
        issued_ms: num('t')?,
    })
}

fn query_string(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl GraphApi {
    pub(crate) fn new(tenant: Arc<Mutex<EntraTenant>>, options: &EntraOptions) -> GraphApi {
        GraphApi {
            tenant,
            withheld: options.withheld_permissions.iter().cloned().collect(),
            ttl: options.page_token_ttl,
            started: Instant::now(),
            requests: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            filters: Mutex::default(),
            batch_faults: Mutex::new(
                options
                    .batch_faults
                    .iter()
                    .cloned()
                    .map(|f| (f, 0, 0))
                    .collect(),
            ),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn token_path(&self, path: &str, t: &EntraTenant) -> Option<bool> {
        let rest = path.strip_prefix('/')?;
        let (tenant, tail) = rest.split_once('/')?;
        if tail != "oauth2/v2.0/token" {
            return None;
        }
        Some(tenant == t.tenant_id || tenant == t.domain)
    }

    fn token(&self, req: &FakeRequest, known_tenant: bool, t: &mut EntraTenant) -> FakeResponse {
        let form: BTreeMap<String, String> = url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect();
        let err = |status: u16, error: &str, code: u32, text: &str| {
            FakeResponse::status(
                status,
                json!({"error": error, "error_description": format!("AADSTS{code}: {text} Trace ID: 00000000-0000-0000-0000-000000000000 Correlation ID: 00000000-0000-0000-0000-000000000000 Timestamp: {}", now_iso()),
                    "error_codes": [code], "timestamp": now_iso(), "trace_id": "00000000-0000-0000-0000-000000000000", "correlation_id": "00000000-0000-0000-0000-000000000000",
                    "error_uri": format!("https://login.microsoftonline.com/error?code={code}")}),
            )
        };
        if !known_tenant {
            return err(
                400,
                "invalid_request",
                90002,
                "Tenant not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
            );
        }
        if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return err(
                400,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.",
            );
        }
        if !form.get("scope").is_some_and(|s| s.ends_with("/.default")) {
            return err(
                400,
                "invalid_scope",
                1002012,
                "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
            );
        }
        let client_id = form.get("client_id").cloned().unwrap_or_default();
        if client_id != t.client_id {
            return err(
                400,
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory '{}'.",
                    t.tenant_id
                ),
            );
        }
        if let Some(secret) = form.get("client_secret") {
            if *secret != t.client_secret {
                return err(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.",
                );
            }
        } else if let Some(assertion) = form.get("client_assertion") {
            if form.get("client_assertion_type").map(String::as_str)
                != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            {
                return err(
                    400,
                    "invalid_request",
                    50027,
                    "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
                );
            }
            let header = match jsonwebtoken::decode_header(assertion) {
                Ok(h) => h,
                Err(_) => {
                    return err(
                        400,
                        "invalid_request",
                        50027,
                        "JWT token is invalid or malformed.",
                    );
                }
            };
            if header.x5t.as_deref() != Some(TEST_CERT_THUMBPRINT) {
                return err(
                    401,
                    "invalid_client",
                    700027,
                    "The certificate with identifier used to sign the client assertion is not registered on application.",
                );
            }
            let claims = match verify_test_assertion(assertion) {
                Ok(claims) => claims,
                Err(AssertionError::Key) => return err(500, "server_error", 50000, "key"),
                Err(AssertionError::Invalid(e)) => {
                    return err(
                        401,
                        "invalid_client",
                        700027,
                        &format!("Client assertion failed signature validation: {e}."),
                    );
                }
            };
            if claims["iss"] != client_id.as_str() || claims["sub"] != client_id.as_str() {
                return err(
                    401,
                    "invalid_client",
                    700021,
                    "Client assertion application identifier doesn't match 'client_id' parameter.",
                );
            }
            if !claims["aud"].as_str().is_some_and(|a| {
                a.ends_with(&format!("/{}/oauth2/v2.0/token", t.tenant_id))
                    || a.ends_with(&format!("/{}/oauth2/v2.0/token", t.domain))
            }) {
                return err(
                    401,
                    "invalid_client",
                    700024,
                    "Client assertion is not within its valid time range or its audience is invalid.",
                );
            }
            if claims.get("jti").and_then(Value::as_str).is_none() {
                return err(
                    401,
                    "invalid_client",
                    700023,
                    "Client assertion contains no jti claim.",
                );
            }
        } else {
            return err(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            );
        }
        let roles: BTreeSet<String> = PERMISSIONS
            .iter()
            .filter(|p| !self.withheld.contains(**p))
            .map(|p| p.to_string())
            .collect();
        let n = t.tick();
        let exp = chrono::Utc::now().timestamp() + 3599;
        let header = b64url(br#"{"typ":"JWT","alg":"RS256","x5t":"fake","kid":"fake"}"#);
        let payload = b64url(
            json!({"aud": "https://graph.microsoft.com", "iss": format!("https://sts.windows.net/{}/", t.tenant_id), "tid": t.tenant_id, "appid": client_id,
                "idtyp": "app", "oid": "00000000-0000-0000-0000-000000000000", "roles": roles, "exp": exp, "uti": n.to_string()})
            .to_string()
            .as_bytes(),
        );
        let token = format!(
            "{header}.{payload}.{}",
            b64url(format!("fake-signature-{n}").as_bytes())
        );
        t.tokens.insert(token.clone(), roles);
        FakeResponse::ok(
            json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}),
        )
    }

    /// Cost in resource units of a Graph request.
    fn request_cost(
        &self,
        method: &Method,
        path: &str,
        query: &[(String, String)],
        body: &[u8],
    ) -> u32 {
        let Some(rest) = path.strip_prefix("/v1.0/") else {
            return 1;
        };
        let rest = rest.trim_end_matches('/');
        if rest == "$batch" {
            let inner: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            return inner["requests"]
                .as_array()
                .map(|reqs| {
                    reqs.iter()
                        .map(|r| {
                            let (p, q) = split_url(r["url"].as_str().unwrap_or_default());
                            let m = Method::from_bytes(
                                r["method"].as_str().unwrap_or("GET").as_bytes(),
                            )
                            .unwrap_or(Method::GET);
                            self.request_cost(&m, &format!("/v1.0/{p}"), &q, b"")
                        })
                        .sum::<u32>()
                })
                .unwrap_or(1)
                .max(1);
        }
        if *method != Method::GET {
            return 3;
        }
        let segs: Vec<&str> = rest.split('/').collect();
        let base: u32 = match classify(&segs) {
            Some((r, _, Target::Route)) => match r.shape {
                Shape::Relation => 3,
                Shape::Collection | Shape::Delta => 2,
                Shape::Singleton => 1,
            },
            _ => 1,
        };
        let has = |k: &str| query.iter().any(|(q, _)| q == k);
        let small_top = query
            .iter()
            .any(|(q, v)| q == "$top" && v.parse::<u32>().is_ok_and(|n| n < 20));
        let off = u32::from(has("$select")) + u32::from(small_top);
        // Graph's identity throttling: `$expand` costs one more.
        base.saturating_sub(off).max(1) + u32::from(has("$expand"))
    }

    fn graph(
        &self,
        req: &FakeRequest,
        base: &str,
        t: &mut EntraTenant,
        inner: bool,
    ) -> Option<FakeResponse> {
        let rest = req
            .path
            .strip_prefix("/v1.0/")?
            .trim_end_matches('/')
            .to_string();
        let roles = match req
            .header("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
        {
            None => {
                return Some(unauthorized("Access token is empty."));
            }
            Some(tok) => match t.tokens.get(tok) {
                Some(r) => r.clone(),
                None => {
                    return Some(unauthorized(
                        "Access token validation failure. Invalid audience.",
                    ));
                }
            },
        };
        if rest == "$batch" && req.method == Method::POST && !inner {
            return Some(self.batch(req, base, t));
        }
        let segs: Vec<&str> = rest.split('/').collect();
        let (route, path, target) = classify(&segs)?;
        let write = req.method != Method::GET;
        let readable = route.read.iter().any(|p| roles.contains(*p));
        if !readable || (write && !roles.contains(route.write)) {
            return Some(graph_error(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            ));
        }
        if write && inner {
            t.batch_writes += 1;
        }
        let store = route
            .store
            .map(str::to_string)
            .unwrap_or_else(|| path.clone());
        // The parent of a nested route must exist.
        let tsegs: Vec<&str> = route.path.split('/').collect();
        if let Some(pos) = tsegs.iter().position(|s| *s == "{}") {
            let parent_coll = tsegs[..pos].join("/");
            let parent_id = segs[pos];
            if t.colls
                .get(&parent_coll)
                .and_then(|c| c.get(parent_id))
                .is_none()
            {
                return Some(not_found(parent_id));
            }
        }
        let resp = match (target, req.method.clone(), route.shape) {
            (Target::Route, Method::GET, Shape::Collection) => {
                match directory_expand(req, &store) {
                    Ok(_) => self.list(req, base, t, route, &path, &store),
                    Err(Some(refused)) => refused,
                    Err(None) => return None,
                }
            }
            (Target::Route, Method::GET, Shape::Relation) => {
                self.relation(req, base, t, route, &path)
            }
            (Target::Route, Method::GET, Shape::Delta) => self.delta(req, base, t, route),
            (Target::Route, Method::GET, Shape::Singleton) => match t.singletons.get(&store) {
                Some(v) => {
                    let mut v = v.clone();
                    if store == "policies/authenticationMethodsPolicy" {
                        v["authenticationMethodConfigurations"] =
                            json!(t.items("policies/authenticationMethodsPolicy/authenticationMethodConfigurations"));
                    }
                    let mut out = Map::new();
                    out.insert(
                        "@odata.context".into(),
                        json!(context(base, &path, route, "/$entity")),
                    );
                    if let Value::Object(m) = select(&v, select_fields(req).as_deref(), None) {
                        out.extend(m);
                    }
                    FakeResponse::ok(Value::Object(out))
                }
                None => not_found(&path),
            },
            (Target::Route, Method::PATCH, Shape::Singleton) => {
                let body = req.json();
                if !body.is_object() {
                    return Some(bad_request("Invalid request body."));
                }
                if t.update_singleton(&store, &body) {
                    FakeResponse::no_content()
                } else {
                    not_found(&path)
                }
            }
            (Target::Route, Method::POST, Shape::Collection) => {
                self.create(req, base, t, route, &path, &store)
            }
            (Target::Item(id), method, _) => {
                self.item(req, base, t, route, &path, &store, &id, method)
            }
            (Target::Ref, Method::POST, _) => {
                let body = req.json();
                let Some(member) = body["@odata.id"]
                    .as_str()
                    .and_then(|u| u.rsplit('/').next())
                    .map(str::to_string)
                else {
                    return Some(bad_request("Invalid request body: @odata.id is required."));
                };
                if !t.types.contains_key(&member) {
                    return Some(not_found(&member));
                }
                let (parent, relation) = path.rsplit_once('/').unwrap_or((&path, ""));
                if t.add_reference(parent, relation, &member) {
                    FakeResponse::no_content()
                } else {
                    bad_request(&format!(
                        "One or more added object references already exist for the following modified properties: '{relation}'."
                    ))
                }
            }
            (Target::RefItem(member), Method::DELETE, _) => {
                let (parent, relation) = path.rsplit_once('/').unwrap_or((&path, ""));
                if t.remove_reference(parent, relation, &member) {
                    FakeResponse::no_content()
                } else {
                    not_found(&member)
                }
            }
            (Target::Action(id, action), Method::POST, _) => {
                self.action(req, t, &store, &id, &action)
            }
            _ => graph_error(
                405,
                "Request_BadRequest",
                &format!(
                    "The HTTP method '{}' is not allowed on this resource.",
                    req.method
                ),
            ),
        };
        Some(resp)
    }

    fn top(&self, req: &FakeRequest, route: &Route) -> Result<Option<usize>, FakeResponse> {
        let Some((default, max)) = route.top else {
            return Ok(None);
        };
        // With `$expand` on directory objects Graph lowers a larger `$top` to 100.
        let expand_max = expands_directory_objects(req, route.path).then_some(EXPAND_PAGE_MAX);
        match req.param("$top") {
            None => Ok(Some(expand_max.map_or(default, |m| default.min(m)))),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n >= 1 && expand_max.is_some() => Ok(Some(n.min(expand_max.unwrap_or(n)))),
                Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
                _ => Err(graph_error(
                    400,
                    "Request_UnsupportedQuery",
                    &format!(
                        "Invalid page size specified: '{v}'. Must be between 1 and {max} inclusive."
                    ),
                )),
            },
        }
    }

    fn skiptoken(&self, req: &FakeRequest) -> Result<Option<PageToken>, FakeResponse> {
        let Some(raw) = req.param("$skiptoken") else {
            return Ok(None);
        };
        let Some(tok) = decode_token(raw) else {
            return Err(bad_request("Invalid page token."));
        };
        if let Some(ttl) = self.ttl
            && self.elapsed_ms().saturating_sub(tok.issued_ms) > ttl.as_millis() as u64
        {
            return Err(graph_error(
                400,
                "Directory_ExpiredPageToken",
                "The specified page token value has expired and can no longer be included in your request.",
            ));
        }
        Ok(Some(tok))
    }

    fn next_link(&self, base: &str, req: &FakeRequest, path: &str, tok: PageToken) -> String {
        let mut pairs: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| k != "$skiptoken" && k != "$deltatoken")
            .cloned()
            .collect();
        pairs.push((
            "$skiptoken".into(),
            encode_token(PageToken {
                issued_ms: self.elapsed_ms(),
                ..tok
            }),
        ));
        format!("{base}/v1.0/{path}?{}", query_string(&pairs))
    }

    #[allow(clippy::too_many_arguments)]
    fn page(
        &self,
        req: &FakeRequest,
        base: &str,
        route: &Route,
        path: &str,
        total: usize,
        at: impl Fn(usize) -> Value,
    ) -> FakeResponse {
        let top = match self.top(req, route) {
            Ok(t) => t,
            Err(e) => return e,
        };
        let start = match self.skiptoken(req) {
            Ok(t) => t.map_or(0, |t| t.pos),
            Err(e) => return e,
        };
        let end = top.map_or(total, |n| (start + n).min(total));
        let value: Vec<Value> = (start.min(end)..end).map(at).collect();
        let mut body = json!({"@odata.context": context(base, path, route, ""), "value": value});
        if end < total {
            body["@odata.nextLink"] = json!(self.next_link(
                base,
                req,
                path,
                PageToken {
                    pos: end,
                    since: 0,
                    round: 0,
                    issued_ms: 0
                }
            ));
        }
        FakeResponse::ok(body)
    }

    fn list(
        &self,
        req: &FakeRequest,
        base: &str,
        t: &EntraTenant,
        route: &Route,
        path: &str,
        store: &str,
    ) -> FakeResponse {
        let fields = select_fields(req);
        let default = (store == "users").then_some(USER_DEFAULT);
        let empty = super::Coll::default();
        let derived: Vec<Value>;
        let mut items: &[Value] = &t.colls.get(store).unwrap_or(&empty).items;
        if let Some(sp) = path
            .strip_prefix("servicePrincipals/")
            .and_then(|p| p.strip_suffix("/oauth2PermissionGrants"))
        {
            derived = t
                .colls
                .get("oauth2PermissionGrants")
                .map(|c| {
                    c.items
                        .iter()
                        .filter(|g| g["clientId"] == sp)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            items = &derived;
        }
        let expand = expand_principal(req);
        // Checked by the caller: here only a relationship the fake serves.
        let relationship = directory_expand(req, store).ok().flatten();
        let render = |item: &Value| {
            let mut v = select(item, fields.as_deref(), default);
            if let Some(sel) = &expand
                && let Some(pid) = item["principalId"].as_str()
            {
                v["principal"] = directory_object(t, pid, sel.as_deref());
            }
            // The expanded relationship, whatever `$select` names (as Graph does).
            if let Some(relation) = relationship
                && let Some(id) = item["id"].as_str()
            {
                v[relation] = expanded(t, store, id, relation);
            }
            v
        };
        if let Some(f) = req.param("$filter") {
            let Some(filter) = parse_filter(f) else {
                return graph_error(
                    400,
                    "Request_UnsupportedQuery",
                    &format!("Unsupported or invalid query filter clause specified: '{f}'."),
                );
            };
            // The matching positions, computed once per filter and tenant state, so that each
            // page costs the page and not a scan of the collection.
            let key = (path.to_string(), f.to_string());
            let hits = {
                let mut cache = lock(&self.filters);
                match cache.get(&key) {
                    Some((clock, hits)) if *clock == t.clock => hits.clone(),
                    _ => {
                        let hits: Arc<Vec<usize>> = Arc::new(
                            items
                                .iter()
                                .enumerate()
                                .filter(|(_, i)| filter_ok(i, &filter))
                                .map(|(n, _)| n)
                                .collect(),
                        );
                        if cache.len() > 64 {
                            cache.clear();
                        }
                        cache.insert(key, (t.clock, hits.clone()));
                        hits
                    }
                }
            };
            return self.page(req, base, route, path, hits.len(), |i| {
                render(&items[hits[i]])
            });
        }
        self.page(req, base, route, path, items.len(), |i| render(&items[i]))
    }

    fn relation(
        &self,
        req: &FakeRequest,
        base: &str,
        t: &EntraTenant,
        route: &Route,
        path: &str,
    ) -> FakeResponse {
        let fields = select_fields(req);
        let empty = Vec::new();
        let ids = t.rels.get(path).unwrap_or(&empty);
        self.page(req, base, route, path, ids.len(), |i| {
            directory_object(t, &ids[i], fields.as_deref())
        })
    }

    fn delta(&self, req: &FakeRequest, base: &str, t: &EntraTenant, route: &Route) -> FakeResponse {
        let coll = if route.path.starts_with("users") {
            "users"
        } else {
            "groups"
        };
        let fields = select_fields(req);
        let default = (coll == "users").then_some(USER_DEFAULT);
        // Members come without `$select` too; owners (any other directoryObject collection
        // relationship, Graph says) only when selected.
        let members_wanted = coll == "groups"
            && fields
                .as_ref()
                .is_none_or(|f| f.iter().any(|s| s == "members"));
        let owners_wanted = coll == "groups"
            && fields
                .as_ref()
                .is_some_and(|f| f.iter().any(|s| s == "owners"));
        let top = match self.top(req, route) {
            Ok(t) => t.unwrap_or(100),
            Err(e) => return e,
        };
        // Where this round starts: a skiptoken (mid-round), a deltatoken (a new round since
        // then), or nothing (a full round).
        let tok = match (self.skiptoken(req), req.param("$deltatoken")) {
            (Err(e), _) => return e,
            (Ok(Some(tok)), _) => tok,
            // Graph's `$deltatoken=latest`: no objects, a delta link for the current state.
            (Ok(None), Some("latest")) => PageToken {
                pos: 0,
                since: t.clock,
                round: t.clock,
                issued_ms: 0,
            },
            (Ok(None), Some(d)) => match decode_token(d) {
                Some(d) => PageToken {
                    pos: 0,
                    since: d.round,
                    round: t.clock,
                    issued_ms: 0,
                },
                None => return bad_request("Invalid delta token."),
            },
            (Ok(None), None) => PageToken {
                pos: 0,
                since: 0,
                round: t.clock,
                issued_ms: 0,
            },
        };
        let empty = super::Coll::default();
        let items = t.colls.get(coll).unwrap_or(&empty);
        let reference_list = |gid: &str, relation: &str| -> Vec<Value> {
            t.rels
                .get(&format!("groups/{gid}/{relation}"))
                .map(|ids| {
                    ids.iter()
                        .map(|m| json!({"@odata.type": type_of(t, m), "id": m}))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut value = Vec::new();
        let total;
        if tok.since == 0 {
            total = items.items.len();
            for item in items.items.iter().skip(tok.pos).take(top) {
                let mut v = select(item, fields.as_deref(), default);
                let gid = item["id"].as_str().unwrap_or_default();
                if members_wanted {
                    v["members@delta"] = json!(reference_list(gid, "members"));
                }
                if owners_wanted {
                    v["owners@delta"] = json!(reference_list(gid, "owners"));
                }
                value.push(v);
            }
        } else {
            // Changes in (since, round], each object once, in order of its first change.
            let from = t.log.partition_point(|c| c.clock <= tok.since);
            let mut seen = HashSet::new();
            let mut changed: Vec<&str> = Vec::new();
            // (group id, relation) -> the relation's changes, in order.
            let mut reference_changes: BTreeMap<(&str, &str), Vec<Value>> = BTreeMap::new();
            for c in &t.log[from..] {
                if c.clock > tok.round || c.coll != coll {
                    continue;
                }
                // Ownership is not tracked unless selected: its changes do not name the group.
                if matches!(&c.kind, ChangeKind::Reference("owners", _, _)) && !owners_wanted {
                    continue;
                }
                if seen.insert(c.id.as_str()) {
                    changed.push(c.id.as_str());
                }
                if let ChangeKind::Reference(relation, m, added) = &c.kind {
                    let mut entry = json!({"@odata.type": type_of(t, m), "id": m});
                    if !added {
                        entry["@removed"] = json!({"reason": "deleted"});
                    }
                    reference_changes
                        .entry((c.id.as_str(), relation))
                        .or_default()
                        .push(entry);
                }
            }
            total = changed.len();
            for id in changed.iter().skip(tok.pos).take(top) {
                match items.get(id) {
                    Some(item) => {
                        let mut v = select(item, fields.as_deref(), default);
                        for (relation, wanted) in
                            [("members", members_wanted), ("owners", owners_wanted)]
                        {
                            if wanted && let Some(m) = reference_changes.get(&(*id, relation)) {
                                v[format!("{relation}@delta")] = json!(m);
                            }
                        }
                        value.push(v);
                    }
                    None => {
                        let reason =
                            t.log[from..]
                                .iter()
                                .rev()
                                .find_map(|c| match (&c.kind, c.id == *id) {
                                    (ChangeKind::Removed(r), true) => Some(*r),
                                    _ => None,
                                });
                        value.push(
                            json!({"id": id, "@removed": {"reason": reason.unwrap_or("changed")}}),
                        );
                    }
                }
            }
        }
        let end = tok.pos + value.len();
        let mut body =
            json!({"@odata.context": format!("{base}/v1.0/$metadata#{coll}"), "value": value});
        if end < total {
            body["@odata.nextLink"] =
                json!(self.next_link(base, req, route.path, PageToken { pos: end, ..tok }));
        } else {
            let mut pairs: Vec<(String, String)> = req
                .query
                .iter()
                .filter(|(k, _)| k != "$skiptoken" && k != "$deltatoken" && k != "$top")
                .cloned()
                .collect();
            pairs.push((
                "$deltatoken".into(),
                encode_token(PageToken {
                    pos: 0,
                    since: 0,
                    round: tok.round,
                    issued_ms: 0,
                }),
            ));
            body["@odata.deltaLink"] = json!(format!(
                "{base}/v1.0/{}?{}",
                route.path,
                query_string(&pairs)
            ));
        }
        FakeResponse::ok(body)
    }

    fn create(
        &self,
        req: &FakeRequest,
        base: &str,
        t: &mut EntraTenant,
        route: &Route,
        path: &str,
        store: &str,
    ) -> FakeResponse {
        let mut body = req.json();
        if !body.is_object() {
            return bad_request("Invalid request body.");
        }
        let now = now_iso();
        match store {
            "users" => {
                if let Some(refused) = missing_property(
                    &body,
                    &[
                        "displayName",
                        "userPrincipalName",
                        "mailNickname",
                        "accountEnabled",
                    ],
                ) {
                    return refused;
                }
                let upn = body["userPrincipalName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase();
                if t.colls.get("users").is_some_and(|c| {
                    c.items.iter().any(|u| {
                        u["userPrincipalName"]
                            .as_str()
                            .is_some_and(|x| x.to_lowercase() == upn)
                    })
                }) {
                    return bad_request(
                        "Another object with the same value for property userPrincipalName already exists.",
                    );
                }
                if let Some(map) = body.as_object_mut() {
                    map.remove("passwordProfile");
                    // Graph gives every new user its userPrincipalName identity and, with a
                    // mail address, the matching primary SMTP proxy address.
                    if map
                        .get("identities")
                        .is_none_or(|v| v.as_array().is_some_and(|a| a.is_empty()))
                    {
                        map.insert(
                            "identities".into(),
                            json!([{"signInType": "userPrincipalName", "issuer": t.domain,
                                "issuerAssignedId": map.get("userPrincipalName").cloned()}]),
                        );
                    }
                    if !map.contains_key("proxyAddresses")
                        && let Some(mail) = map.get("mail").and_then(Value::as_str)
                    {
                        let smtp = json!([format!("SMTP:{mail}")]);
                        map.insert("proxyAddresses".into(), smtp);
                    }
                    map.entry("onPremisesImmutableId").or_insert(Value::Null);
                    for k in [
                        "businessPhones",
                        "otherMails",
                        "proxyAddresses",
                        "identities",
                    ] {
                        map.entry(k).or_insert(json!([]));
                    }
                    for k in [
                        "givenName",
                        "surname",
                        "jobTitle",
                        "mail",
                        "mobilePhone",
                        "officeLocation",
                        "preferredLanguage",
                        "department",
                    ] {
                        map.entry(k).or_insert(Value::Null);
                    }
                    map.entry("userType").or_insert(json!("Member"));
                }
            }
            "groups" => {
                if let Some(refused) = missing_property(
                    &body,
                    &[
                        "displayName",
                        "mailEnabled",
                        "mailNickname",
                        "securityEnabled",
                    ],
                ) {
                    return refused;
                }
                if let Some(map) = body.as_object_mut() {
                    map.entry("groupTypes").or_insert(json!([]));
                    map.entry("membershipRule").or_insert(Value::Null);
                    map.entry("membershipRuleProcessingState")
                        .or_insert(Value::Null);
                    map.entry("description").or_insert(Value::Null);
                    map.entry("isAssignableToRole").or_insert(Value::Null);
                    // Graph fills these on every new group (read-only properties).
                    map.entry("proxyAddresses").or_insert(json!([]));
                    map.entry("onPremisesSyncEnabled").or_insert(Value::Null);
                }
            }
            "applications" => {
                if let Some(refused) = missing_property(&body, &["displayName"]) {
                    return refused;
                }
                let app_id = t.new_guid();
                body["appId"] = json!(app_id);
                for k in [
                    "passwordCredentials",
                    "keyCredentials",
                    "appRoles",
                    "identifierUris",
                    "requiredResourceAccess",
                    "tags",
                ] {
                    if body.get(k).is_none() {
                        body[k] = json!([]);
                    }
                }
                body["publisherDomain"] = json!(t.domain);
                body["signInAudience"] = body
                    .get("signInAudience")
                    .cloned()
                    .unwrap_or(json!("AzureADMyOrg"));
            }
            "servicePrincipals" => {
                let Some(app_id) = body["appId"].as_str().map(str::to_string) else {
                    return bad_request("Property 'appId' is required when creating the object.");
                };
                if t.colls
                    .get("servicePrincipals")
                    .is_some_and(|c| c.items.iter().any(|s| s["appId"] == app_id.as_str()))
                {
                    return graph_error(
                        409,
                        "Request_MultipleObjectsWithSameKeyValue",
                        "The service principal cannot be created, updated, or restored because the service principal name is already in use.",
                    );
                }
                let Some(app) = t
                    .colls
                    .get("applications")
                    .and_then(|c| c.items.iter().find(|a| a["appId"] == app_id.as_str()))
                    .cloned()
                else {
                    return bad_request(&format!(
                        "The appId '{app_id}' of the service principal does not reference a valid application object."
                    ));
                };
                let name = app["displayName"].clone();
                for (k, v) in [
                    ("displayName", name.clone()),
                    ("appDisplayName", name),
                    ("appRoles", app["appRoles"].clone()),
                    ("servicePrincipalNames", json!([app_id])),
                    ("appOwnerOrganizationId", json!(t.tenant_id)),
                    ("servicePrincipalType", json!("Application")),
                    ("passwordCredentials", json!([])),
                    ("keyCredentials", json!([])),
                    ("tags", json!([])),
                    ("accountEnabled", json!(true)),
                ] {
                    if body.get(k).is_none() {
                        body[k] = v;
                    }
                }
            }
            _ if store.starts_with("servicePrincipals/")
                && store.ends_with("/appRoleAssignedTo") =>
            {
                let resource = path.split('/').nth(1).unwrap_or_default().to_string();
                let Some(principal) = body["principalId"].as_str().map(str::to_string) else {
                    return bad_request("principalId is required.");
                };
                let Some((kind, p)) = t.object(&principal) else {
                    return not_found(&principal);
                };
                let principal_type = match kind {
                    "users" => "User",
                    "groups" => "Group",
                    _ => "ServicePrincipal",
                };
                let principal_name = p["displayName"].clone();
                let sp = t
                    .colls
                    .get("servicePrincipals")
                    .and_then(|c| c.get(&resource));
                let resource_name = sp.map(|s| s["displayName"].clone()).unwrap_or(Value::Null);
                let role = body["appRoleId"]
                    .as_str()
                    .unwrap_or("00000000-0000-0000-0000-000000000000")
                    .to_string();
                let known = role == "00000000-0000-0000-0000-000000000000"
                    || sp.is_some_and(|s| {
                        s["appRoles"]
                            .as_array()
                            .is_some_and(|r| r.iter().any(|x| x["id"] == role.as_str()))
                    });
                if !known {
                    return bad_request("Permission being assigned was not found on application");
                }
                if t.colls.get(store).is_some_and(|c| {
                    c.items.iter().any(|a| {
                        a["principalId"] == principal.as_str() && a["appRoleId"] == role.as_str()
                    })
                }) {
                    return bad_request("Permission being assigned already exists on the object");
                }
                body["id"] = json!(b64url(t.new_guid().as_bytes()));
                body["appRoleId"] = json!(role);
                body["resourceId"] = json!(resource);
                body["principalType"] = json!(principal_type);
                body["principalDisplayName"] = principal_name;
                body["resourceDisplayName"] = resource_name;
                body["createdDateTime"] = json!(now);
                body["deletedDateTime"] = Value::Null;
            }
            "oauth2PermissionGrants" => {
                for p in ["clientId", "resourceId"] {
                    let Some(id) = body[p].as_str() else {
                        return bad_request(&format!("{p} is required."));
                    };
                    if !t.types.contains_key(id) {
                        return not_found(id);
                    }
                }
                body["id"] = json!(b64url(t.new_guid().as_bytes()));
            }
            "roleManagement/directory/roleAssignments" => {
                let (Some(p), Some(r)) = (
                    body["principalId"].as_str(),
                    body["roleDefinitionId"].as_str(),
                ) else {
                    return bad_request("principalId and roleDefinitionId are required.");
                };
                if !t.types.contains_key(p) {
                    return not_found(p);
                }
                if t.colls
                    .get("roleManagement/directory/roleDefinitions")
                    .and_then(|c| c.get(r))
                    .is_none()
                {
                    return not_found(r);
                }
                let scope = body["directoryScopeId"].as_str().unwrap_or("/").to_string();
                if t.colls.get(store).is_some_and(|c| {
                    c.items.iter().any(|a| {
                        a["principalId"] == p
                            && a["roleDefinitionId"] == r
                            && a["directoryScopeId"] == scope.as_str()
                    })
                }) {
                    return graph_error(
                        409,
                        "Request_BadRequest",
                        "A conflicting object with one or more of the specified property values is present in the directory.",
                    );
                }
                body["id"] = json!(b64url(t.new_guid().as_bytes()));
                body["directoryScopeId"] = json!(scope);
            }
            "identity/conditionalAccess/policies" => {
                if body.get("conditions").is_none() || body.get("displayName").is_none() {
                    return bad_request(
                        "1037: The policy is missing required properties: displayName, conditions.",
                    );
                }
                body["modifiedDateTime"] = Value::Null;
                if body.get("templateId").is_none() {
                    body["templateId"] = Value::Null;
                }
            }
            "identity/conditionalAccess/namedLocations" => {
                if body.get("@odata.type").is_none() {
                    return bad_request(
                        "@odata.type is required: #microsoft.graph.ipNamedLocation or #microsoft.graph.countryNamedLocation.",
                    );
                }
                body["modifiedDateTime"] = json!(now);
            }
            s if s.starts_with("servicePrincipals/") && s.ends_with("/appRoleAssignedTo") => {
                // Graph derives the principal's type and both display names.
                let principal = body["principalId"].as_str().unwrap_or_default().to_string();
                let Some((coll, obj)) = t.object(&principal) else {
                    return not_found(&principal);
                };
                let kind = match coll {
                    "users" => "User",
                    "groups" => "Group",
                    _ => "ServicePrincipal",
                };
                body["principalType"] = json!(kind);
                body["principalDisplayName"] = obj["displayName"].clone();
                let resource = body["resourceId"].as_str().unwrap_or_default().to_string();
                body["resourceDisplayName"] = t
                    .object(&resource)
                    .map(|(_, r)| r["displayName"].clone())
                    .unwrap_or(Value::Null);
                body["createdDateTime"] = json!(now);
                body["deletedDateTime"] = Value::Null;
            }
            _ => {}
        }
        if let Some(mut full) = super::generate::template(store, &t.tenant_id, &t.domain) {
            if let Some(map) = full.as_object_mut() {
                map.remove("id");
            }
            merge(&mut full, &body);
            body = full;
        }
        if let Some(map) = body.as_object_mut() {
            map.remove("@odata.context");
            if route.key == "id" && !map.get("id").is_some_and(Value::is_string) {
                map.insert("id".into(), Value::Null);
            }
        }
        if route.key == "id" && body["id"].is_null() {
            body["id"] = json!(t.new_guid());
        }
        if matches!(
            store,
            "users"
                | "groups"
                | "applications"
                | "servicePrincipals"
                | "identity/conditionalAccess/policies"
                | "identity/conditionalAccess/namedLocations"
                | "directory/administrativeUnits"
        ) {
            body["createdDateTime"] = json!(now);
            if DIRECTORY.iter().any(|(c, _)| *c == store) {
                body["deletedDateTime"] = Value::Null;
            }
        }
        if t.colls.get(store).is_some_and(|c| {
            c.get(body[route.key].as_str().unwrap_or_default())
                .is_some()
        }) {
            return graph_error(
                409,
                "Request_MultipleObjectsWithSameKeyValue",
                "An object with the same key already exists.",
            );
        }
        let id = t.insert(store, body.clone());
        let mut out = Map::new();
        out.insert(
            "@odata.context".into(),
            json!(context(base, path, route, "/$entity")),
        );
        if let Value::Object(m) = body {
            out.extend(m);
        }
        FakeResponse::status(201, Value::Object(out))
            .with_header("location", format!("{base}/v1.0/{path}/{id}"))
    }

    #[allow(clippy::too_many_arguments)]
    fn item(
        &self,
        req: &FakeRequest,
        base: &str,
        t: &mut EntraTenant,
        route: &Route,
        path: &str,
        store: &str,
        id: &str,
        method: Method,
    ) -> FakeResponse {
        let id = resolve_id(t, store, id);
        let item_path = format!("{path}/{id}");
        let Some(item) = t.colls.get(store).and_then(|c| c.get(&id)).cloned() else {
            return not_found(&id);
        };
        match method {
            Method::GET => {
                let fields = select_fields(req);
                let default = (store == "users").then_some(USER_DEFAULT);
                let mut out = Map::new();
                out.insert(
                    "@odata.context".into(),
                    json!(context(base, path, route, "/$entity")),
                );
                if let Value::Object(m) = select(&item, fields.as_deref(), default) {
                    out.extend(m);
                }
                FakeResponse::ok(Value::Object(out))
            }
            Method::PATCH => {
                let mut body = req.json();
                let Some(map) = body.as_object_mut() else {
                    return bad_request("Invalid request body.");
                };
                map.remove("id");
                map.remove("passwordProfile");
                if store == "identity/conditionalAccess/policies"
                    || store == "identity/conditionalAccess/namedLocations"
                {
                    map.insert("modifiedDateTime".into(), json!(now_iso()));
                }
                t.update(store, &id, &body);
                FakeResponse::no_content()
            }
            Method::DELETE => {
                let _ = item_path;
                t.remove(store, &id, "changed");
                FakeResponse::no_content()
            }
            _ => graph_error(
                405,
                "Request_BadRequest",
                "The HTTP method is not allowed on this resource.",
            ),
        }
    }

    fn action(
        &self,
        req: &FakeRequest,
        t: &mut EntraTenant,
        store: &str,
        id: &str,
        action: &str,
    ) -> FakeResponse {
        if t.colls.get(store).and_then(|c| c.get(id)).is_none() {
            return not_found(id);
        }
        let body = req.json();
        if action == "addPassword" {
            let cred = &body["passwordCredential"];
            let secret = format!(
                "SENTINEL-added-secret-{}~{}",
                t.tick(),
                b64url(t.new_guid().as_bytes())
            );
            t.sentinels.push(secret.clone());
            let key_id = t.new_guid();
            let now = now_iso();
            let meta = json!({"customKeyIdentifier": null, "displayName": cred["displayName"].clone(), "endDateTime": cred.get("endDateTime").cloned().unwrap_or(json!("2099-01-01T00:00:00Z")),
                "hint": secret.chars().take(3).collect::<String>(), "keyId": key_id, "secretText": null, "startDateTime": cred.get("startDateTime").cloned().unwrap_or(json!(now))});
            let mut list = t
                .colls
                .get(store)
                .and_then(|c| c.get(id))
                .and_then(|i| i["passwordCredentials"].as_array().cloned())
                .unwrap_or_default();
            list.push(meta.clone());
            t.update(store, id, &json!({"passwordCredentials": list}));
            let mut out = meta;
            out["secretText"] = json!(secret);
            out["@odata.context"] = json!(
                "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.passwordCredential"
            );
            return FakeResponse::ok(out);
        }
        let Some(key_id) = body["keyId"].as_str() else {
            return bad_request("keyId is required.");
        };
        let list = t
            .colls
            .get(store)
            .and_then(|c| c.get(id))
            .and_then(|i| i["passwordCredentials"].as_array().cloned())
            .unwrap_or_default();
        if !list.iter().any(|c| c["keyId"] == key_id) {
            return graph_error(
                400,
                "Request_BadRequest",
                &format!("No password credential found with keyId {key_id}."),
            );
        }
        let kept: Vec<Value> = list.into_iter().filter(|c| c["keyId"] != key_id).collect();
        t.update(store, id, &json!({"passwordCredentials": kept}));
        FakeResponse::no_content()
    }

    fn batch(&self, req: &FakeRequest, base: &str, t: &mut EntraTenant) -> FakeResponse {
        let body = req.json();
        let Some(requests) = body["requests"].as_array() else {
            return graph_error(400, "BadRequest", "Invalid batch payload format.");
        };
        if requests.len() > 20 {
            return graph_error(
                400,
                "BadRequest",
                "The number of batch requests exceeds the maximum of 20.",
            );
        }
        let mut ids = HashSet::new();
        let mut responses = Vec::new();
        for r in requests {
            let id = r["id"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| r["id"].to_string());
            if !ids.insert(id.clone()) {
                return graph_error(400, "BadRequest", "Batch request ids must be unique.");
            }
            let Some(url) = r["url"].as_str() else {
                return graph_error(
                    400,
                    "BadRequest",
                    "Invalid batch payload format: a request has no url.",
                );
            };
            let Ok(method) = Method::from_bytes(
                r["method"]
                    .as_str()
                    .unwrap_or("GET")
                    .to_uppercase()
                    .as_bytes(),
            ) else {
                return graph_error(
                    400,
                    "BadRequest",
                    "Invalid batch payload format: bad method.",
                );
            };
            let (path, query) = split_url(url);
            let mut headers = HeaderMap::new();
            if let Some(auth) = req.headers.get("authorization") {
                headers.insert("authorization", auth.clone());
            }
            let inner = FakeRequest {
                method,
                path: format!("/v1.0/{path}"),
                query,
                headers,
                body: r
                    .get("body")
                    .map(|b| Bytes::from(b.to_string()))
                    .unwrap_or_default(),
            };
            let resp = match self.batch_fault(&inner) {
                Some(r) => Some(r),
                None => self.graph(&inner, base, t, true),
            };
            let resp = resp.unwrap_or_else(|| {
                graph_error(
                    400,
                    "BadRequest",
                    &format!(
                        "Resource not found for the segment '{}'.",
                        path.split('/').next().unwrap_or_default()
                    ),
                )
            });
            let mut h = Map::new();
            h.insert("request-id".into(), json!(self.request_id()));
            if resp.body.is_some() {
                h.insert("Content-Type".into(), json!("application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"));
            }
            for (k, v) in &resp.headers {
                h.insert(k.clone(), json!(v));
            }
            let mut entry = json!({"id": id, "status": resp.status, "headers": h});
            if let Some(b) = resp.body {
                entry["body"] = b;
            }
            responses.push(entry);
        }
        FakeResponse::ok(json!({"responses": responses}))
    }

    /// The injected answer of a batched request, if a batch fault fires for it.
    fn batch_fault(&self, req: &FakeRequest) -> Option<FakeResponse> {
        let mut faults = lock(&self.batch_faults);
        for (rule, seen, fired) in faults.iter_mut() {
            if req.path.starts_with(&rule.path_prefix)
                && rule.method.as_ref().is_none_or(|m| *m == req.method)
            {
                *seen += 1;
                if *fired < rule.times && (*seen).is_multiple_of(rule.every) {
                    *fired += 1;
                    return match &rule.fault {
                        Fault::Status(code) => Some(FakeResponse {
                            body: Some(self.fault_body(*code)),
                            ..graph_error(*code, "", "")
                        }),
                        Fault::RateLimited => Some(
                            FakeResponse {
                                body: Some(self.rate_limited_body()),
                                ..graph_error(429, "", "")
                            }
                            .with_header("Retry-After", "1"),
                        ),
                        Fault::RateLimitedNoHeaders => Some(FakeResponse {
                            body: Some(self.rate_limited_body()),
                            ..graph_error(429, "", "")
                        }),
                        _ => None,
                    };
                }
            }
        }
        None
    }

    fn request_id(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        super::generate::guid_from(
            super::generate::mix(0x7e9, n),
            super::generate::mix(n, 0x1d),
        )
    }
}

fn split_url(url: &str) -> (String, Vec<(String, String)>) {
    let url = url
        .trim_start_matches("https://graph.microsoft.com")
        .trim_start_matches("/v1.0")
        .trim_start_matches('/');
    let (path, q) = url.split_once('?').unwrap_or((url, ""));
    (
        path.trim_end_matches('/').to_string(),
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect(),
    )
}

/// `$expand=principal` or `principal($select=a,b)`: `Some(select)`.
fn expand_principal(req: &FakeRequest) -> Option<Option<Vec<String>>> {
    let e = req.param("$expand")?.trim();
    let rest = e.strip_prefix("principal")?;
    if rest.is_empty() {
        return Some(None);
    }
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
    let sel = inner.strip_prefix("$select=")?;
    Some(Some(sel.split(',').map(|f| f.trim().to_string()).collect()))
}

/// Graph returns at most this many objects of a relationship expanded on directory objects
/// (and no nextLink for the rest).
const EXPAND_MAX: usize = 20;
/// With `$expand` on directory objects a page holds at most this many objects.
const EXPAND_PAGE_MAX: usize = 100;

/// The relationships (navigation properties, from the CSDL) of the directory-object
/// collections whose listings the fake expands, and the ones it serves expanded.
const EXPANDABLE: &[(&str, &str, &[&str], &[&str])] = &[
    (
        "applications",
        "application",
        &["owners", "federatedIdentityCredentials"],
        &[
            "appManagementPolicies",
            "createdOnBehalfOf",
            "extensionProperties",
            "homeRealmDiscoveryPolicies",
            "synchronization",
            "tokenIssuancePolicies",
            "tokenLifetimePolicies",
        ],
    ),
    (
        "servicePrincipals",
        "servicePrincipal",
        &["owners", "appRoleAssignedTo"],
        &[
            "appManagementPolicies",
            "appRoleAssignments",
            "claimsMappingPolicies",
            "createdObjects",
            "delegatedPermissionClassifications",
            "endpoints",
            "federatedIdentityCredentials",
            "homeRealmDiscoveryPolicies",
            "memberOf",
            "oauth2PermissionGrants",
            "ownedObjects",
            "remoteDesktopSecurityConfiguration",
            "synchronization",
            "tokenIssuancePolicies",
            "tokenLifetimePolicies",
            "transitiveMemberOf",
        ],
    ),
];

/// Whether `$expand` on this route is Graph's `$expand` on directory objects (the fake's
/// application and service principal listings).
fn expands_directory_objects(req: &FakeRequest, store: &str) -> bool {
    req.param("$expand").is_some() && EXPANDABLE.iter().any(|(c, ..)| *c == store)
}

/// `$expand` on an application or service principal listing: `Ok(Some(relationship))`,
/// `Ok(None)` without one (or on another route), `Err(Some(400))` for what Graph refuses (more
/// than one property, nested options or levels, a name that is no relationship of the type),
/// `Err(None)` for a relationship of the type the fake does not model (answered as an
/// unknown request).
fn directory_expand(
    req: &FakeRequest,
    store: &str,
) -> Result<Option<&'static str>, Option<FakeResponse>> {
    let Some(raw) = req.param("$expand").map(str::trim) else {
        return Ok(None);
    };
    let Some((_, ty, served, unserved)) = EXPANDABLE.iter().find(|(c, ..)| *c == store) else {
        return Ok(None);
    };
    if raw.is_empty() {
        return Ok(None);
    }
    let unsupported =
        |message: &str| Err(Some(graph_error(400, "Request_UnsupportedQuery", message)));
    if raw.contains('(') {
        return unsupported("Query options inside $expand are not supported on directory objects.");
    }
    if raw.contains(',') {
        return unsupported("Only one relationship can be expanded on directory objects.");
    }
    if raw.contains('/') {
        return unsupported("Only one level of $expand is supported on directory objects.");
    }
    if let Some(name) = served.iter().find(|n| n.eq_ignore_ascii_case(raw)) {
        return Ok(Some(name));
    }
    if unserved.iter().any(|n| n.eq_ignore_ascii_case(raw)) {
        return Err(None);
    }
    Err(Some(graph_error(
        400,
        "BadRequest",
        &format!(
            "Parsing OData Select and Expand failed: Could not find a property named '{raw}' on type 'microsoft.graph.{ty}'."
        ),
    )))
}

/// The first [`EXPAND_MAX`] objects of `{store}/{id}/{relation}`, in the order (and the
/// rendering) of the relation's own listing.
fn expanded(t: &EntraTenant, store: &str, id: &str, relation: &str) -> Value {
    let path = format!("{store}/{id}/{relation}");
    let objects: Vec<Value> = if relation == "owners" {
        t.rels
            .get(&path)
            .map(|ids| {
                ids.iter()
                    .take(EXPAND_MAX)
                    .map(|o| directory_object(t, o, None))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        t.colls
            .get(&path)
            .map(|c| c.items.iter().take(EXPAND_MAX).cloned().collect())
            .unwrap_or_default()
    };
    Value::Array(objects)
}

fn select_fields(req: &FakeRequest) -> Option<Vec<String>> {
    req.param("$select").map(|s| {
        s.split(',')
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect()
    })
}

fn type_of(t: &EntraTenant, id: &str) -> &'static str {
    t.types
        .get(id)
        .and_then(|c| DIRECTORY.iter().find(|(n, _)| n == c))
        .map_or("#microsoft.graph.directoryObject", |(_, ty)| ty)
}

fn directory_object(t: &EntraTenant, id: &str, fields: Option<&[String]>) -> Value {
    match t.object(id) {
        Some((coll, v)) => {
            let default = (coll == "users").then_some(USER_DEFAULT);
            let mut out = Map::new();
            out.insert("@odata.type".into(), json!(type_of(t, id)));
            if let Value::Object(m) = select(v, fields, default) {
                out.extend(m);
            }
            Value::Object(out)
        }
        None => json!({"@odata.type": "#microsoft.graph.directoryObject", "id": id}),
    }
}

/// Users answer by UPN as well as by id.
fn resolve_id(t: &EntraTenant, store: &str, id: &str) -> String {
    if store == "users"
        && id.contains('@')
        && t.colls.get("users").and_then(|c| c.get(id)).is_none()
    {
        let want = id.to_lowercase();
        if let Some(u) = t.colls.get("users").and_then(|c| {
            c.items.iter().find(|u| {
                u["userPrincipalName"]
                    .as_str()
                    .is_some_and(|x| x.to_lowercase() == want)
            })
        }) {
            return u["id"].as_str().unwrap_or(id).to_string();
        }
    }
    id.to_string()
}

impl FakeApi for GraphApi {
    fn handle(&self, req: &FakeRequest, base: &str) -> Option<FakeResponse> {
        let mut t = lock(&self.tenant);
        if req.method == Method::POST
            && let Some(known) = self.token_path(&req.path, &t)
        {
            return Some(self.token(req, known, &mut t));
        }
        let resp = self.graph(req, base, &mut t, false)?;
        let cost = self.request_cost(&req.method, &req.path, &req.query, &req.body);
        let rid = self.request_id();
        let client_rid = req
            .header("client-request-id")
            .map_or_else(|| rid.clone(), str::to_string);
        Some(
            resp.with_header("request-id", rid)
                .with_header("client-request-id", client_rid)
                .with_header("x-ms-ags-diagnostic", r#"{"ServerInfo":{"DataCenter":"Fake Region","Slice":"E","Ring":"5","ScaleUnit":"001","RoleInstance":"FAKE0000"}}"#)
                .with_header("x-ms-resource-unit", cost.to_string())
                .with_header("odata-version", "4.0")
                .with_header("cache-control", "no-cache"),
        )
    }

    fn bucket(&self, method: &Method, path: &str) -> String {
        if path.ends_with("/oauth2/v2.0/token") {
            "token".into()
        } else if *method != Method::GET && path.trim_end_matches('/') != "/v1.0/$batch" {
            "identity-write".into()
        } else {
            "identity".into()
        }
    }

    fn rate_limited_body(&self) -> Value {
        json!({"error": {"code": "TooManyRequests", "message": "Too many requests.", "innerError": {"date": now_iso(), "request-id": "00000000-0000-0000-0000-000000000000", "client-request-id": "00000000-0000-0000-0000-000000000000"}}})
    }

    fn is_write(&self, method: &Method, path: &str) -> bool {
        *method != Method::GET
            && !path.ends_with("/oauth2/v2.0/token")
            && path.trim_end_matches('/') != "/v1.0/$batch"
    }

    fn fault_body(&self, status: u16) -> Value {
        let (code, message) = match status {
            503 => (
                "serviceNotAvailable",
                "The service is temporarily unavailable. Please retry later.",
            ),
            504 => ("UnknownError", "The gateway timed out."),
            500 => ("generalException", "An unspecified error has occurred."),
            _ => ("UnknownError", "An error occurred (injected fault)."),
        };
        graph_error(status, code, message)
            .body
            .unwrap_or(Value::Null)
    }

    fn fault_rate_limit_headers(&self) -> [&'static str; 3] {
        // Graph sends no limit/remaining/reset headers: these names carry the framework's
        // values without meaning anything to a Graph client.
        ["x-ms-fake-limit", "x-ms-fake-remaining", "x-ms-fake-reset"]
    }

    fn cost(&self, req: &FakeRequest) -> u32 {
        self.request_cost(&req.method, &req.path, &req.query, &req.body)
    }

    fn limit_headers(
        &self,
        limit: u32,
        used: u32,
        reset_in: Duration,
        refused: bool,
    ) -> Option<Vec<(String, String)>> {
        if refused {
            let n = self.throttled.fetch_add(1, Ordering::Relaxed);
            let mut h = vec![(
                "x-ms-throttle-limit-percentage".to_string(),
                "1.0".to_string(),
            )];
            // Graph sometimes throttles without saying how long to wait.
            if n % 4 != 3 {
                h.push((
                    "retry-after".to_string(),
                    reset_in.as_secs_f64().ceil().max(1.0).to_string(),
                ));
            }
            return Some(h);
        }
        let share = f64::from(used) / f64::from(limit.max(1));
        Some(if share >= 0.8 {
            vec![(
                "x-ms-throttle-limit-percentage".to_string(),
                format!("{:.1}", share.min(1.0)),
            )]
        } else {
            vec![]
        })
    }
}
