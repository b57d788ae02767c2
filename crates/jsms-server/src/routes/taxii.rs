//! TAXII 2.1 (OASIS) over the threat reports: discovery, one API root, collections, objects
//! (GET with `added_after`, `match[type]`, `match[id]`, `match[version]`,
//! `match[spec_version]`, `limit` and `next`; POST of envelopes answered with a status
//! resource), one object, its versions, manifests and status. Authentication is an API
//! token (Bearer, or Basic with the token as the password).
//!
//! Collections are releasability scopes: `joint` holds the reports released to both
//! parties (TLP:CLEAR, TLP:GREEN, TLP:AMBER released to the other party); each party has a
//! collection of the reports it keeps to itself. A caller sees the collections of its
//! scopes, and within them only the objects of reports the authorization component lets it
//! read; pushing to a collection imports into that scope (see
//! [`crate::routes::reports::import_objects`]).
//!
//! Every answer, errors included, is `application/taxii+json;version=2.1`.

use crate::auth::Principal;
use crate::error::ApiError;
use crate::routes::reports::{import_objects, to_stix};
use crate::state::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsms_domain::access::ActorKind;
use jsms_domain::ids::PartyId;
use jsms_domain::user::ApiScope;
use jsms_service::intel::Purpose;
use jsms_store::ReportMeta;
use serde_json::{Value, json};
use uuid::Uuid;

/// The TAXII 2.1 media type.
pub const TAXII: &str = "application/taxii+json;version=2.1";
/// The STIX 2.1 media type.
pub const STIX: &str = "application/stix+json;version=2.1";
/// Objects per page at most (and by default).
pub const MAX_PAGE: usize = 1000;
/// Largest envelope accepted, bytes.
pub const MAX_CONTENT_LENGTH: usize = 8 * 1024 * 1024;

/// The TAXII routes (not in the OpenAPI document: TAXII is its own standard).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/taxii2/", get(discovery))
        .route("/taxii2/api/", get(api_root))
        .route("/taxii2/api/status/{id}/", get(status))
        .route("/taxii2/api/collections/", get(collections))
        .route("/taxii2/api/collections/{id}/", get(collection))
        .route("/taxii2/api/collections/{id}/manifest/", get(manifest))
        .route("/taxii2/api/collections/{id}/objects/", get(objects).post(add_objects))
        .route("/taxii2/api/collections/{id}/objects/{object}/", get(object))
        .route("/taxii2/api/collections/{id}/objects/{object}/versions/", get(versions))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_CONTENT_LENGTH))
}

/// A TAXII error message.
struct TaxiiError {
    status: StatusCode,
    title: String,
    description: String,
}

impl TaxiiError {
    fn new(status: StatusCode, title: &str, description: impl Into<String>) -> Self {
        Self {
            status,
            title: title.to_owned(),
            description: description.into(),
        }
    }
}

impl From<jsms_service::Error> for TaxiiError {
    fn from(e: jsms_service::Error) -> Self {
        ApiError::from(e).into()
    }
}

impl From<ApiError> for TaxiiError {
    fn from(e: ApiError) -> Self {
        let description = e.to_string();
        let status = e.into_response().status();
        let title = status.canonical_reason().unwrap_or("Error");
        Self::new(status, title, description)
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let body = json!({"title": self.title, "description": self.description,
                          "http_status": self.status.as_u16().to_string()});
        let mut r = (self.status, [(header::CONTENT_TYPE, TAXII)], body.to_string()).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"jsms\", Basic realm=\"jsms\""),
            );
        }
        r
    }
}

type Taxii = Result<Response, TaxiiError>;

fn ok(status: StatusCode, body: &Value, extra: &[(&'static str, String)]) -> Response {
    let mut r = (status, [(header::CONTENT_TYPE, TAXII)], body.to_string()).into_response();
    for (k, v) in extra {
        if let Ok(v) = HeaderValue::from_str(v) {
            r.headers_mut().insert(*k, v);
        }
    }
    r
}

/// Checks the `Accept` header asks for TAXII 2.1 (or any TAXII version).
/// Whether a media type is TAXII (version 2.1 or unversioned); `extra` admits other
/// parameters (an Accept header's `q=`).
fn is_taxii(media: &str, extra: &str) -> bool {
    let tokens: Vec<String> = media
        .split(';')
        .map(|t| t.trim().replace(' ', "").to_ascii_lowercase())
        .collect();
    tokens.first().is_some_and(|t| t == "application/taxii+json")
        && tokens
            .iter()
            .skip(1)
            .all(|t| t == "version=2.1" || (!extra.is_empty() && t.starts_with(extra)))
}

fn accepts(headers: &HeaderMap) -> Result<(), TaxiiError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.split(',').any(|part| is_taxii(part, "q=")) {
        Ok(())
    } else {
        Err(TaxiiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable",
            format!("send Accept: {TAXII}"),
        ))
    }
}

