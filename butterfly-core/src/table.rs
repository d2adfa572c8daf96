//! Kind tables: how a kind is listed, as data, and the one engine that reads every table.
//!
//! A provider crate describes each kind as a table row: the core descriptor
//! ([`KindSpec`](crate::kind::KindSpec)), a [`ListSpec`] (path template, where the items sit
//! in an answer, pagination style, page size, id field, fields kept or dropped, the scope that
//! reads it, what a 404 means, how many parents are read at once) and the provider's own
//! columns (rate-limit bucket, how a restore writes it). The provider implements [`TableKind`]
//! for its row type and [`TableSource`] for its client; [`fetch`] and [`probe`] then do the
//! rest for every row:
//!
//! - **Paths.** `{0}`, `{1}`… in [`ListSpec::path`] are the `/`-separated parts of the parent
//!   id, `{v}` a value of [`ListSpec::per_value`] (percent-encoded when [`ListSpec::encode`]).
//! - **Sub-resources.** A kind with a parent is read once per parent, with at most
//!   [`ListSpec::concurrency`] parents in flight; a parent that went away meanwhile (404)
//!   has none. Its resource ids are `{parent id}/{own id}`, so a path can always be rebuilt.
//! - **Missing parts.** A kind listed in several parts (one listing per value of
//!   [`ListSpec::per_value`]) keeps the parts it read and reports a part the tenant does not
//!   offer ([`TableSource::is_absent`]) as a warning naming it
//!   ([`FetchContext::warnings`](crate::FetchContext::warnings)).
//! - **Not there.** A 404 of a top-level listing makes the kind
//!   [`Unsupported`](ErrorKind::Unsupported) (the tenant does not have the feature), unless
//!   the row says that 404 means "none" ([`Absent::Empty`]).
//! - **Denied** names the row's [`ListSpec::access`] (the missing scope, permission or role).
//! - **Probe.** [`probe`] sends one small request per top-level row; a sub-kind answers like
//!   its parent, with its own scope named when denied.
//!
//! ```
//! use butterfly_core::kind::{Category, KindSpec};
//! use butterfly_core::table::{Items, ListSpec, Paging, Row};
//!
//! static GROUP: Row = Row {
//!     spec: KindSpec::new("demo.group", "Groups", Category::Directory),
//!     list: ListSpec::new("api/groups", "groups.read").paging(Paging::LinkHeader).page_size("limit", 200),
//! };
//! static MEMBER: Row = Row {
//!     spec: KindSpec { parent: Some("demo.group"), ..KindSpec::new("demo.member", "Members", Category::Directory) },
//!     list: ListSpec::new("api/groups/{0}/users", "groups.read").keep_only(&["id"]),
//! };
//! butterfly_core::kind_table!(Row: GROUP, MEMBER);
//!
//! assert_eq!(all().len(), 2);
//! assert_eq!(butterfly_core::table::list_path(row_of("demo.member").unwrap(), Some("g1"), None), "api/groups/g1/users");
//! let page = serde_json::json!([{"id": "u1", "profile": {"login": "a@example.com"}}]);
//! let members = butterfly_core::table::parse_page(&MEMBER, Some("g1"), None, page).unwrap();
//! assert_eq!(members[0].id, "g1/u1");
//! assert_eq!(*members[0].body, serde_json::json!({"id": "u1"}));
//! # let _ = Items::Array;
//! ```

use std::collections::BTreeSet;

use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::http::paginate::NextPage;
use crate::http::{HttpClient, Request};
use crate::kind::ResourceKind;
use crate::provider::{Access, AccessReport, FetchContext, KindWarnings};
use crate::resource::Resource;

/// Where the items of a kind sit in one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Items {
    /// The answer is a JSON array of items.
    Array,
    /// An object holding the array in a member (`{"value": [...]}`, `{"roles": [...]}`); a
    /// bare array is accepted too (APIs that wrap only when asked for totals).
    Member(&'static str),
    /// A HAL answer: the array is `_embedded.<member>` (PingOne).
    Embedded(&'static str),
    /// The answer is the one item (settings, policies of an org).
    Singleton,
    /// The answer is an array kept whole as one item `{member: [...]}` (a list of strings).
    Whole(&'static str),
}

/// How the next page of a listing is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// One answer, no pages.
    None,
    /// RFC 8288 `Link: <…>; rel="next"` (Okta).
    LinkHeader,
    /// `@odata.nextLink` in the body (Microsoft Graph).
    ODataNextLink,
    /// `_links.next.href` in the body (PingOne's HAL).
    HalNext,
    /// `page` numbering from 0 with the page size in [`ListSpec::page_size`]'s parameter
    /// (Auth0); with `totals`, `include_totals=true` is sent and `total` ends the listing.
    PageNumber {
        /// Whether the API is asked for (and answers with) a total.
        totals: bool,
    },
    /// `from` checkpoints, the next one in the body's `next` (Auth0).
    Checkpoint,
}

/// Reshapes an item given its own id and its members ([`ListSpec::shape`]).
pub type Shape = fn(&str, Map<String, Value>) -> Value;

/// What a 404 of a listing means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Absent {
    /// The listing does not exist in this tenant: a top-level kind is
    /// [`Unsupported`](ErrorKind::Unsupported), a sub-resource's parent has none.
    Unsupported,
    /// Nothing is configured (branding never set, no custom text): no resource, readable.
    Empty,
}

