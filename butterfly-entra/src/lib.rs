//! # butterfly-entra
//!
//! The Microsoft Entra ID provider for butterfly (Microsoft Graph v1.0): backs up every kind
//! in the [kinds table](kinds) (users including disabled ones, groups and their members and
//! owners, applications, service principals, app role assignments, consent grants,
//! conditional access policies, named locations, authentication methods and strengths,
//! directory roles, role definitions and assignments, PIM eligibility, administrative units,
//! cross-tenant access, identity providers, domains, organization and branding, token
//! policies, authorization policy, security defaults), answers the access probe naming the
//! missing Graph application permission, and restores through the core engine.
//!
//! Credentials are OAuth 2.0 client credentials of an app registration: a certificate
//! (RS256 client assertion with `x5t`, recommended) or a client secret, in the global cloud
//! or a national one (`usgov`, `usgov-dod`, `china`). Requests stay inside a share of
//! Graph's per-10-second budget; application owners, federated credentials and app role
//! assignments come with their parents' listing through `$expand` (parents at Graph's limit of
//! 20 related objects are read on their own); other per-object listings (members, owners of
//! groups and administrative units) go through JSON `$batch` requests of 20; users are listed
//! in parallel ranges of `userPrincipalName`; an expired `$skiptoken` restarts its listing.
//! With the previous snapshot, users, groups and group memberships come from `/delta`.
//!
//! ```no_run
//! use butterfly_core::backup::{self, BackupOptions};
//! use butterfly_core::store::{FsStore, StoreExt};
//! use butterfly_entra::{EntraConfig, EntraProvider};
//!
//! # async fn run() -> butterfly_core::Result<()> {
//! // ENTRA_TENANT_ID, ENTRA_CLIENT_ID, ENTRA_CERTIFICATE_FILE, ENTRA_CERTIFICATE_THUMBPRINT
//! let entra = EntraProvider::new(EntraConfig::from_env()?)?;
//! let store = FsStore::open_default()?;
//! let (snapshot, _) = backup::run_and_save(&entra, &store, &BackupOptions::default()).await?;
//! println!("{} resources, {}", snapshot.resource_count(), snapshot.status());
//! # Ok(()) }
//! ```
//!
//! Notes: users are restored disabled with a random password that must be changed at the
//! next sign-in; passwords, MFA methods and client secrets never come back. Applications
//! re-created in a tenant get a new `appId`; conditional access conditions naming
//! applications hold `appId`s and are written back as they are.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
mod delta;
pub mod descriptor;
pub mod kinds;
pub mod terraform;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use butterfly_core::diff::{Severity, SeverityRule};
use butterfly_core::http::{BucketSpec, HttpClient, HttpStats, NextPage, Request};
use butterfly_core::provider::{AccessReport, Capabilities, FetchContext};
use butterfly_core::restore::{CannotRestore, Restorer};
use butterfly_core::table::{self, Absent, Items, TableSource};
use butterfly_core::{
    Error, ErrorKind, KindOutcome, KindRef, Provider, Resource, ResourceKind, Result, Snapshot,
};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};

pub use config::{Cloud, EntraAuth, EntraConfig, map_error};
pub use descriptor::DESCRIPTOR;
use kinds::{Delta, EntraKind, Write};

/// Graph resource units per budget period the client plans with by default (the identity
/// budget of one app in a small tenant: 3,500 RU per 10 s).
pub const DEFAULT_BUDGET: u32 = 3500;
/// Resource units of a listing request (Graph charges about 2 for a list).
pub const LIST_COST: u32 = 2;
/// Resource units of one request inside a batch (relations cost about 3).
pub const BATCHED_COST: u32 = 3;
/// Requests in one JSON batch (Graph's maximum).
pub const BATCH_SIZE: usize = 20;

/// The bucket a request is counted in: batches weigh [`BATCH_SIZE`] requests, so they have
/// their own bucket sized accordingly.
pub fn bucket_of(method: &reqwest::Method, path: &str) -> String {
    if path.ends_with("/$batch") {
        "batch".into()
    } else if method == reqwest::Method::GET {
        "graph".into()
    } else {
        "write".into()
    }
}

/// A Microsoft Entra tenant: implements [`Provider`] and [`Restorer`].
#[derive(Debug)]
pub struct EntraProvider {
    tenant: String,
    graph_root: String,
    read: HttpClient,
    write: HttpClient,
    auth: Arc<butterfly_core::http::ClientCredentialsAuth>,
    cursors: delta::CursorStore,
    period: Duration,
    coalesce: std::sync::Mutex<Vec<(String, BatchReply)>>,
}

type BatchReply = tokio::sync::oneshot::Sender<Result<(u16, reqwest::header::HeaderMap, Value)>>;