/// The caller, authenticated, for TAXII: an API token with the `intel_exchange` scope (or a
/// signed-in user; either way each object is then decided by the authorization component).
fn caller(p: Result<Principal, ApiError>) -> Result<Principal, TaxiiError> {
    let p = p.map_err(|e| match e {
        ApiError::Unauthenticated | ApiError::SessionExpired | ApiError::InvalidCredentials => TaxiiError::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "present an API token with the intel_exchange scope (Bearer, or Basic with the token as password)",
        ),
        other => other.into(),
    })?;
    if let ActorKind::Machine { scopes, .. } = &p.actor.kind
        && !scopes.contains(&ApiScope::IntelExchange)
    {
        return Err(TaxiiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "this token lacks the intel_exchange scope",
        ));
    }
    Ok(p)
}

/// A releasability scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Released to both parties.
    Joint,
    /// Kept to one party.
    Party(PartyId),
}

fn scope_id(s: Scope) -> Uuid {
    let name = match s {
        Scope::Joint => "collection:joint".to_owned(),
        Scope::Party(p) => format!("collection:party:{p}"),
    };
    Uuid::new_v5(&jsms_stix::NAMESPACE, name.as_bytes())
}

/// A report's collection: `Joint` when it reaches beyond its party — released to both, or
/// AMBER+STRICT naming organisations (the authorization component then decides per
/// organisation) — otherwise its party's.
fn scope_of(m: &ReportMeta) -> Scope {
    if m.marking.shared || (m.marking.tlp == jsms_domain::intel::Tlp::AmberStrict && !m.marking.orgs.is_empty()) {
        Scope::Joint
    } else {
        Scope::Party(m.party)
    }
}

/// The scopes the caller sees: the joint one and its own party's.
fn scopes(p: &Principal) -> [Scope; 2] {
    [Scope::Joint, Scope::Party(p.actor.party_id)]
}

async fn collection_view(state: &AppState, p: &Principal, s: Scope) -> Result<Value, TaxiiError> {
    let (title, description) = match s {
        Scope::Joint => (
            "Joint".to_owned(),
            "Threat reports released to both parties (TLP:CLEAR, TLP:GREEN, TLP:AMBER released to the other party)."
                .to_owned(),
        ),
        Scope::Party(id) => {
            let party = state.party(id).await?;
            (
                party.name.clone(),
                format!(
                    "Threat reports {} keeps to itself (TLP:AMBER, TLP:AMBER+STRICT, TLP:RED).",
                    party.name
                ),
            )
        }
    };
    let can_write = state.services.may_import(p);
    Ok(json!({"id": scope_id(s), "title": title, "description": description,
              "can_read": true, "can_write": can_write, "media_types": [STIX]}))
}

/// The scope of a collection id the caller may see, or 404.
fn find_scope(p: &Principal, raw: &str) -> Result<Scope, TaxiiError> {
    let id = Uuid::parse_str(raw).ok();
    scopes(p)
        .into_iter()
        .find(|s| Some(scope_id(*s)) == id)
        .ok_or_else(|| TaxiiError::new(StatusCode::NOT_FOUND, "Not Found", "no such collection"))
}

async fn discovery(State(state): State<AppState>, headers: HeaderMap, p: Result<Principal, ApiError>) -> Taxii {
    accepts(&headers)?;
    caller(p)?;
    // The API root as a URL on the host the client reached (a path when it sent none).
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|c| c.is_ascii_alphanumeric() || b".-:[]".contains(&c)));
    let root = match host {
        Some(h) => format!(
            "{}://{h}/taxii2/api/",
            if state.secure_cookies { "https" } else { "http" }
        ),
        None => "/taxii2/api/".to_owned(),
    };
    Ok(ok(
        StatusCode::OK,
        &json!({"title": "JSMS TAXII", "description": "Threat reports of the Joint Security Management System.",
                "default": root, "api_roots": [root]}),
        &[],
    ))
}

async fn api_root(headers: HeaderMap, p: Result<Principal, ApiError>) -> Taxii {
    accepts(&headers)?;
    caller(p)?;
    Ok(ok(
        StatusCode::OK,
        &json!({"title": "JSMS threat reports", "versions": [TAXII], "max_content_length": MAX_CONTENT_LENGTH}),
        &[],
    ))
}