/// How a kind is listed: the columns of a table row that [`fetch`] and [`probe`] read.
///
/// Built with [`ListSpec::new`] and `const` builder methods, so rows stay `static`.
#[derive(Debug, Clone, Copy)]
pub struct ListSpec {
    /// Path below the API root. `{0}`, `{1}`… are the parts of the parent id, `{v}` a value
    /// of [`per_value`](Self::per_value).
    pub path: &'static str,
    /// The scope, permission or admin role that reads it (named when access is denied).
    pub access: &'static str,
    /// Where the items sit in an answer.
    pub items: Items,
    /// How pages follow each other.
    pub paging: Paging,
    /// The page size query parameter and the size asked for (the documented maximum).
    pub page_size: Option<(&'static str, u32)>,
    /// Member holding an item's id; a JSON Pointer (`/primary/name`) reaches into the item;
    /// several members joined by `|` make a composite id (`audience|permission_name`).
    /// Singletons (and [`Items::Whole`]) whose item has no such member use the
    /// [`per_value`](Self::per_value) value or the last part of the kind id.
    pub id_field: &'static str,
    /// Query parameters sent with every listing.
    pub query: &'static [(&'static str, &'static str)],
    /// Further listings of the same path with extra query parameters, whose items are added
    /// (Okta lists `DEPROVISIONED` users only when asked for them by status).
    pub variants: &'static [&'static [(&'static str, &'static str)]],
    /// Values listed one by one (policy types, template names); empty: one listing.
    pub per_value: &'static [&'static str],
    /// The query parameter carrying a [`per_value`](Self::per_value) value; `None`: the value
    /// goes into the path as `{v}`.
    pub value_param: Option<&'static str>,
    /// Reduce each item to these members (memberships keep only the member id).
    pub keep_only: &'static [&'static str],
    /// Members removed from each item (derived data, key material).
    pub drop: &'static [&'static str],
    /// What a 404 means.
    pub absent: Absent,
    /// An empty object is "not configured" and skipped.
    pub skip_empty: bool,
    /// The listing holds summaries: each item is read again at `{path}/{id}`.
    pub detail: bool,
    /// A sub-resource listed once for all parents: the member of each item naming its parent.
    pub group_by: Option<&'static str>,
    /// Percent-encode the parent id parts and values put into the path (ids holding `|`).
    pub encode: bool,
    /// Parents read at once (per-parent listings and per-value listings).
    pub concurrency: usize,
    /// Errors of one parent's listing that mean "this parent has none" (besides a 404).
    pub empty_on: &'static [ErrorKind],
    /// Which parents have this sub-resource (`None`: all). For example Okta's built-in
    /// Everyone group, whose members are every user, is never listed.
    pub lists_parent: Option<fn(&Resource) -> bool>,
    /// Which items are kept (`None`: all). For example only directly assigned permissions.
    pub keeps_item: Option<fn(&Value) -> bool>,
    /// Reshapes an item, given its own id, before it is kept (`None`: as the API returns it).
    pub shape: Option<Shape>,
}

impl ListSpec {
    /// A plain listing of `path` read with `access`: a JSON array, one answer, items
    /// identified by `id`, 404 meaning the feature is missing, 8 parents at once.
    pub const fn new(path: &'static str, access: &'static str) -> ListSpec {
        ListSpec {
            path,
            access,
            items: Items::Array,
            paging: Paging::None,
            page_size: None,
            id_field: "id",
            query: &[],
            variants: &[],
            per_value: &[],
            value_param: None,
            keep_only: &[],
            drop: &[],
            absent: Absent::Unsupported,
            skip_empty: false,
            detail: false,
            group_by: None,
            encode: false,
            concurrency: 8,
            empty_on: &[],
            lists_parent: None,
            keeps_item: None,
            shape: None,
        }
    }