impl EntraProvider {
    /// Builds the provider (no request is sent until the first backup or probe).
    pub fn new(config: EntraConfig) -> Result<EntraProvider> {
        let root = config.graph_root()?;
        let auth = Arc::new(config::token_auth(&config, &root)?);
        let api = format!("{root}v1.0/");
        let period = config.budget_period.unwrap_or(Duration::from_secs(10));
        let budget = config
            .budget
            .unwrap_or(DEFAULT_BUDGET)
            .max(2 * BATCH_SIZE as u32);
        let build = || -> Result<HttpClient> {
            HttpClient::builder(&api)
                .auth(auth.clone())
                .classify(Arc::new(|m: &reqwest::Method, p: &str| bucket_of(m, p)))
                .error_mapper(config::error_mapper())
                .max_share(config.max_share.unwrap_or(0.5))
                .max_in_flight(16)
                .bucket(BucketSpec {
                    name: "graph".into(),
                    // A quarter of the budget for plain listings, three quarters for batches
                    // (which carry most of a backup): the buckets are paced in requests,
                    // Graph counts units. Writes go through their own client and budget.
                    limit: (budget / 4 / LIST_COST).max(1),
                    period,
                })
                .bucket(BucketSpec {
                    name: "batch".into(),
                    limit: (budget * 3 / 4 / (BATCH_SIZE as u32 * BATCHED_COST)).max(1),
                    period,
                })
                .bucket(BucketSpec {
                    name: "write".into(),
                    limit: (budget * 2 / 5 / BATCHED_COST).max(1),
                    period,
                })
                .build()
        };
        Ok(EntraProvider {
            tenant: config.tenant_id.clone(),
            graph_root: root.as_str().trim_end_matches('/').to_string(),
            read: build()?,
            write: build()?,
            auth,
            cursors: delta::CursorStore::new(config.delta_state_file.clone()),
            period,
            coalesce: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Request counters of the read client.
    pub fn http_stats(&self) -> HttpStats {
        self.read.stats()
    }

    /// The Graph application permissions (`roles` claim) of the current token; empty before
    /// the first request.
    pub fn granted_permissions(&self) -> Vec<String> {
        self.auth.granted().unwrap_or_default()
    }

    /// The query of a row's listing, as the core engine sends it: the page size, the row's
    /// extra pairs, then `$select` ([`TableSource::decorate`]).
    fn listing_query(row: &EntraKind) -> Vec<(&'static str, String)> {
        let list = &row.list;
        let mut query: Vec<(&'static str, String)> = Vec::new();
        if let Some((param, size)) = list.page_size {
            query.push((param, size.to_string()));
        }
        query.extend(list.query.iter().map(|(k, v)| (*k, v.to_string())));
        query.extend(select_of(row).map(|s| ("$select", s)));
        query
    }

    /// The first request of a row's listing under a parent.
    fn first_request(row: &EntraKind, parent: Option<&str>) -> Request {
        Self::listing_query(row).into_iter().fold(
            Request::get(&table::list_path(row, parent, None)),
            |req, (k, v)| req.query(k, v),
        )
    }

    /// Every page of a listing starting at `first`; an expired page token restarts it (the
    /// items collected so far are dropped, so nothing is duplicated).
    async fn collect_pages(
        &self,
        row: &'static EntraKind,
        parent: Option<&str>,
        first: Request,
        initial: Option<Value>,
    ) -> Result<Vec<Resource>> {
        Ok(self
            .collect_pages_tracked(row, parent, first, initial, false)
            .await?
            .0)
    }

    /// [`Self::collect_pages`], with the delta fingerprint of what it returns when `track`
    /// (empty otherwise). Each page is fingerprinted as soon as it is parsed, while its
    /// objects are still in the processor's caches.
    async fn collect_pages_tracked(
        &self,
        row: &'static EntraKind,
        parent: Option<&str>,
        first: Request,
        initial: Option<Value>,
        track: bool,
    ) -> Result<(Vec<Resource>, delta::Fingerprint)> {
        let mut restarts = 0;
        let mut initial = initial;
        'listing: loop {
            let mut out = Vec::new();
            let mut fp = delta::Fingerprint::default();
            let mut take = |out: &mut Vec<Resource>, page: Vec<Resource>| {
                if track {
                    fp.add_all(&page);
                }
                out.extend(page);
            };
            let mut next = match initial.take() {
                Some(body) => {
                    let link = butterfly_core::http::paginate::odata_next(&body);
                    take(&mut out, table::parse_page(row, parent, None, body)?);
                    link.map(|n| self.read.pages(Request::get(&n), NextPage::ODataNextLink))
                }
                None => Some(self.read.pages(first.clone(), NextPage::ODataNextLink)),
            };
            if let Some(pages) = next.as_mut() {
                while let Some(page) = pages.next().await {
                    match page {
                        Ok(page) => take(
                            &mut out,
                            table::parse_page(row, parent, None, page.value()?)?,
                        ),
                        Err(e) if is_expired_token(&e) && restarts < 5 => {
                            restarts += 1;
                            tracing::debug!(kind = row.spec.id, restarts, "page token expired");
                            continue 'listing;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            return Ok((out, fp));
        }
    }

    /// A top-level kind's first page through a shared `$batch`: kinds the orchestrator starts
    /// together travel in one request. Throttled or failed answers fall back to a plain
    /// listing (with its retries); other errors map as a direct request would.
    async fn list_coalesced(&self, row: &'static EntraKind) -> Result<Vec<Resource>> {
        let (status, headers, body) = self.batched_get(Self::relative_url(row, None)).await?;
        match status {
            200..=299 => match row.list.items {
                Items::Singleton => table::parse_page(row, None, None, body),
                _ => {
                    let first = Self::first_request(row, None);
                    self.collect_pages(row, None, first, Some(body)).await
                }
            },
            // Never configured (branding, policies never set): nothing to back up.
            404 if row.list.absent == Absent::Empty => Ok(Vec::new()),
            429 | 500..=599 => self.list(row).await,
            _ => {
                let bytes = serde_json::to_vec(&body).unwrap_or_default();
                Err(map_error(status, &headers, &bytes)
                    .context(format!("batched GET {}", row.list.path)))
            }
        }
    }

    /// Queues one GET for the next shared batch and waits for its answer. Whoever waits
    /// first after a short gather window sends what has queued; a full batch goes at once.
    async fn batched_get(&self, url: String) -> Result<(u16, reqwest::header::HeaderMap, Value)> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let full = {
            let mut q = self.coalesce.lock().unwrap_or_else(|p| p.into_inner());
            q.push((url, tx));
            q.len() >= BATCH_SIZE
        };
        if !full {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.flush_coalesced().await;
        rx.await
            .map_err(|_| Error::new(ErrorKind::Transient, "a batched request got no answer"))?
    }

    async fn flush_coalesced(&self) {
        loop {
            let items: Vec<(String, BatchReply)> = {
                let mut q = self.coalesce.lock().unwrap_or_else(|p| p.into_inner());
                let n = q.len().min(BATCH_SIZE);
                q.drain(..n).collect()
            };
            if items.is_empty() {
                return;
            }
            let requests: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(i, (u, _))| json!({"id": i.to_string(), "method": "GET", "url": u}))
                .collect();
            let answer = match self
                .read
                .send(Request::post("$batch", json!({ "requests": requests })))
                .await
            {
                Ok(resp) => resp.value(),
                Err(e) => Err(e),
            };
            match answer {
                Ok(Value::Object(mut m)) => {
                    let mut by_id: BTreeMap<usize, Value> = BTreeMap::new();
                    if let Some(Value::Array(list)) = m.remove("responses") {
                        for r in list {
                            if let Some(i) = r
                                .get("id")
                                .and_then(Value::as_str)
                                .and_then(|s| s.parse().ok())
                            {
                                by_id.insert(i, r);
                            }
                        }
                    }
                    for (i, (_, tx)) in items.into_iter().enumerate() {
                        let reply = match by_id.remove(&i) {
                            Some(mut r) => {
                                let status = r.get("status").and_then(Value::as_u64).unwrap_or(0);
                                let headers = inner_headers(r.get("headers"));
                                let body = r
                                    .as_object_mut()
                                    .and_then(|m| m.remove("body"))
                                    .unwrap_or(Value::Null);
                                Ok((status as u16, headers, body))
                            }
                            None => Err(Error::invalid_data("the $batch answer misses a response")),
                        };
                        let _ = tx.send(reply);
                    }
                }
                Ok(_) => {
                    for (_, tx) in items {
                        let _ = tx.send(Err(Error::invalid_data(
                            "the $batch answer is not an object",
                        )));
                    }
                }
                Err(e) => {
                    for (_, tx) in items {
                        let _ = tx.send(Err(Error::new(e.kind(), e.message().to_string())));
                    }
                }
            }
        }
    }

    /// A top-level kind read on its own (when its batched first page was throttled or
    /// failed): a singleton through the core engine's listing, a collection page by page with
    /// the expired-token restart.
    async fn list(&self, row: &'static EntraKind) -> Result<Vec<Resource>> {
        match row.list.items {
            Items::Singleton => match table::list(self, row, None, None).await {
                Err(e) if e.kind() == ErrorKind::NotFound && row.list.absent == Absent::Empty => {
                    Ok(Vec::new())
                }
                other => other,
            },
            _ => {
                self.collect_pages(row, None, Self::first_request(row, None), None)
                    .await
            }
        }
    }

    /// A sub-resource read with its parents' listing and `$expand` (pages of 100 parents
    /// instead of one `$batch` per 20). Graph returns at most [`EXPAND_LIMIT`] related objects
    /// per parent and no link to the rest: parents at the limit, and parents of this backup the
    /// listing did not return, are read one by one in batches. A tenant or cloud that refuses
    /// the expansion is read the batched way in full.
    async fn fetch_expanded(
        &self,
        row: &'static EntraKind,
        ctx: &FetchContext,
    ) -> Result<Vec<Resource>> {
        let (Some(nav), Some(parent_row)) = (row.expand, row.spec.parent.and_then(kinds::row_of))
        else {
            return Err(Error::invalid_data(format!(
                "{} has no expandable parent",
                row.spec.id
            )));
        };
        let wanted: BTreeSet<&str> = ctx.parents.iter().map(|p| p.id.as_str()).collect();
        let first = Request::get(parent_row.list.path)
            .query("$select", "id")
            .query("$expand", nav)
            .query("$top", EXPAND_PAGE);
        let mut restarts = 0;
        let (mut out, seen, mut rest) = 'listing: loop {
            let mut out: Vec<Resource> = Vec::new();
            let mut seen: BTreeSet<String> = BTreeSet::new();
            let mut rest: Vec<String> = Vec::new();
            let mut pages = self.read.pages(first.clone(), NextPage::ODataNextLink);
            while let Some(page) = pages.next().await {
                let body = match page {
                    Ok(page) => page.value()?,
                    Err(e) if is_expired_token(&e) && restarts < 5 => {
                        restarts += 1;
                        continue 'listing;
                    }
                    // 400: the query is refused (`Request_UnsupportedQuery`); 501: not here.
                    Err(e) if matches!(e.status(), Some(400 | 501)) => {
                        tracing::info!(kind = row.spec.id, error = %e, "$expand refused: reading each parent");
                        return self
                            .batch_list(row, wanted.iter().map(|p| p.to_string()).collect())
                            .await;
                    }
                    Err(e) => return Err(e),
                };
                for mut parent in table::items_of(parent_row, body)? {
                    let Some(pid) = parent.get("id").and_then(Value::as_str).map(str::to_string)
                    else {
                        return Err(Error::invalid_data(format!(
                            "{}: a parent in the expanded listing has no id",
                            row.spec.id
                        )));
                    };
                    if !wanted.contains(pid.as_str()) || !seen.insert(pid.clone()) {
                        continue;
                    }
                    let related = match parent.get_mut(nav).map(Value::take) {
                        Some(Value::Array(items)) => items,
                        Some(Value::Null) | None => Vec::new(),
                        Some(_) => {
                            return Err(Error::invalid_data(format!(
                                "{}: the expanded {nav} of {pid} is not a list",
                                row.spec.id
                            )));
                        }
                    };
                    if related.len() >= EXPAND_LIMIT {
                        rest.push(pid);
                        continue;
                    }
                    for item in related {
                        out.push(kinds::parse_item(row, Some(&pid), item)?);
                    }
                }
            }
            break 'listing (out, seen, rest);
        };
        // Parents of this backup the listing did not show (created or deleted in between).
        rest.extend(
            wanted
                .iter()
                .filter(|p| !seen.contains(**p))
                .map(|p| p.to_string()),
        );
        if !rest.is_empty() {
            out.extend(self.batch_list(row, rest).await?);
        }
        Ok(out)
    }

    /// Lists a sub-resource of many parents with JSON batches of 20; inner pages that continue
    /// are followed one by one, throttled inner requests are sent again after `Retry-After`.
    async fn batch_list(
        &self,
        row: &'static EntraKind,
        parents: Vec<String>,
    ) -> Result<Vec<Resource>> {
        let chunks: Vec<Vec<String>> = parents.chunks(BATCH_SIZE).map(|c| c.to_vec()).collect();
        futures::stream::iter(chunks)
            .map(|chunk| self.batch_chunk(row, chunk))
            .buffer_unordered(4)
            .try_concat()
            .await
    }

    /// The URL of a row's first listing request inside a `$batch`.
    fn relative_url(row: &EntraKind, parent: Option<&str>) -> String {
        let path = table::list_path(row, parent, None);
        let query: Vec<String> = Self::listing_query(row)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if query.is_empty() {
            format!("/{path}")
        } else {
            format!("/{path}?{}", query.join("&"))
        }
    }

    async fn batch_chunk(
        &self,
        row: &'static EntraKind,
        parents: Vec<String>,
    ) -> Result<Vec<Resource>> {
        let mut out = Vec::new();
        let mut pending: Vec<String> = parents;
        let mut attempt = 0u32;
        while !pending.is_empty() {
            let requests: Vec<Value> = pending
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    json!({"id": i.to_string(), "method": "GET", "url": Self::relative_url(row, Some(p))})
                })
                .collect();
            let resp = self
                .read
                .send(Request::post("$batch", json!({ "requests": requests })))
                .await?
                .value()?;
            let responses = match resp {
                Value::Object(mut m) => match m.remove("responses") {
                    Some(Value::Array(list)) => list,
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            if responses.is_empty() {
                return Err(Error::invalid_data("the $batch answer has no responses"));
            }
            let mut again = Vec::new();
            let mut wait = Duration::ZERO;
            let mut answered = vec![false; pending.len()];
            for mut r in responses {
                let Some(i) = r
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<usize>().ok())
                    .filter(|i| *i < pending.len())
                else {
                    return Err(Error::invalid_data("a $batch response has an unknown id"));
                };
                answered[i] = true;
                let parent = &pending[i];
                let status = r.get("status").and_then(Value::as_u64).unwrap_or(0) as u16;
                let body = r
                    .as_object_mut()
                    .and_then(|m| m.remove("body"))
                    .unwrap_or(Value::Null);
                match status {
                    200..=299 => {
                        let first = Self::first_request(row, Some(parent));
                        out.extend(
                            self.collect_pages(row, Some(parent), first, Some(body))
                                .await?,
                        );
                    }
                    // The parent went away between the listing and the batch.
                    404 => {}
                    429 | 500..=599 => {
                        let headers = inner_headers(r.get("headers"));
                        let w = butterfly_core::http::retry_after(&headers).unwrap_or(
                            self.period
                                .mul_f64(0.05 * f64::from(1u32 << attempt.min(5))),
                        );
                        wait = wait.max(w);
                        again.push(parent.clone());
                    }
                    _ => {
                        let headers = inner_headers(r.get("headers"));
                        let bytes = serde_json::to_vec(&body).unwrap_or_default();
                        return Err(map_error(status, &headers, &bytes).context(format!(
                            "batched GET {}",
                            Self::relative_url(row, Some(parent))
                        )));
                    }
                }
            }
            for (i, done) in answered.iter().enumerate() {
                if !done {
                    again.push(pending[i].clone());
                }
            }
            if !again.is_empty() {
                attempt += 1;
                if attempt > 8 {
                    return Err(Error::new(
                        ErrorKind::RateLimited,
                        "batched requests kept being throttled",
                    ));
                }
                tokio::time::sleep(wait.min(Duration::from_secs(60))).await;
            }
            pending = again;
        }
        Ok(out)
    }

    /// Reads a kind: the Graph paths first (delta, `$expand`, shared and per-parent `$batch`
    /// requests), the core table engine for what Graph has no shortcut for; errors mapped by
    /// the core ([`table::fetch_error`]).
    async fn fetch_all(&self, row: &'static EntraKind, ctx: FetchContext) -> Result<Vec<Resource>> {
        let result = match (row.delta, row.spec.parent) {
            (Delta::Collection, _) => self.fetch_tracked(row, ctx.previous.as_deref()).await,
            (Delta::Relation, _) => self.fetch_members(row, &ctx).await,
            (Delta::None, Some(_)) if row.expand.is_some() => self.fetch_expanded(row, &ctx).await,
            (Delta::None, None) => self.list_coalesced(row).await,
            // One object per parent (branding): the core engine, a few parents at a time.
            (Delta::None, Some(_)) if row.list.items == Items::Singleton => {
                return table::fetch(self, row, &ctx).await;
            }
            (Delta::None, Some(_)) => {
                let parents: Vec<String> = ctx.parents.iter().map(|p| p.id.clone()).collect();
                self.batch_list(row, parents).await
            }
        };
        result.map_err(|e| table::fetch_error(row, e))
    }

    /// Users and groups: from the previous snapshot and the delta since, when the cursor
    /// continues exactly that snapshot; otherwise in full, taking a fresh cursor first (so
    /// changes made during the listing show up in the next delta).
    async fn fetch_tracked(
        &self,
        row: &'static EntraKind,
        previous: Option<&Snapshot>,
    ) -> Result<Vec<Resource>> {
        let kid = row.spec.id;
        // Groups: their rounds also carry the members and owners changes (read by those kinds).
        let tracks_relations = kinds::tracked_relations(row).next().is_some();
        if let Some(prev) = previous
            && prev
                .kinds
                .get(kid)
                .is_some_and(|k| k.outcome == KindOutcome::Complete)
            && let Some(cursor) = self.cursors.get(kid)
            && let Some(copied) = delta::copy_matching(&cursor, prev.resources(kid), |_| true)
        {
            let mut fp = copied.all;
            match self
                .follow_delta(row, copied.kept, &cursor.link, &mut fp)
                .await
            {
                Ok((resources, link, members, changed)) => {
                    // Nothing changed: the result is the previous snapshot's, fingerprint too;
                    // otherwise the previous one updated with the changed resources only.
                    debug_assert_eq!(fp, delta::Fingerprint::of(&resources));
                    let fingerprint = if changed {
                        fp.to_string()
                    } else {
                        cursor.fingerprint.clone()
                    };
                    self.cursors
                        .set(kid, Some(delta::Cursor::new(link, fingerprint)));
                    if tracks_relations && let Ok(mut slot) = self.cursors.members.lock() {
                        *slot = Some(delta::MemberDelta {
                            previous: prev.meta.id.as_str().to_string(),
                            changes: members,
                        });
                    }
                    return Ok(resources);
                }
                Err(e) if matches!(e.kind(), ErrorKind::Denied | ErrorKind::Auth) => return Err(e),
                Err(e) => tracing::info!(kind = kid, error = %e, "delta unusable, reading in full"),
            }
        }
        if tracks_relations && let Ok(mut slot) = self.cursors.members.lock() {
            *slot = None;
        }
        // A cursor for "now", before the listing. Tenants or clouds without delta: no cursor.
        let link = match self.latest_delta_link(row).await {
            Ok(link) => Some(link),
            Err(e) if e.kind() == ErrorKind::Denied => return Err(e),
            Err(e) => {
                tracing::debug!(kind = kid, error = %e, "no delta cursor");
                None
            }
        };
        // Exception: only users are listed in parallel `userPrincipalName` ranges (the
        // property the range bounds are taken from).
        let (resources, fp) = if kid == "entra.user" {
            self.list_users().await?
        } else {
            let first = Self::first_request(row, None);
            self.collect_pages_tracked(row, None, first, None, true)
                .await?
        };
        debug_assert_eq!(fp, delta::Fingerprint::of(&resources));
        self.cursors.set(
            kid,
            link.map(|link| delta::Cursor::new(link, fp.to_string())),
        );
        Ok(resources)
    }

    /// `$select` of a delta round: the row's own, and the relationships it tracks.
    fn delta_select(row: &EntraKind) -> String {
        let mut fields: Vec<&str> = row.select.to_vec();
        fields.extend(kinds::tracked_relations(row));
        fields.join(",")
    }

    /// `GET {kind}/delta?$deltatoken=latest`: a delta link for the current state, without
    /// reading any object.
    async fn latest_delta_link(&self, row: &EntraKind) -> Result<String> {
        let req = Request::get(&format!("{}/delta", row.list.path))
            .query("$select", Self::delta_select(row))
            .query("$deltatoken", "latest");
        let body = self.read.send(req).await?.value()?;
        body.get("@odata.deltaLink")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Error::invalid_data("the latest delta answer has no @odata.deltaLink"))
    }

    /// Follows a delta link to its end: the previous resources (`prev`, sorted by id, one per
    /// id) with the changes applied, the new delta link, and (groups) the `members@delta`
    /// entries per group. `fp` starts as the previous resources' fingerprint and is kept up
    /// to date with every change.
    async fn follow_delta(
        &self,
        row: &'static EntraKind,
        prev: Vec<Resource>,
        link: &str,
        fp: &mut delta::Fingerprint,
    ) -> Result<(
        Vec<Resource>,
        String,
        BTreeMap<String, BTreeMap<String, Vec<Value>>>,
        bool,
    )> {
        let mut changed = false;
        // The changed ids and what they are now (`None`: removed); merged with `prev` at the
        // end, in one pass.
        let mut changes: BTreeMap<String, Option<Resource>> = BTreeMap::new();
        // Per relationship (`members`, `owners`), per group, the entries in order.
        let mut members: BTreeMap<String, BTreeMap<String, Vec<Value>>> = BTreeMap::new();
        // The relationships whose changes the round carries (`members`, `owners` of groups).
        let relations: Vec<&str> = kinds::tracked_relations(row).collect();
        let mut pages = self.read.pages(Request::get(link), NextPage::ODataNextLink);
        let mut last = None;
        while let Some(page) = pages.next().await {
            let body = page?.value()?;
            if let Some(l) = body.get("@odata.deltaLink").and_then(Value::as_str) {
                last = Some(l.to_string());
            }
            for mut item in table::items_of(row, body)? {
                let Some(id) = item.get("id").and_then(Value::as_str).map(str::to_string) else {
                    return Err(Error::invalid_data("a delta item has no id"));
                };
                changed = true;
                let old = match changes.get(&id) {
                    Some(now) => now.as_ref(),
                    None => delta::find(&prev, &id),
                };
                if item.get("@removed").is_some() {
                    if let Some(old) = old {
                        fp.remove(old);
                    }
                    for rel in members.values_mut() {
                        rel.remove(&id);
                    }
                    changes.insert(id, None);
                    continue;
                }
                if let Some(map) = item.as_object_mut() {
                    for rel in &relations {
                        if let Some(Value::Array(m)) = map.remove(&format!("{rel}@delta")) {
                            members
                                .entry(rel.to_string())
                                .or_default()
                                .entry(id.clone())
                                .or_default()
                                .extend(m);
                        }
                    }
                    map.retain(|k, _| !k.contains("@delta"));
                }
                // Graph may send only the changed properties: lay them over the old body.
                let merged = match (old, item) {
                    (Some(old), Value::Object(changed)) => {
                        let mut body = Value::clone(&old.body);
                        if let Some(b) = body.as_object_mut() {
                            for (k, v) in changed {
                                if !k.starts_with("@odata.") {
                                    b.insert(k, v);
                                }
                            }
                        }
                        body
                    }
                    (Some(old), _) => Value::clone(&old.body),
                    (None, item) => item,
                };
                let resource = kinds::parse_item(row, None, merged)?;
                fp.add(&resource);
                let old = match changes.get(&resource.id) {
                    Some(now) => now.as_ref(),
                    None => delta::find(&prev, &resource.id),
                };
                if let Some(old) = old {
                    fp.remove(old);
                }
                changes.insert(resource.id.clone(), Some(resource));
            }
        }
        let link =
            last.ok_or_else(|| Error::invalid_data("the delta round ended without a deltaLink"))?;
        let mut out = prev;
        delta::apply(&mut out, changes);
        Ok((out, link, members, changed))
    }

    /// Group members: from the previous snapshot and this backup's `members@delta` entries
    /// when both continue the same snapshot; otherwise listed in batches.
    async fn fetch_members(
        &self,
        row: &'static EntraKind,
        ctx: &FetchContext,
    ) -> Result<Vec<Resource>> {
        let kid = row.spec.id;
        let parents: BTreeSet<&str> = ctx.parents.iter().map(|p| p.id.as_str()).collect();
        // This kind's relationship out of the round's changes (the other kind takes its own).
        let relation = kinds::relation(row);
        let pending = self.cursors.members.lock().ok().and_then(|mut s| {
            let md = s.as_mut()?;
            Some((
                md.previous.clone(),
                md.changes.remove(relation).unwrap_or_default(),
            ))
        });
        if let Some(prev) = ctx.previous.as_deref()
            && let Some((pending_previous, pending_changes)) = pending
            && pending_previous == prev.meta.id.as_str()
            && prev
                .kinds
                .get(kid)
                .is_some_and(|k| k.outcome == KindOutcome::Complete)
            && let Some(cursor) = self.cursors.get(kid)
            && let Some(copied) = {
                // Members are sorted by id ("{group}/{member}"): a group's members come one
                // after the other, so the group is looked up once for all of them.
                let mut last: Option<(&str, bool)> = None;
                delta::copy_matching(&cursor, prev.resources(kid), |m| {
                    let Some(p) = m.parent_id.as_deref() else {
                        return false;
                    };
                    match last {
                        Some((lp, keep)) if lp == p => keep,
                        _ => {
                            let keep = parents.contains(p);
                            last = Some((p, keep));
                            keep
                        }
                    }
                })
            }
        {
            // Members of groups gone are left out of the copies (and of `fp`); `fp` then
            // follows every change, taken out or counted in one by one, instead of hashing
            // all members again. The changes are merged with the copies in one pass.
            let delta::Copied {
                kept,
                kept_fp: mut fp,
                ..
            } = copied;
            let mut changes: BTreeMap<String, Option<Resource>> = BTreeMap::new();
            let mut applied = false;
            for (group, entries) in pending_changes {
                if !parents.contains(group.as_str()) {
                    continue;
                }
                for e in entries {
                    applied = true;
                    let removed = e.get("@removed").is_some();
                    let member = kinds::parse_item(row, Some(&group), e)?;
                    if !removed {
                        fp.add(&member);
                    }
                    let old = match changes.get(&member.id) {
                        Some(now) => now.as_ref(),
                        None => delta::find(&kept, &member.id),
                    };
                    if let Some(old) = old {
                        fp.remove(old);
                    }
                    changes.insert(member.id.clone(), (!removed).then_some(member));
                }
            }
            let mut out = kept;
            delta::apply(&mut out, changes);
            let unchanged = !applied && out.len() == prev.resources(kid).len();
            debug_assert_eq!(fp, delta::Fingerprint::of(&out));
            let fingerprint = if unchanged {
                cursor.fingerprint.clone()
            } else {
                fp.to_string()
            };
            self.cursors
                .set(kid, Some(delta::Cursor::new(String::new(), fingerprint)));
            return Ok(out);
        }
        let out = self
            .batch_list(row, parents.iter().map(|p| p.to_string()).collect())
            .await?;
        self.cursors.set(
            kid,
            Some(delta::Cursor::new(String::new(), delta::fingerprint(&out))),
        );
        Ok(out)
    }

    /// Users: one page when the tenant is small; otherwise parallel listings of
    /// `userPrincipalName` ranges (`ge`/`le`, which Graph supports on that property), with
    /// boundaries taken from the first page so the ranges are about even.
    async fn list_users(&self) -> Result<(Vec<Resource>, delta::Fingerprint)> {
        let row = &kinds::USER;
        let first = Self::first_request(row, None);
        let body = self.read.send(first.clone()).await?.value()?;
        let Some(next) = butterfly_core::http::paginate::odata_next(&body) else {
            let users = table::parse_page(row, None, None, body)?;
            let fp = delta::Fingerprint::of(&users);
            return Ok((users, fp));
        };
        // The bounds need only the names: the page is parsed into resources only if it is
        // kept (no ranges); otherwise the range listings read those users again.
        let items = table::items_of(row, body)?;
        let bounds = range_bounds(&items, USER_PARTITIONS);
        // The first page again (its items and link), for a listing in one run.
        let body = json!({"value": items, "@odata.nextLink": next});
        if bounds.is_empty() {
            return self
                .collect_pages_tracked(row, None, first, Some(body), true)
                .await;
        }
        let mut filters = Vec::with_capacity(bounds.len() + 1);
        for i in 0..=bounds.len() {
            let lo = i.checked_sub(1).map(|j| &bounds[j]);
            let hi = bounds.get(i);
            let clause = match (lo, hi) {
                (None, Some(h)) => format!("userPrincipalName le '{h}'"),
                (Some(l), Some(h)) => {
                    format!("userPrincipalName ge '{l}' and userPrincipalName le '{h}'")
                }
                (Some(l), None) => format!("userPrincipalName ge '{l}'"),
                (None, None) => continue,
            };
            filters.push(clause);
        }
        let lists: Result<Vec<(Vec<Resource>, delta::Fingerprint)>> =
            futures::stream::iter(filters)
                .map(|f| {
                    let req = Self::first_request(row, None).query("$filter", f);
                    self.collect_pages_tracked(row, None, req, None, true)
                })
                .buffer_unordered(USER_PARTITIONS)
                .try_collect()
                .await;
        let lists = match lists {
            Ok(lists) => lists,
            // A directory that does not filter on ranges: one listing, page after page.
            Err(e) if e.message().starts_with("Request_UnsupportedQuery") => {
                tracing::info!(
                    "userPrincipalName ranges are not supported: listing users in one run"
                );
                return self
                    .collect_pages_tracked(row, None, first, Some(body), true)
                    .await;
            }
            Err(e) => return Err(e),
        };
        // Ranges meet at their bounds (the user named by a bound is in both): keep one copy
        // of each, and take the dropped copies out of the fingerprint.
        let mut fp = delta::Fingerprint::default();
        let mut all: Vec<Resource> = Vec::new();
        for (users, range_fp) in lists {
            fp.merge(&range_fp);
            all.extend(users);
        }
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all.dedup_by(|later, earlier| {
            let same = later.id == earlier.id;
            if same {
                fp.remove(later);
            }
            same
        });
        Ok((all, fp))
    }

    fn member_url(&self, id: &str) -> String {
        format!("{}/v1.0/directoryObjects/{id}", self.graph_root)
    }
}

/// Parallel listings of users in a large tenant.
pub const USER_PARTITIONS: usize = 8;

/// The most related objects Graph returns per parent with `$expand` on directory objects
/// (Microsoft Graph known issues: "$expand ... returns a maximum of 20 objects"; there is no
/// link to the rest).
pub const EXPAND_LIMIT: usize = 20;

/// Page size of an expanded listing: with `$expand`, directory listings return at most 100
/// objects per page.
pub const EXPAND_PAGE: usize = 100;

/// Range bounds from a sample of users: the lowercase local parts of `userPrincipalName`
/// (letters, digits, `.`, `-`, `_`; never an `@`, so no UPN equals a bound), at even
/// quantiles of the sample; empty when the sample is too uniform to split.
fn range_bounds<'v>(sample: impl IntoIterator<Item = &'v Value>, parts: usize) -> Vec<String> {
    let mut names: Vec<String> = sample
        .into_iter()
        .filter_map(|u| u.get("userPrincipalName").and_then(Value::as_str))
        .map(|u| {
            u.split('@')
                .next()
                .unwrap_or("")
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                .take(16)
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .filter(|p| !p.is_empty())
        .collect();
    names.sort();
    let mut out: Vec<String> = (1..parts)
        .filter_map(|i| names.get(i * names.len() / parts).cloned())
        .collect();
    out.dedup();
    out
}

fn is_expired_token(e: &Error) -> bool {
    e.message().starts_with(config::EXPIRED_PAGE_TOKEN)
}

fn inner_headers(headers: Option<&Value>) -> reqwest::header::HeaderMap {
    let mut out = reqwest::header::HeaderMap::new();
    if let Some(map) = headers.and_then(Value::as_object) {
        for (k, v) in map {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if let (Ok(k), Ok(v)) = (
                reqwest::header::HeaderName::from_bytes(k.as_bytes()),
                reqwest::header::HeaderValue::from_str(&text),
            ) {
                out.insert(k, v);
            }
        }
    }
    out
}

/// `$select` of a row's listing (its `select` column), if it has one.
fn select_of(row: &EntraKind) -> Option<String> {
    (!row.select.is_empty()).then(|| row.select.join(","))
}

/// The core table engine reads Entra rows through the read client; the row's `$select` goes
/// with the listing.
impl TableSource<EntraKind> for EntraProvider {
    fn http(&self) -> &HttpClient {
        &self.read
    }

    fn decorate(&self, row: &EntraKind, req: Request) -> Request {
        match select_of(row) {
            Some(select) => req.query("$select", select),
            None => req,
        }
    }
}

#[async_trait]
impl Provider for EntraProvider {
    fn name(&self) -> &str {
        "entra"
    }
    fn tenant(&self) -> &str {
        &self.tenant
    }
    fn kinds(&self) -> &[KindRef] {
        kinds::all()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            restore: true,
            incremental: true,
            access_probe: true,
        }
    }

    /// The core probe: one small request per top-level kind, sub-kinds answering like their
    /// parent. A sub-kind asked for without its parent still answers like it: the parent is
    /// probed too, and reported only if asked for.
    async fn probe(&self, kinds: &[KindRef]) -> Result<AccessReport> {
        let mut rows: Vec<&'static EntraKind> = kinds::rows_of(kinds);
        let asked: BTreeSet<&str> = rows.iter().map(|r| r.spec.id).collect();
        let mut i = 0;
        while let Some(r) = rows.get(i) {
            if let Some(parent) = r.spec.parent.and_then(kinds::row_of)
                && !rows.iter().any(|r| r.spec.id == parent.spec.id)
            {
                rows.push(parent);
            }
            i += 1;
        }
        let mut report = table::probe(self, &rows).await?;
        report.kinds.retain(|id, _| asked.contains(id.as_str()));
        Ok(report)
    }

    async fn fetch(&self, kind: KindRef, ctx: FetchContext) -> Result<Vec<Resource>> {
        self.fetch_all(kinds::row_for(kind)?, ctx).await
    }

    fn severity_rules(&self) -> Vec<SeverityRule> {
        severity_rules()
    }

    fn restorer(&self) -> Option<&dyn Restorer> {
        Some(self)
    }
}

/// The role template id of Global Administrator (the same in every tenant).
pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";

/// Entra's severity rules, added to the core defaults.
pub fn severity_rules() -> Vec<SeverityRule> {
    const CA: &str = "entra.conditional_access_policy";
    vec![
        SeverityRule::removed(
            CA,
            Severity::Critical,
            "a conditional access policy was deleted",
        ),
        SeverityRule::field_changed(
            CA,
            "/state",
            Severity::Critical,
            "a conditional access policy was switched to report-only",
        )
        .to(json!("enabledForReportingButNotEnforced")),
        SeverityRule::field_changed(
            CA,
            "/state",
            Severity::Critical,
            "a conditional access policy was disabled",
        )
        .to(json!("disabled")),
        SeverityRule::field_changed(
            CA,
            "/grantControls/builtInControls",
            Severity::Critical,
            "MFA was removed from a conditional access policy's grant controls",
        )
        .from(json!("mfa")),
        SeverityRule::field_changed(
            CA,
            "/grantControls/authenticationStrength",
            Severity::High,
            "the authentication strength of a conditional access policy changed",
        ),
        SeverityRule::field_changed(
            CA,
            "/conditions/users/exclude*",
            Severity::High,
            "a conditional access policy excludes more or other principals",
        ),
        SeverityRule {
            field: Some("/roleDefinitionId".into()),
            ..SeverityRule::added(
                "entra.role_assignment",
                Severity::Critical,
                "new Global Administrator",
            )
        }
        .to(json!(GLOBAL_ADMINISTRATOR)),
        SeverityRule {
            field: Some("/roleDefinitionId".into()),
            ..SeverityRule::added(
                "entra.role_eligibility_schedule",
                Severity::Critical,
                "new eligible Global Administrator",
            )
        }
        .to(json!(GLOBAL_ADMINISTRATOR)),
        SeverityRule::added(
            "entra.role_assignment",
            Severity::High,
            "new directory role assignment",
        ),
        SeverityRule::added(
            "entra.role_eligibility_schedule",
            Severity::High,
            "new eligible directory role assignment",
        ),
        SeverityRule::removed(
            "entra.named_location",
            Severity::High,
            "a named location was deleted",
        ),
        SeverityRule::field_changed(
            "entra.named_location",
            "/isTrusted",
            Severity::High,
            "a named location became trusted",
        )
        .to(json!(true)),
        SeverityRule::field_changed(
            "entra.security_defaults",
            "/isEnabled",
            Severity::High,
            "security defaults were switched off",
        )
        .to(json!(false)),
        SeverityRule::field_changed(
            "entra.authentication_method_configuration",
            "/state",
            Severity::Medium,
            "an authentication method was switched on or off",
        ),
        SeverityRule::added(
            "entra.federated_identity_credential",
            Severity::High,
            "a workload can now sign in as an application (federated credential added)",
        ),
        SeverityRule::added(
            "entra.cross_tenant_access_partner",
            Severity::Medium,
            "a cross-tenant access partner was added",
        ),
        SeverityRule::removed("entra.group", Severity::High, "a group was deleted"),
    ]
}

/// Fields Graph sets itself: never sent on create or update.
const SERVER_FIELDS: &[&str] = &[
    "id",
    "createdDateTime",
    "modifiedDateTime",
    "deletedDateTime",
    "renewedDateTime",
    "expirationDateTime",
    "lastPasswordChangeDateTime",
    "onPremisesLastSyncDateTime",
    "onPremisesSyncEnabled",
    "onPremisesImmutableId",
    "onPremisesSecurityIdentifier",
    "onPremisesDomainName",
    "onPremisesSamAccountName",
    "onPremisesNetBiosName",
    "onPremisesProvisioningErrors",
    "securityIdentifier",
    "proxyAddresses",
    "creationType",
    "externalUserState",
    "templateId",
];

/// Members kept when writing a kind, beyond the ones removed everywhere.
fn writable(row: &EntraKind, body: &Value, creating: bool) -> Value {
    let mut out = body.clone();
    let Some(map) = out.as_object_mut() else {
        return out;
    };
    for f in SERVER_FIELDS {
        map.remove(*f);
    }
    map.retain(|k, _| !k.starts_with("@odata.") || k == "@odata.type");
    // Exception: what Graph accepts in a create or update body differs per kind (restore only).
    match row.spec.id {
        "entra.user" => {
            map.remove("@odata.type");
            map.remove("identities");
            if creating {
                map.insert("accountEnabled".into(), json!(false));
                map.insert(
                    "passwordProfile".into(),
                    json!({"forceChangePasswordNextSignIn": true, "password": random_password()}),
                );
            }
        }
        "entra.group" => {
            map.remove("@odata.type");
            for f in ["mail", "isAssignableToRole", "resourceBehaviorOptions"] {
                if !creating {
                    map.remove(f);
                }
            }
            map.remove("onPremisesProvisioningErrors");
        }
        "entra.application" => {
            map.remove("@odata.type");
            // New credentials are added after the restore (rotation checklist).
            for f in [
                "appId",
                "publisherDomain",
                "passwordCredentials",
                "keyCredentials",
            ] {
                map.remove(f);
            }
        }
        "entra.service_principal" => {
            let keep = [
                "appId",
                "accountEnabled",
                "appRoleAssignmentRequired",
                "description",
                "homepage",
                "loginUrl",
                "logoutUrl",
                "notes",
                "notificationEmailAddresses",
                "preferredSingleSignOnMode",
                "replyUrls",
                "tags",
            ];
            map.retain(|k, _| keep.contains(&k.as_str()));
            if !creating {
                map.remove("appId");
            }
        }
        "entra.app_role_assignment" => {
            let principal = principal_of(body);
            map.retain(|k, _| ["resourceId", "appRoleId"].contains(&k.as_str()));
            if let Some(p) = principal {
                map.insert("principalId".into(), json!(p));
            }
        }
        "entra.role_assignment" => {
            let principal = principal_of(body);
            map.retain(|k, _| ["roleDefinitionId", "directoryScopeId"].contains(&k.as_str()));
            if let Some(p) = principal {
                map.insert("principalId".into(), json!(p));
            }
        }
        _ => {}
    }
    out
}

/// The id in a typed `principal` member (`{"user": id}`).
fn principal_of(body: &Value) -> Option<String> {
    body.get("principal")?
        .as_object()?
        .values()
        .find_map(Value::as_str)
        .map(str::to_string)
}

/// The member id of a typed membership body (`{"user": id}`).
fn member_of(body: &Value) -> Option<String> {
    body.as_object()?
        .iter()
        .find(|(k, _)| !k.starts_with('@'))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string)
}

/// A password meeting Entra's complexity rules, never stored anywhere.
fn random_password() -> String {
    const SETS: [&[u8]; 4] = [
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"abcdefghijkmnopqrstuvwxyz",
        b"23456789",
        b"!#%+-=?@^_",
    ];
    let mut out = String::with_capacity(24);
    for i in 0..24 {
        let set = SETS[i % 4];
        out.push(set[rand::random_range(0..set.len())] as char);
    }
    out
}

#[async_trait]
impl Restorer for EntraProvider {
    fn check(
        &self,
        kind: &dyn ResourceKind,
        resource: &Resource,
    ) -> std::result::Result<(), CannotRestore> {
        let body = &resource.body;
        // Exception: objects synchronised from on-premises and non-principal members cannot be
        // written to Graph, whatever the row's write column says.
        match kind.id() {
            "entra.user" | "entra.group" if body["onPremisesSyncEnabled"] == json!(true) => {
                Err(CannotRestore(
                    "synchronised from on-premises Active Directory: restore it there".into(),
                ))
            }
            "entra.group_member"
                if body.get("user").is_none()
                    && body.get("group").is_none()
                    && body.get("servicePrincipal").is_none() =>
            {
                Err(CannotRestore(
                    "only users, groups and service principals are restored as members".into(),
                ))
            }
            _ => match kind.restore_support() {
                butterfly_core::RestoreSupport::None { reason } => {
                    Err(CannotRestore(reason.to_string()))
                }
                _ => Ok(()),
            },
        }
    }

    async fn create(&self, kind: &dyn ResourceKind, resource: &Resource) -> Result<String> {
        let row = kinds::row_for(kind)?;
        let path = table::list_path(row, resource.parent_id.as_deref(), None);
        match row.write {
            Write::Ref => {
                let member = member_of(&resource.body)
                    .ok_or_else(|| Error::invalid_data("membership without a member id"))?;
                self.write
                    .send(Request::post(
                        &format!("{path}/$ref"),
                        json!({"@odata.id": self.member_url(&member)}),
                    ))
                    .await?;
                Ok(match &resource.parent_id {
                    Some(p) => format!("{p}/{member}"),
                    None => member,
                })
            }
            Write::PostPatch | Write::PostOnly => {
                let created = self
                    .write
                    .send(Request::post(&path, writable(row, &resource.body, true)))
                    .await?
                    .value()?;
                let own = table::item_id(&row.list, &created)
                    .ok_or_else(|| Error::invalid_data("the created object has no id"))?;
                Ok(match &resource.parent_id {
                    Some(p) => format!("{p}/{own}"),
                    None => own,
                })
            }
            Write::None => Err(Error::new(
                ErrorKind::Conflict,
                format!("{} cannot be created", row.spec.id),
            )),
        }
    }

    async fn update(
        &self,
        kind: &dyn ResourceKind,
        target_id: &str,
        resource: &Resource,
    ) -> Result<()> {
        let row = kinds::row_for(kind)?;
        if row.write != Write::PostPatch {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("{} cannot be updated", row.spec.id),
            ));
        }
        let path = table::list_path(row, resource.parent_id.as_deref(), None);
        let own = target_id.rsplit('/').next().unwrap_or(target_id);
        self.write
            .send(Request::patch(
                &format!("{path}/{own}"),
                writable(row, &resource.body, false),
            ))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ranges_split_the_sample_evenly() {
        let users: Vec<Resource> = (0..1000)
            .map(|i| {
                let name = format!(
                    "{}{}user{i}@contoso.com",
                    (b'a' + (i % 26) as u8) as char,
                    (b'a' + (i / 40) as u8) as char
                );
                kinds::parse_item(
                    &kinds::USER,
                    None,
                    json!({"id": format!("u{i}"), "userPrincipalName": name}),
                )
                .unwrap()
            })
            .collect();
        let bounds = range_bounds(users.iter().map(|u| &*u.body), 8);
        assert_eq!(bounds.len(), 7, "{bounds:?}");
        assert!(bounds.windows(2).all(|w| w[0] < w[1]));
        assert!(
            bounds
                .iter()
                .all(|b| !b.contains('@') && !b.contains('\'') && b.len() <= 16)
        );
        let same: Vec<Resource> = users.iter().take(1).cloned().cycle().take(50).collect();
        assert!(range_bounds(same.iter().map(|u| &*u.body), 8).len() <= 1);
    }

    fn snapshot(kind: &EntraKind, bodies: &[Value]) -> Snapshot {
        let mut s = Snapshot::new(butterfly_core::snapshot::SnapshotMeta {
            id: butterfly_core::SnapshotId::generate("entra", chrono_now()),
            provider: "entra".into(),
            tenant: "t".into(),
            started_at: chrono_now(),
            finished_at: chrono_now(),
        });
        let resources = bodies
            .iter()
            .map(|b| kinds::parse_item(kind, None, b.clone()).unwrap())
            .collect();
        s.insert_kind(kind.spec.id, KindOutcome::Complete, resources);
        s
    }

    fn chrono_now() -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }

    fn severity_of(kind: &'static EntraKind, from: &[Value], to: &[Value]) -> Severity {
        let d = butterfly_core::diff::diff(
            &snapshot(kind, from),
            &snapshot(kind, to),
            kinds::all(),
            &severity_rules(),
        );
        d.max_severity().unwrap_or(Severity::Info)
    }

    #[test]
    fn severity_rules_flag_what_weakens_the_tenant() {
        let ga = json!({"id": "a1", "roleDefinitionId": GLOBAL_ADMINISTRATOR, "directoryScopeId": "/",
            "principalId": "5f4a3b2c-1d0e-4f9a-8b7c-6d5e4f3a2b1c"});
        let reader = json!({"id": "a2", "roleDefinitionId": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
            "directoryScopeId": "/", "principalId": "5f4a3b2c-1d0e-4f9a-8b7c-6d5e4f3a2b1c"});
        let ra = &kinds::ROLE_ASSIGNMENT;
        assert_eq!(severity_of(ra, &[], &[ga]), Severity::Critical);
        assert_eq!(severity_of(ra, &[], &[reader]), Severity::High);
        let ca = &kinds::CA_POLICY;
        let policy = |state: &str, controls: Value| {
            json!({"id": "p", "displayName": "MFA", "state": state,
                "grantControls": {"operator": "OR", "builtInControls": controls}})
        };
        let on = policy("enabled", json!(["mfa"]));
        assert_eq!(
            severity_of(ca, std::slice::from_ref(&on), &[]),
            Severity::Critical
        );
        assert_eq!(
            severity_of(
                ca,
                std::slice::from_ref(&on),
                &[policy("enabledForReportingButNotEnforced", json!(["mfa"]))]
            ),
            Severity::Critical
        );
        assert_eq!(
            severity_of(
                ca,
                std::slice::from_ref(&on),
                &[policy("enabled", json!(["compliantDevice"]))]
            ),
            Severity::Critical
        );
        assert!(
            severity_of(
                ca,
                std::slice::from_ref(&on),
                &[policy("enabled", json!(["mfa", "compliantDevice"]))]
            ) < Severity::Critical
        );
    }

    #[test]
    fn writes_drop_server_fields_and_never_send_credentials() {
        let body = json!({"id": "x", "appId": "a", "displayName": "App",
            "passwordCredentials": [{"keyId": "k", "hint": "ab"}], "createdDateTime": "2024"});
        let w = writable(&kinds::APPLICATION, &body, true);
        assert_eq!(w, json!({"displayName": "App"}));
        let user = writable(
            &kinds::USER,
            &json!({"id": "u", "accountEnabled": true, "userPrincipalName": "a@b"}),
            true,
        );
        assert_eq!(user["accountEnabled"], false);
        assert_eq!(
            user["passwordProfile"]["forceChangePasswordNextSignIn"],
            true
        );
        assert!(user["passwordProfile"]["password"].as_str().unwrap().len() >= 16);
        let ra = writable(
            &kinds::ROLE_ASSIGNMENT,
            &json!({"id": "r", "principal": {"group": "g"},
            "roleDefinitionId": "d", "directoryScopeId": "/"}),
            true,
        );
        assert_eq!(
            ra,
            json!({"principalId": "g", "roleDefinitionId": "d", "directoryScopeId": "/"})
        );
    }
}