async fn collections(State(state): State<AppState>, headers: HeaderMap, p: Result<Principal, ApiError>) -> Taxii {
    accepts(&headers)?;
    let p = caller(p)?;
    let mut list = Vec::new();
    for s in scopes(&p) {
        list.push(collection_view(&state, &p, s).await?);
    }
    Ok(ok(StatusCode::OK, &json!({"collections": list}), &[]))
}

async fn collection(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Result<Principal, ApiError>,
    Path(id): Path<String>,
) -> Taxii {
    accepts(&headers)?;
    let p = caller(p)?;
    let s = find_scope(&p, &id)?;
    Ok(ok(StatusCode::OK, &collection_view(&state, &p, s).await?, &[]))
}

/// The filters of an objects or manifest request.
#[derive(Debug, Default)]
struct Filters {
    added_after: Option<i64>,
    limit: usize,
    next: usize,
    types: Vec<String>,
    ids: Vec<String>,
    versions: Vec<String>,
    spec_versions: Vec<String>,
}

fn bad(detail: impl Into<String>) -> TaxiiError {
    TaxiiError::new(StatusCode::BAD_REQUEST, "Bad Request", detail)
}

fn filters(raw: Option<&str>) -> Result<Filters, TaxiiError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|_| bad("the query string is not form-encoded"))?;
    let mut f = Filters {
        limit: MAX_PAGE,
        ..Filters::default()
    };
    let list = |v: &str| {
        v.split(',')
            .map(|x| x.trim().to_owned())
            .filter(|x| !x.is_empty())
            .collect()
    };
    for (k, v) in pairs {
        match k.as_str() {
            "added_after" => {
                f.added_after = Some(
                    jsms_stix::parse_timestamp_ms(&v)
                        .ok_or_else(|| bad("added_after: a timestamp like 2026-11-30T08:00:00.000Z"))?,
                );
            }
            "limit" => {
                let n: usize = v.parse().map_err(|_| bad("limit: a positive integer"))?;
                if n == 0 {
                    return Err(bad("limit: a positive integer"));
                }
                f.limit = n.min(MAX_PAGE);
            }
            "next" => {
                f.next = v
                    .parse()
                    .map_err(|_| bad("next: the value of a previous answer's next"))?
            }
            "match[type]" => f.types = list(&v),
            "match[id]" => f.ids = list(&v),
            "match[version]" => f.versions = list(&v),
            "match[spec_version]" => f.spec_versions = list(&v),
            other => return Err(bad(format!("unknown parameter {other}"))),
        }
    }
    for v in &f.versions {
        if !matches!(v.as_str(), "first" | "last" | "all") && jsms_stix::parse_timestamp(v).is_none() {
            return Err(bad("match[version]: first, last, all or a timestamp"));
        }
    }
    Ok(f)
}

/// One object in a collection: when it was added, its version, the object.
#[derive(Debug)]
pub struct Entry {
    added: i64,
    version: String,
    object: Value,
}

/// How long computed collection contents are reused (paging through one pull).
const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(30);
/// Collection contents kept at most.
const CACHE_SIZE: usize = 16;

/// Collection contents recently computed for one caller, so that paging through a pull does
/// not open every report again for every page. A content is reused only for the very same
/// caller (every attribute the authorization component decides on), while no report was
/// created or re-marked, and for at most 30 seconds.
#[derive(Debug, Default)]
pub struct TaxiiCache {
    inner: std::sync::Mutex<Vec<CacheItem>>,
}

/// (caller and collection, report event number, when computed, the content).
type CacheItem = (String, u64, std::time::Instant, std::sync::Arc<Vec<Entry>>);

impl TaxiiCache {
    fn get(&self, key: &str, seq: u64) -> Option<std::sync::Arc<Vec<Entry>>> {
        let items = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        items
            .iter()
            .find(|(k, s, at, _)| k == key && *s == seq && at.elapsed() < CACHE_TTL)
            .map(|(_, _, _, e)| std::sync::Arc::clone(e))
    }

    fn put(&self, key: String, seq: u64, entries: std::sync::Arc<Vec<Entry>>) {
        let mut items = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        items.retain(|(k, _, at, _)| *k != key && at.elapsed() < CACHE_TTL);
        if items.len() >= CACHE_SIZE {
            items.remove(0);
        }
        items.push((key, seq, std::time::Instant::now(), entries));
    }
}