    /// Sets [`items`](Self::items).
    pub const fn items(mut self, items: Items) -> Self {
        self.items = items;
        self
    }
    /// Sets [`paging`](Self::paging).
    pub const fn paging(mut self, paging: Paging) -> Self {
        self.paging = paging;
        self
    }
    /// Sets [`page_size`](Self::page_size).
    pub const fn page_size(mut self, param: &'static str, size: u32) -> Self {
        self.page_size = Some((param, size));
        self
    }
    /// The answer is one object (sets [`Items::Singleton`], no paging).
    pub const fn singleton(mut self) -> Self {
        self.items = Items::Singleton;
        self.paging = Paging::None;
        self.page_size = None;
        self
    }
    /// Sets [`id_field`](Self::id_field).
    pub const fn id_field(mut self, field: &'static str) -> Self {
        self.id_field = field;
        self
    }
    /// Sets [`query`](Self::query).
    pub const fn query(mut self, query: &'static [(&'static str, &'static str)]) -> Self {
        self.query = query;
        self
    }
    /// Sets [`variants`](Self::variants).
    pub const fn variants(
        mut self,
        variants: &'static [&'static [(&'static str, &'static str)]],
    ) -> Self {
        self.variants = variants;
        self
    }
    /// Lists once per value, in the path as `{v}`.
    pub const fn per_value(mut self, values: &'static [&'static str]) -> Self {
        self.per_value = values;
        self.value_param = None;
        self
    }
    /// Lists once per value, sent as the query parameter `param`.
    pub const fn per_value_param(
        mut self,
        param: &'static str,
        values: &'static [&'static str],
    ) -> Self {
        self.per_value = values;
        self.value_param = Some(param);
        self
    }
    /// Sets [`keep_only`](Self::keep_only).
    pub const fn keep_only(mut self, fields: &'static [&'static str]) -> Self {
        self.keep_only = fields;
        self
    }
    /// Sets [`drop`](Self::drop).
    pub const fn drop(mut self, fields: &'static [&'static str]) -> Self {
        self.drop = fields;
        self
    }
    /// A 404 means "none configured" ([`Absent::Empty`]).
    pub const fn absent_is_empty(mut self) -> Self {
        self.absent = Absent::Empty;
        self
    }
    /// Sets [`skip_empty`](Self::skip_empty).
    pub const fn skip_empty(mut self) -> Self {
        self.skip_empty = true;
        self
    }
    /// Sets [`detail`](Self::detail).
    pub const fn detail(mut self) -> Self {
        self.detail = true;
        self
    }
    /// Sets [`group_by`](Self::group_by).
    pub const fn group_by(mut self, member: &'static str) -> Self {
        self.group_by = Some(member);
        self
    }
    /// Sets [`encode`](Self::encode).
    pub const fn encode(mut self) -> Self {
        self.encode = true;
        self
    }
    /// Sets [`concurrency`](Self::concurrency).
    pub const fn concurrency(mut self, parents: usize) -> Self {
        self.concurrency = parents;
        self
    }
    /// Sets [`empty_on`](Self::empty_on).
    pub const fn empty_on(mut self, kinds: &'static [ErrorKind]) -> Self {
        self.empty_on = kinds;
        self
    }
    /// Sets [`lists_parent`](Self::lists_parent).
    pub const fn lists_parent(mut self, f: fn(&Resource) -> bool) -> Self {
        self.lists_parent = Some(f);
        self
    }
    /// Sets [`keeps_item`](Self::keeps_item).
    pub const fn keeps_item(mut self, f: fn(&Value) -> bool) -> Self {
        self.keeps_item = Some(f);
        self
    }
    /// Sets [`shape`](Self::shape).
    pub const fn shape(mut self, f: Shape) -> Self {
        self.shape = Some(f);
        self
    }

    /// The [`NextPage`] rule of this listing, or `None` for a single answer.
    pub fn next_page(&self) -> Option<NextPage> {
        let (param, size) = self.page_size.unwrap_or(("per_page", 100));
        Some(match self.paging {
            Paging::None => return None,
            Paging::LinkHeader => NextPage::LinkHeader,
            Paging::ODataNextLink => NextPage::ODataNextLink,
            Paging::HalNext => NextPage::HalNext,
            Paging::PageNumber { totals } => NextPage::PageNumber {
                page_param: "page".into(),
                per_page_param: param.into(),
                per_page: size,
                items_field: match self.items {
                    Items::Member(m) | Items::Embedded(m) => Some(m.into()),
                    _ => None,
                },
                total_field: totals.then(|| "total".into()),
            },
            Paging::Checkpoint => NextPage::Checkpoint {
                from_param: "from".into(),
                take_param: param.into(),
                take: size,
                next_field: "next".into(),
            },
        })
    }
}

/// A table row: a kind descriptor with the columns of its listing.
///
/// Provider rows carry a [`KindSpec`](crate::kind::KindSpec) and a [`ListSpec`] plus their
/// own columns (bucket, write mode); implementing this trait puts them under [`fetch`],
/// [`probe`] and [`parse_page`].
pub trait TableKind: ResourceKind + 'static {
    /// How the kind is listed.
    fn list_spec(&self) -> &ListSpec;
}

/// A table row with no provider columns: a kind descriptor and its listing. Read-only kinds
/// of a provider that writes nothing (1Password Connect) need no more.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// The core descriptor.
    pub spec: crate::kind::KindSpec,
    /// How it is listed.
    pub list: ListSpec,
}

impl crate::kind::HasKindSpec for Row {
    fn spec(&self) -> &crate::kind::KindSpec {
        &self.spec
    }
}

impl TableKind for Row {
    fn list_spec(&self) -> &ListSpec {
        &self.list
    }
}

/// Declares a provider's kind table: `kind_table!(RowType: ROW_A, ROW_B, …)` defines
/// `ROWS` (the rows, in table order), `TABLE` (the rows as `&dyn TableKind`), `all()` (the
/// rows as [`KindRef`](crate::kind::KindRef)s), `row_of(id)`, `row_for(kind)` (a `Config`
/// error for a kind of another table) and `rows_of(kinds)`.
#[macro_export]
macro_rules! kind_table {
    ($row:ty: $($name:ident),* $(,)?) => {
        /// Every row of the table, in table order.
        pub static ROWS: &[&$row] = &[$(&$name),*];
        /// Every row of the table, as table rows of any provider.
        pub static TABLE: &[&dyn $crate::table::TableKind] = &[$(&$name),*];
        static KINDS: &[$crate::kind::KindRef] = &[$(&$name),*];
        /// Every kind of the table, as core descriptors.
        pub fn all() -> &'static [$crate::kind::KindRef] {
            KINDS
        }
        /// The row of a kind id.
        pub fn row_of(id: &str) -> Option<&'static $row> {
            ROWS.iter()
                .copied()
                .find(|r| $crate::kind::ResourceKind::id(*r) == id)
        }
        /// The row of a kind, or a `Config` error naming a kind of another table.
        pub fn row_for(
            kind: &dyn $crate::kind::ResourceKind,
        ) -> $crate::Result<&'static $row> {
            row_of(kind.id()).ok_or_else(|| {
                $crate::Error::config(format!("{} is not a kind of this provider", kind.id()))
            })
        }
        /// The rows of these kinds, in their order; kinds of other tables are left out.
        pub fn rows_of(kinds: &[$crate::kind::KindRef]) -> Vec<&'static $row> {
            kinds.iter().filter_map(|k| row_of(k.id())).collect()
        }
    };
}

/// Percent-encodes one path segment (unreserved characters stay).
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The path of a row under a parent id and for a [`ListSpec::per_value`] value.
pub fn list_path(row: &dyn TableKind, parent_id: Option<&str>, value: Option<&str>) -> String {
    let spec = row.list_spec();
    let enc = |s: &str| {
        if spec.encode {
            encode_segment(s)
        } else {
            s.to_string()
        }
    };
    let mut path = spec.path.to_string();
    if let Some(parent) = parent_id {
        for (i, part) in parent.split('/').enumerate() {
            path = path.replace(&format!("{{{i}}}"), &enc(part));
        }
    }
    if let Some(v) = value {
        path = path.replace("{v}", &enc(v));
    }
    path
}

/// The constant id of a singleton kind: the last part of its id (`okta.org_settings` →
/// `org_settings`), the same in every tenant so singletons match across tenants.
pub fn singleton_id(kind: &dyn ResourceKind) -> &str {
    kind.id().rsplit('.').next().unwrap_or("singleton")
}

/// The own id of an item by [`ListSpec::id_field`], or `None` when a part is missing.
pub fn item_id(spec: &ListSpec, item: &Value) -> Option<String> {
    let one = |field: &str| {
        if field.starts_with('/') {
            item.pointer(field)
        } else {
            item.get(field)
        }
        .and_then(Value::as_str)
    };
    if spec.id_field.contains('|') {
        let parts: Option<Vec<&str>> = spec.id_field.split('|').map(one).collect();
        return parts.map(|p| p.join("|"));
    }
    one(spec.id_field).map(str::to_string)
}

fn shape_error(row: &dyn TableKind, what: &str) -> Error {
    Error::invalid_data(format!("{}: {what}", row.id()))
}

/// The items of one answer, taken out of the body.
pub fn items_of(row: &dyn TableKind, body: Value) -> Result<Vec<Value>> {
    let spec = row.list_spec();
    match (spec.items, body) {
        (Items::Singleton, body) => Ok(vec![body]),
        (Items::Whole(member), Value::Array(list)) => {
            let mut map = Map::new();
            map.insert(member.to_string(), Value::Array(list));
            Ok(vec![Value::Object(map)])
        }
        (Items::Whole(_), _) => Err(shape_error(row, "expected a JSON array")),
        (Items::Array | Items::Member(_), Value::Array(list)) => Ok(list),
        (Items::Array, _) => Err(shape_error(row, "expected a JSON array")),
        (Items::Member(member), Value::Object(mut map)) => match map.remove(member) {
            Some(Value::Array(list)) => Ok(list),
            _ => Err(shape_error(
                row,
                &format!("expected an array or an object with a {member:?} array"),
            )),
        },
        (Items::Member(member), _) => Err(shape_error(
            row,
            &format!("expected an array or an object with a {member:?} array"),
        )),
        (Items::Embedded(member), Value::Object(mut map)) => {
            match map
                .remove("_embedded")
                .and_then(|mut e| e.get_mut(member).map(Value::take))
            {
                Some(Value::Array(list)) => Ok(list),
                // HAL omits an empty collection's member.
                None => Ok(Vec::new()),
                Some(_) => Err(shape_error(
                    row,
                    &format!("_embedded.{member} is not an array"),
                )),
            }
        }
        (Items::Embedded(_), _) => Err(shape_error(row, "expected a HAL object")),
    }
}