/// The collection's objects for `p` (see [`compute_entries`]), reused while fresh.
async fn entries(state: &AppState, p: &Principal, scope: Scope) -> Result<std::sync::Arc<Vec<Entry>>, TaxiiError> {
    let key = format!("{:?}|{}", p.actor, scope_id(scope));
    let seq = state.services.intel.last();
    if let Some(hit) = state.taxii_cache.get(&key, seq) {
        return Ok(hit);
    }
    let computed = std::sync::Arc::new(compute_entries(state, p, scope).await?);
    state.taxii_cache.put(key, seq, std::sync::Arc::clone(&computed));
    Ok(computed)
}

/// Every object of the reports of `scope` that `p` may read (each read audited), in the
/// order added (each object once: shared identities and marking definitions with their
/// first report).
async fn compute_entries(state: &AppState, p: &Principal, scope: Scope) -> Result<Vec<Entry>, TaxiiError> {
    let visible = state
        .services
        .reports_where(p, |m| scope_of(m) == scope, Purpose::Taxii)
        .await?;
    let names = state
        .services
        .organisation_names(visible.iter().map(|r| r.org).collect())
        .await;
    let mut out: Vec<Entry> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in &visible {
        let name = names.get(&r.org).cloned().unwrap_or_default();
        let report = to_stix(state, p, r, name).await?;
        let added = r.updated_at.max(r.created_at);
        let mut objects = jsms_stix::jsms_extension_objects();
        objects.extend(jsms_stix::identities(std::slice::from_ref(&report)));
        objects.push(jsms_stix::tlp_definition(report.tlp));
        objects.extend(jsms_stix::objects_of(&report));
        for o in objects {
            let oid = o.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
            if !seen.insert(oid) {
                continue;
            }
            let version = o
                .get("modified")
                .or_else(|| o.get("created"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            out.push(Entry {
                added,
                version,
                object: o,
            });
        }
    }
    Ok(out)
}

fn matches(e: &Entry, f: &Filters) -> bool {
    let kind = e.object.get("type").and_then(Value::as_str).unwrap_or("");
    let id = e.object.get("id").and_then(Value::as_str).unwrap_or("");
    let spec = e.object.get("spec_version").and_then(Value::as_str).unwrap_or("2.1");
    f.added_after.is_none_or(|a| e.added > a)
        && (f.types.is_empty() || f.types.iter().any(|t| t == kind))
        && (f.ids.is_empty() || f.ids.iter().any(|i| i == id))
        && (f.spec_versions.is_empty() || f.spec_versions.iter().any(|s| s == spec))
        // One version per object: first, last and all name it; a timestamp must be it.
        && (f.versions.is_empty()
            || f.versions.iter().any(|v| {
                matches!(v.as_str(), "first" | "last" | "all")
                    || jsms_stix::parse_timestamp(v) == jsms_stix::parse_timestamp(&e.version)
            }))
}

/// A page of the matching entries and the headers that go with it.
fn page<'a>(all: &'a [Entry], f: &Filters) -> (Vec<&'a Entry>, bool, Vec<(&'static str, String)>) {
    let matching: Vec<&Entry> = all.iter().filter(|e| matches(e, f)).collect();
    let page: Vec<&Entry> = matching.iter().skip(f.next).take(f.limit).copied().collect();
    let more = f.next + page.len() < matching.len();
    let mut headers = Vec::new();
    if let (Some(first), Some(last)) = (page.first(), page.last()) {
        headers.push(("x-taxii-date-added-first", jsms_stix::timestamp_ms(first.added)));
        headers.push(("x-taxii-date-added-last", jsms_stix::timestamp_ms(last.added)));
    }
    (page, more, headers)
}

/// A paged answer: `more`, the items under `key`, and `next` when there is more.
fn envelope(more: bool, f: &Filters, taken: usize, key: &str, items: Vec<Value>) -> Value {
    let mut body = serde_json::Map::new();
    body.insert("more".into(), json!(more));
    if more {
        body.insert("next".into(), json!((f.next + taken).to_string()));
    }
    body.insert(key.into(), Value::Array(items));
    Value::Object(body)
}