/// Parses one answer of a kind into resources, consuming it: the one parsing path of every
/// table, used by backups and by the fidelity tests over recorded answers. `value` is the
/// [`ListSpec::per_value`] value the answer is for.
pub fn parse_page(
    row: &dyn TableKind,
    parent_id: Option<&str>,
    value: Option<&str>,
    body: Value,
) -> Result<Vec<Resource>> {
    let spec = row.list_spec();
    let items = items_of(row, body)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if !item.is_object() {
            return Err(shape_error(row, "an item is not a JSON object"));
        }
        if spec.skip_empty && item.as_object().is_some_and(Map::is_empty) {
            continue;
        }
        if let Some(keep) = spec.keeps_item
            && !keep(&item)
        {
            continue;
        }
        let whole = matches!(spec.items, Items::Singleton | Items::Whole(_));
        let own = match item_id(spec, &item) {
            Some(id) if !(whole && spec.id_field == "id") => Some(id),
            _ if whole => Some(value.unwrap_or_else(|| singleton_id(row)).to_string()),
            _ => None,
        }
        .ok_or_else(|| shape_error(row, &format!("an item has no {:?}", spec.id_field)))?;
        let parent = match spec.group_by {
            Some(field) => Some(
                item.get(field)
                    .and_then(Value::as_str)
                    .ok_or_else(|| shape_error(row, &format!("an item has no {field:?}")))?
                    .to_string(),
            ),
            None => parent_id.map(str::to_string),
        };
        let Value::Object(mut map) = item else {
            return Err(shape_error(row, "an item is not a JSON object"));
        };
        if !spec.keep_only.is_empty() {
            map.retain(|k, _| spec.keep_only.contains(&k.as_str()));
        }
        for d in spec.drop {
            map.remove(*d);
        }
        let body = match spec.shape {
            Some(shape) => shape(&own, map),
            None => Value::Object(map),
        };
        let id = match &parent {
            Some(p) => format!("{p}/{own}"),
            None => own,
        };
        out.push(Resource::new(row, id, parent, body));
    }
    Ok(out)
}

/// What a provider's client supplies to the table engine.
///
/// Everything has a default but [`http`](Self::http): the HTTP client that reads.
pub trait TableSource<K: TableKind>: Send + Sync {
    /// The client that reads (its layers apply: auth, rate limits, retries, error mapping).
    fn http(&self) -> &HttpClient;
    /// Adds provider query parameters to the first request of a listing (`$select`).
    fn decorate(&self, row: &K, req: Request) -> Request {
        let _ = row;
        req
    }
    /// Whether an error of one part of a kind means "this tenant does not offer that part"
    /// (a 404; providers add their "feature not enabled" answers).
    fn is_absent(&self, e: &Error) -> bool {
        matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Unsupported)
    }
    /// Whether the credentials were granted `access`, when the provider knows it without a
    /// request (the scopes of the last token); `true` when unknown.
    fn granted(&self, access: &str) -> bool {
        let _ = access;
        true
    }
}