/// The answer of a listing endpoint: the page of matching entries of the collection (of one
/// object when `object` is given: 404 when it has none), each shown by `item` under `key`.
#[allow(clippy::too_many_arguments)]
async fn listing(
    state: &AppState,
    headers: &HeaderMap,
    p: Result<Principal, ApiError>,
    collection: &str,
    object: Option<String>,
    query: Option<&str>,
    key: &str,
    item: fn(&Entry) -> Value,
) -> Taxii {
    accepts(headers)?;
    let p = caller(p)?;
    let scope = find_scope(&p, collection)?;
    let mut f = filters(query)?;
    if let Some(object) = &object {
        if !f.ids.is_empty() || !f.types.is_empty() {
            return Err(bad("match[id] and match[type] are not filters of one object"));
        }
        f.ids = vec![object.clone()];
    }
    let all = entries(state, &p, scope).await?;
    let (page, more, extra) = page(&all, &f);
    if object.is_some() && page.is_empty() && f.next == 0 {
        return Err(TaxiiError::new(
            StatusCode::NOT_FOUND,
            "Not Found",
            "no such object in this collection",
        ));
    }
    let items: Vec<Value> = page.iter().map(|e| item(e)).collect();
    Ok(ok(StatusCode::OK, &envelope(more, &f, page.len(), key, items), &extra))
}

fn whole(e: &Entry) -> Value {
    e.object.clone()
}

async fn objects(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Result<Principal, ApiError>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Taxii {
    listing(&state, &headers, p, &id, None, q.as_deref(), "objects", whole).await
}

async fn manifest(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Result<Principal, ApiError>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Taxii {
    let record = |e: &Entry| {
        json!({"id": e.object.get("id"), "date_added": jsms_stix::timestamp_ms(e.added),
               "version": e.version, "media_type": STIX})
    };
    listing(&state, &headers, p, &id, None, q.as_deref(), "objects", record).await
}

async fn object(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Result<Principal, ApiError>,
    Path((id, object)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Taxii {
    listing(&state, &headers, p, &id, Some(object), q.as_deref(), "objects", whole).await
}

async fn versions(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Result<Principal, ApiError>,
    Path((id, object)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Taxii {
    let version = |e: &Entry| json!(e.version);
    listing(
        &state,
        &headers,
        p,
        &id,
        Some(object),
        q.as_deref(),
        "versions",
        version,
    )
    .await
}

async fn add_objects(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Result<Principal, ApiError>,
    Path(id): Path<String>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Taxii {
    accepts(&headers)?;
    let p = caller(p)?;
    let scope = find_scope(&p, &id)?;
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !is_taxii(kind, "") {
        return Err(TaxiiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
            format!("send Content-Type: {TAXII}"),
        ));
    }
    let bytes = body.map_err(|e| TaxiiError::from(crate::extract::body_error(e)))?;
    state
        .services
        .check_import(&p)
        .await
        .map_err(|_| TaxiiError::new(StatusCode::FORBIDDEN, "Forbidden", "this token may not add objects"))?;
    let envelope: Value = serde_json::from_slice(&bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
    let objects = envelope
        .get("objects")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("an envelope is an object with an array of objects"))?;
    jsms_stix::check_objects("/objects", objects)
        .map_err(|e| TaxiiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Entity", e.to_string()))?;
    let (_, outcomes) = import_objects(&state, &p, objects, scope == Scope::Joint)
        .await
        .map_err(|e| match e {
            ApiError::Validation(v) => TaxiiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Unprocessable Entity",
                format!("{}: {}", v.field, v.message),
            ),
            other => other.into(),
        })?;
    // Every object was taken (mapped into a report or kept with one as received), except a
    // report the store refused.
    let now = state.clock.now();
    let (mut successes, mut failures) = (Vec::new(), Vec::new());
    for o in objects {
        let oid = o.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
        let version = o
            .get("modified")
            .or_else(|| o.get("created"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        match outcomes.iter().find(|(s, _)| *s == oid) {
            Some((_, Err(m))) => failures.push(json!({"id": oid, "version": version, "message": m})),
            _ => successes.push(json!({"id": oid, "version": version})),
        }
    }
    let status_id = Uuid::now_v7();
    let status = json!({
        "id": status_id, "status": "complete", "request_timestamp": jsms_stix::timestamp(now),
        "total_count": objects.len(), "success_count": successes.len(), "successes": successes,
        "failure_count": failures.len(), "failures": failures, "pending_count": 0, "pendings": []
    });
    state.services.save_taxii_status(&p, status_id, status.clone()).await?;
    Ok(ok(StatusCode::ACCEPTED, &status, &[]))
}

async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Result<Principal, ApiError>,
    Path(id): Path<String>,
) -> Taxii {
    accepts(&headers)?;
    let p = caller(p)?;
    let not_found = || TaxiiError::new(StatusCode::NOT_FOUND, "Not Found", "no such status");
    let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let body = match state.services.taxii_status(&p, id).await {
        Ok(found) => found,
        Err(jsms_service::Error::NotFound) => return Err(not_found()),
        Err(e) => return Err(ApiError::from(e).into()),
    };
    Ok(ok(StatusCode::OK, &body, &[]))
}