/// Reads a whole kind through its table row: every parent (bounded), every value, every
/// page and variant; errors mapped as the module docs say.
pub async fn fetch<K, S>(source: &S, row: &'static K, ctx: &FetchContext) -> Result<Vec<Resource>>
where
    K: TableKind,
    S: TableSource<K>,
{
    let spec = row.list_spec();
    if !source.granted(spec.access) {
        return Err(Error::new(ErrorKind::Denied, spec.access));
    }
    let result = match (row.parent(), spec.group_by) {
        (None, _) => list_values(source, row, None, &ctx.warnings).await,
        // Listed once for all parents, each item naming its parent.
        (Some(_), Some(_)) => {
            let parents: BTreeSet<&str> = ctx.parents.iter().map(|p| p.id.as_str()).collect();
            list_values(source, row, None, &ctx.warnings)
                .await
                .map(|list| {
                    list.into_iter()
                        .filter(|r| r.parent_id.as_deref().is_some_and(|p| parents.contains(p)))
                        .collect()
                })
        }
        (Some(_), None) => {
            // Owned ids: the stream's closures then need no higher-ranked lifetimes, and the
            // future stays `Send` inside `async_trait` methods.
            let parents: Vec<String> = ctx
                .parents
                .iter()
                .filter(|p| spec.lists_parent.is_none_or(|f| f(p)))
                .map(|p| p.id.clone())
                .collect();
            let warnings = &ctx.warnings;
            futures::stream::iter(parents)
                .map(|parent| list_parent(source, row, parent, warnings))
                .buffer_unordered(spec.concurrency.max(1))
                .try_concat()
                .await
        }
    };
    result.map_err(|e| fetch_error(row, e))
}

/// Maps an error of reading a row: Denied names the row's access; a top-level 404 is
/// Unsupported (the tenant does not have the listing); others get the kind as context.
pub fn fetch_error(row: &dyn TableKind, e: Error) -> Error {
    let spec = row.list_spec();
    match e.kind() {
        ErrorKind::Denied => Error::new(ErrorKind::Denied, spec.access),
        ErrorKind::NotFound if row.parent().is_none() => Error::new(
            ErrorKind::Unsupported,
            format!(
                "GET {} answered 404: not available in this tenant ({})",
                list_path(row, None, spec.per_value.first().copied()),
                e.message()
            ),
        ),
        _ => e.context(format!("reading {}", row.id())),
    }
}

/// Every value of a row under one parent; a part the tenant does not offer is a warning when
/// the row has several parts.
async fn list_values<K, S>(
    source: &S,
    row: &'static K,
    parent: Option<&str>,
    warnings: &KindWarnings,
) -> Result<Vec<Resource>>
where
    K: TableKind,
    S: TableSource<K>,
{
    let spec = row.list_spec();
    // Indices, not borrowed values: the stream's closure then has no lifetime in its
    // argument, which rustc needs to prove the future `Send` inside `async_trait` methods.
    let count = spec.per_value.len().max(1);
    let lists: Vec<Vec<Resource>> = futures::stream::iter(0..count)
        .map(|i| {
            list_value(
                source,
                row,
                parent,
                spec.per_value.get(i).copied(),
                warnings,
            )
        })
        .buffered(spec.concurrency.max(1))
        .try_collect()
        .await?;
    Ok(lists.into_iter().flatten().collect())
}

/// One value's listing of a row, a part the tenant does not offer kept as a warning. A named
/// `async fn` rather than an `async` block in a closure, so the future is `Send` for every
/// lifetime (rustc cannot prove that of the closure form inside `async_trait` methods).
async fn list_value<K, S>(
    source: &S,
    row: &'static K,
    parent: Option<&str>,
    value: Option<&'static str>,
    warnings: &KindWarnings,
) -> Result<Vec<Resource>>
where
    K: TableKind,
    S: TableSource<K>,
{
    let spec = row.list_spec();
    match list(source, row, parent, value).await {
        Err(e) if e.kind() == ErrorKind::NotFound && spec.absent == Absent::Empty => Ok(Vec::new()),
        Err(e) if spec.per_value.len() > 1 && source.is_absent(&e) => {
            let path = list_path(row, parent, value);
            warnings.warn(match spec.value_param {
                Some(param) => format!(
                    "GET {path}?{param}={} was not read: {e}",
                    value.unwrap_or_default()
                ),
                None => format!("GET {path} was not read: {e}"),
            });
            Ok(Vec::new())
        }
        other => other,
    }
}

/// One parent's listings of a sub-resource; a parent that went away (404), or answers one of
/// the row's [`ListSpec::empty_on`] errors, has none.
async fn list_parent<K, S>(
    source: &S,
    row: &'static K,
    parent: String,
    warnings: &KindWarnings,
) -> Result<Vec<Resource>>
where
    K: TableKind,
    S: TableSource<K>,
{
    match list_values(source, row, Some(&parent), warnings).await {
        Err(e)
            if e.kind() == ErrorKind::NotFound || row.list_spec().empty_on.contains(&e.kind()) =>
        {
            Ok(Vec::new())
        }
        other => other,
    }
}

/// Reads one item in full at `{path}/{own id}` ([`ListSpec::detail`]).
async fn read_detail<K, S>(
    source: &S,
    row: &'static K,
    path: &str,
    parent: Option<&str>,
    value: Option<&str>,
    summary: Resource,
) -> Result<Resource>
where
    K: TableKind,
    S: TableSource<K>,
{
    let own = summary.id.rsplit('/').next().unwrap_or(&summary.id);
    let body = source
        .http()
        .get(&format!("{path}/{}", encode_segment(own)))
        .await?
        .value()?;
    let mut one = parse_page(row, parent, value, Value::Array(vec![body]))?;
    one.pop()
        .ok_or_else(|| shape_error(row, "an item read in full was skipped"))
}

/// One listing of a row (every page of it and of its variants).
pub async fn list<K, S>(
    source: &S,
    row: &'static K,
    parent: Option<&str>,
    value: Option<&str>,
) -> Result<Vec<Resource>>
where
    K: TableKind,
    S: TableSource<K>,
{
    let spec = row.list_spec();
    let path = list_path(row, parent, value);
    let base: &[(&str, &str)] = &[];
    let mut out = Vec::new();
    for extra in std::iter::once(base).chain(spec.variants.iter().copied()) {
        let mut req = Request::get(&path);
        if let (Some((param, size)), Paging::LinkHeader | Paging::ODataNextLink | Paging::HalNext) =
            (spec.page_size, spec.paging)
        {
            req = req.query(param, size);
        }
        if let Paging::PageNumber { totals: true } = spec.paging {
            req = req.query("include_totals", "true");
        }
        if let (Some(param), Some(v)) = (spec.value_param, value) {
            req = req.query(param, v);
        }
        for (k, v) in spec.query.iter().chain(extra) {
            req = req.query(k, v);
        }
        let req = source.decorate(row, req);
        match spec.next_page() {
            None => {
                let body = source.http().send(req).await?.value()?;
                out.extend(parse_page(row, parent, value, body)?);
            }
            Some(next) => {
                let mut pages = source.http().pages(req, next);
                while let Some(page) = pages.next().await {
                    out.extend(parse_page(row, parent, value, page?.value()?)?);
                }
            }
        }
    }
    if !spec.detail {
        return Ok(out);
    }
    // The listing holds summaries: read each item in full.
    let path = &path;
    futures::stream::iter(out)
        .map(|summary| read_detail(source, row, path, parent, value, summary))
        .buffered(spec.concurrency.max(1))
        .try_collect()
        .await
}

/// One small request to see whether a top-level row can be read.
pub async fn probe_row<K, S>(source: &S, row: &'static K) -> Result<Access>
where
    K: TableKind,
    S: TableSource<K>,
{
    let spec = row.list_spec();
    if !source.granted(spec.access) {
        return Ok(Access::Denied {
            missing: spec.access.to_string(),
        });
    }
    let value = spec.per_value.first().copied();
    let mut req = Request::get(&list_path(row, None, value));
    if let (Some(param), Some(v)) = (spec.value_param, value) {
        req = req.query(param, v);
    }
    match (spec.paging, spec.page_size) {
        (Paging::PageNumber { .. }, Some((param, _))) => req = req.query(param, 1).query("page", 0),
        (_, Some((param, _))) => req = req.query(param, 1),
        _ => {}
    }
    match source.http().send(req).await {
        Ok(_) => Ok(Access::Readable),
        Err(e) => match e.kind() {
            ErrorKind::Denied => Ok(Access::Denied {
                missing: spec.access.to_string(),
            }),
            ErrorKind::Unsupported => Ok(Access::Unsupported {
                reason: e.message().to_string(),
            }),
            ErrorKind::NotFound if spec.absent == Absent::Empty => Ok(Access::Readable),
            ErrorKind::NotFound => Ok(Access::Unsupported {
                reason: "the endpoint does not exist in this tenant".into(),
            }),
            _ => Err(e.context(format!("probing {}", row.id()))),
        },
    }
}

/// The access probe of a table: one request per row with a path of its own (top-level rows
/// and rows listed for all parents at once, sequentially: a probe is small), and for each
/// sub-kind its nearest probed ancestor's answer, a denial naming the sub-kind's own scope.
/// A sub-kind read with a scope that a probed row was denied is denied too.
pub async fn probe<K, S>(source: &S, rows: &[&'static K]) -> Result<AccessReport>
where
    K: TableKind,
    S: TableSource<K>,
{
    let mut report = AccessReport::default();
    let (direct, nested): (Vec<&'static K>, Vec<&'static K>) = rows
        .iter()
        .copied()
        .partition(|r| r.parent().is_none() || r.list_spec().group_by.is_some());
    for r in &direct {
        let access = probe_row(source, *r).await?;
        report.kinds.insert(r.id().to_string(), access);
    }
    for r in nested {
        let access = inherited_access(
            &report,
            r,
            rows,
            &direct,
            source.granted(r.list_spec().access),
        );
        report.kinds.insert(r.id().to_string(), access);
    }
    Ok(report)
}

fn inherited_access<K: TableKind>(
    report: &AccessReport,
    row: &'static K,
    rows: &[&'static K],
    direct: &[&'static K],
    granted: bool,
) -> Access {
    let access_of = |id: &str| rows.iter().find(|r| r.id() == id).copied();
    let mut access = Access::Readable;
    let mut parent = row.parent().map(str::to_string);
    while let Some(p) = parent {
        if let Some(a) = report.kinds.get(&p) {
            access = a.clone();
            break;
        }
        parent = access_of(&p).and_then(|r| r.parent().map(str::to_string));
    }
    let scope = row.list_spec().access;
    let same_scope_denied = direct.iter().any(|d| {
        d.list_spec().access == scope
            && matches!(report.kinds.get(d.id()), Some(Access::Denied { .. }))
    });
    if !granted || same_scope_denied || matches!(access, Access::Denied { .. }) {
        access = Access::Denied {
            missing: scope.to_string(),
        };
    }
    access
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::{Category, KindSpec};
    use serde_json::json;

    static SETTINGS: Row = Row {
        spec: KindSpec::new("t.org_settings", "Settings", Category::Settings),
        list: ListSpec::new("api/org", "org.read").singleton(),
    };
    static PERMISSION: Row = Row {
        spec: KindSpec {
            parent: Some("t.user"),
            ..KindSpec::new("t.permission", "Permissions", Category::Authorization)
        },
        list: ListSpec::new("api/users/{0}/permissions", "users.read")
            .items(Items::Member("permissions"))
            .id_field("audience|name")
            .drop(&["description"])
            .encode()
            .keeps_item(|item| item["direct"] == true),
    };
    static GUARDIAN: Row = Row {
        spec: KindSpec::new("t.guardian", "Guardian", Category::Security),
        list: ListSpec::new("api/guardian/{v}", "guardian.read")
            .items(Items::Whole("policies"))
            .per_value(&["sms", "push"]),
    };
    static HAL: Row = Row {
        spec: KindSpec::new("t.population", "Populations", Category::Directory),
        list: ListSpec::new("populations", "env.read")
            .items(Items::Embedded("populations"))
            .paging(Paging::HalNext)
            .shape(|own, mut map| {
                map.insert("own".into(), json!(own));
                Value::Object(map)
            }),
    };

    #[test]
    fn paths_encode_parent_parts_and_values() {
        assert_eq!(
            list_path(&PERMISSION, Some("auth0|1"), None),
            "api/users/auth0%7C1/permissions"
        );
        assert_eq!(list_path(&GUARDIAN, None, Some("sms")), "api/guardian/sms");
    }

    #[test]
    fn singletons_and_whole_arrays_take_constant_ids() {
        let r = parse_page(&SETTINGS, None, None, json!({"id": "00o1", "name": "x"})).unwrap();
        assert_eq!(r[0].id, "org_settings");
        let r = parse_page(&GUARDIAN, None, Some("sms"), json!(["all"])).unwrap();
        assert_eq!(r[0].id, "sms");
        assert_eq!(*r[0].body, json!({"policies": ["all"]}));
        assert!(parse_page(&GUARDIAN, None, Some("sms"), json!({"a": 1})).is_err());
    }

    #[test]
    fn composite_ids_filters_and_drops() {
        let page = json!({"permissions": [
            {"audience": "https://api/", "name": "read:x", "description": "d", "direct": true},
            {"audience": "https://api/", "name": "read:y", "direct": false},
        ]});
        let r = parse_page(&PERMISSION, Some("u1"), None, page).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].id, "u1/https://api/|read:x");
        assert_eq!(r[0].parent_id.as_deref(), Some("u1"));
        assert!(r[0].body.get("description").is_none());
        let missing = json!({"permissions": [{"audience": "a", "direct": true}]});
        let err = parse_page(&PERMISSION, Some("u1"), None, missing).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert!(err.to_string().contains("audience|name"), "{err}");
        assert!(parse_page(&PERMISSION, None, None, json!({"nope": []})).is_err());
        assert!(parse_page(&PERMISSION, None, None, json!([1])).is_err());
    }

    #[test]
    fn hal_embedded_items_are_shaped() {
        let page = json!({"_links": {}, "_embedded": {"populations": [{"id": "p1"}]}});
        let r = parse_page(&HAL, None, None, page).unwrap();
        assert_eq!(r[0].body["own"], "p1");
        assert!(
            parse_page(&HAL, None, None, json!({"_embedded": {}}))
                .unwrap()
                .is_empty()
        );
        assert!(parse_page(&HAL, None, None, json!([])).is_err());
    }

    #[test]
    fn next_page_rules_follow_the_paging_column() {
        let pages = ListSpec::new("x", "s")
            .items(Items::Member("clients"))
            .paging(Paging::PageNumber { totals: true })
            .page_size("per_page", 50);
        match pages.next_page() {
            Some(NextPage::PageNumber {
                per_page,
                items_field,
                total_field,
                ..
            }) => {
                assert_eq!(per_page, 50);
                assert_eq!(items_field.as_deref(), Some("clients"));
                assert_eq!(total_field.as_deref(), Some("total"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(ListSpec::new("x", "s").next_page(), None);
    }

    #[test]
    fn sub_kinds_inherit_their_parents_access_with_their_own_scope() {
        static USER: Row = Row {
            spec: KindSpec::new("t.user", "Users", Category::Directory),
            list: ListSpec::new("api/users", "users.read"),
        };
        static ROLE: Row = Row {
            spec: KindSpec {
                parent: Some("t.user"),
                ..KindSpec::new("t.role", "Roles", Category::Directory)
            },
            list: ListSpec::new("api/users/{0}/roles", "roles.read"),
        };
        let rows: Vec<&'static Row> = vec![&USER, &PERMISSION, &ROLE];
        let mut report = AccessReport::default();
        report.kinds.insert(
            "t.user".into(),
            Access::Denied {
                missing: "users.read".into(),
            },
        );
        let direct = vec![&USER];
        assert_eq!(
            inherited_access(&report, &ROLE, &rows, &direct, true),
            Access::Denied {
                missing: "roles.read".into()
            }
        );
        report.kinds.insert("t.user".into(), Access::Readable);
        assert_eq!(
            inherited_access(&report, &ROLE, &rows, &direct, true),
            Access::Readable
        );
        assert_eq!(
            inherited_access(&report, &ROLE, &rows, &direct, false),
            Access::Denied {
                missing: "roles.read".into()
            }
        );
    }
}
