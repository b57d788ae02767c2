//! The registry: parties, organisations, protected persons and sites. Every access goes
//! through the authorization component (Cedar policies); a person the caller may not see answers exactly like a
//! missing one, and personal data is serialised only for callers allowed to read it.
//!
//! Audited: every decision on a protected person (allow with the fields disclosed, deny),
//! every change (before it is made: no change without a durable record), every denial.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, RequestMeta, expected_version, path_id};
use crate::routes::{page_request, page_view, referenced, require};
use crate::state::{AppState, Event};
use crate::wire::{
    GeoPoint, GeoPolygon, ListQuery, NewOrganisation, NewPerson, NewSite, OrganisationPatch, OrganisationView, PageOf,
    PartyView, PersonPatch, PersonView, PersonalDataWire, SitePatch, SiteView, org_id, site_id,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsms_domain::ValidationError;
use jsms_domain::access::{Action, Actor, PersonScope};
use jsms_domain::ids::{OrgId, PersonId, SiteId};
use jsms_domain::registry::{PersonDraft, PersonalData, SecurityPosture, Site, SiteDraft};
use jsms_domain::user::{Organisation, OrganisationDraft};
use jsms_store::{PageRequest, PersonRecord};
use serde::Deserialize;
use time::Date;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The registry routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_parties))
        .routes(routes!(list_orgs, create_org))
        .routes(routes!(get_org, patch_org, delete_org))
        .routes(routes!(list_persons, create_person))
        .routes(routes!(get_person, patch_person, delete_person))
        .routes(routes!(list_sites, create_site))
        .routes(routes!(get_site, patch_site, delete_site))
}

fn with_etag<T: serde::Serialize>(version: i64, body: T) -> Response {
    let mut resp = Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"v{version}\"")) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// Records the intent of an allowed change (with the policies that allowed it), makes the
/// change, and if the change then fails records that too (best effort: the intent entry
/// already records the attempt). No change is made without a durable intent entry.
#[allow(clippy::too_many_arguments)]
async fn audited_write<T: Send + 'static>(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    action: &'static str,
    resource: Option<String>,
    rules: Vec<String>,
    write: impl FnOnce(&dyn jsms_store::Store) -> Result<T, jsms_store::StoreError> + Send + 'static,
) -> ApiResult<T> {
    state
        .audit(&principal.who, meta, Event::allow(action, resource.clone(), rules))
        .await?;
    match state.db(write).await {
        Ok(v) => Ok(v),
        Err(e) => {
            let _ = state
                .audit(
                    &principal.who,
                    meta,
                    Event::info(action, resource, format!("not applied: {e}")),
                )
                .await;
            Err(e)
        }
    }
}

// ------------------------------------------------------------------ parties & organisations

/// The parties of this deployment.
#[utoipa::path(get, path = "/api/v1/parties", tag = "registry",
    responses((status = 200, body = Vec<PartyView>),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_parties(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
) -> ApiResult<Json<Vec<PartyView>>> {
    let forbidden = ApiError::Forbidden("token lacks registry_read");
    require(
        &state,
        &principal,
        &meta,
        "party.list",
        None,
        Action::ReadOrganisations,
        forbidden,
    )
    .await?;
    let parties = state.db(|s| s.parties()).await?;
    Ok(Json(
        parties
            .into_iter()
            .map(|p| PartyView {
                id: p.id.uuid(),
                code: p.code.to_string(),
                name: p.name,
                kind: p.kind,
            })
            .collect(),
    ))
}

fn org_view(o: Organisation) -> OrganisationView {
    OrganisationView {
        id: o.id.uuid(),
        party_id: o.party_id.uuid(),
        name: o.name,
        kind: o.kind.into(),
        version: o.version,
    }
}

/// Filters of the organisation list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct OrgListQuery {
    /// Only this party's organisations (party id).
    party_id: Option<uuid::Uuid>,
    /// Case-insensitive substring of the name.
    q: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
}

/// Organisations of every party (names are shared knowledge in a joint system).
#[utoipa::path(get, path = "/api/v1/organisations", tag = "registry", params(OrgListQuery),
    responses((status = 200, body = PageOf<OrganisationView>),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_orgs(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiQuery(query): ApiQuery<OrgListQuery>,
) -> ApiResult<Json<PageOf<OrganisationView>>> {
    let forbidden = ApiError::Forbidden("token lacks registry_read");
    require(
        &state,
        &principal,
        &meta,
        "organisation.list",
        None,
        Action::ReadOrganisations,
        forbidden,
    )
    .await?;
    let page = page_request(&ListQuery {
        q: query.q,
        cursor: query.cursor,
        limit: query.limit,
    })?;
    let party = query.party_id.map(crate::wire::party_id);
    let result = state.db(move |s| s.orgs(party, &page)).await?;
    Ok(Json(page_view(result, org_view)))
}

/// Creates an organisation in the administrator's party.
#[utoipa::path(post, path = "/api/v1/organisations", tag = "registry", request_body = NewOrganisation,
    responses((status = 201, body = OrganisationView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn create_org(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(req): ApiJson<NewOrganisation>,
) -> ApiResult<(StatusCode, Json<OrganisationView>)> {
    let party = principal.actor.party_id;
    let forbidden = ApiError::Forbidden("only party administrators create organisations");
    let action = Action::ManageOrganisation { party };
    let rule = require(
        &state,
        &principal,
        &meta,
        "organisation.create",
        None,
        action,
        forbidden,
    )
    .await?;
    let draft = OrganisationDraft::new(&req.name, req.kind.into())?;
    let now = state.clock.now();
    let org = audited_write(&state, &principal, &meta, "organisation.create", None, rule, move |s| {
        s.create_org(party, &draft, now)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(org_view(org))))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "registry", params(("id" = String, Path, description = "Organisation id")),
    responses((status = 200, body = OrganisationView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_org(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = OrgId::from_uuid(path_id(&id)?);
    let resource = Some(format!("organisation:{id}"));
    require(
        &state,
        &principal,
        &meta,
        "organisation.read",
        resource,
        Action::ReadOrganisations,
        ApiError::NotFound,
    )
    .await?;
    let org = state.db(move |s| s.org(id)).await?;
    Ok(with_etag(org.version, org_view(org)))
}

/// Changes an organisation of the administrator's party.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}", tag = "registry", request_body = OrganisationPatch,
    params(("id" = String, Path, description = "Organisation id")),
    responses((status = 200, body = OrganisationView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn patch_org(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<OrganisationPatch>,
) -> ApiResult<Response> {
    let id = OrgId::from_uuid(path_id(&id)?);
    let org = state.db(move |s| s.org(id)).await?;
    let resource = Some(format!("organisation:{id}"));
    let forbidden = ApiError::Forbidden("administrators change only their own party's organisations");
    let action = Action::ManageOrganisation { party: org.party_id };
    let rule = require(
        &state,
        &principal,
        &meta,
        "organisation.update",
        resource.clone(),
        action,
        forbidden,
    )
    .await?;
    let version = expected_version(&headers, patch.version)?;
    let draft = OrganisationDraft::new(
        patch.name.as_deref().unwrap_or(&org.name),
        patch.kind.map(Into::into).unwrap_or(org.kind),
    )?;
    let now = state.clock.now();
    let updated = audited_write(
        &state,
        &principal,
        &meta,
        "organisation.update",
        resource,
        rule,
        move |s| s.update_org(id, version, &draft, now),
    )
    .await?;
    Ok(with_etag(updated.version, org_view(updated)))
}

/// Deletes an organisation that has no users, persons, sites or tokens.
#[utoipa::path(delete, path = "/api/v1/organisations/{id}", tag = "registry",
    params(("id" = String, Path, description = "Organisation id"), ("If-Match" = String, Header, description = "ETag read, e.g. \"v2\"")),
    responses((status = 204, description = "Deleted"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn delete_org(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let id = OrgId::from_uuid(path_id(&id)?);
    let org = state.db(move |s| s.org(id)).await?;
    let resource = Some(format!("organisation:{id}"));
    let forbidden = ApiError::Forbidden("administrators delete only their own party's organisations");
    let action = Action::ManageOrganisation { party: org.party_id };
    let rule = require(
        &state,
        &principal,
        &meta,
        "organisation.delete",
        resource.clone(),
        action,
        forbidden,
    )
    .await?;
    let version = expected_version(&headers, None)?;
    audited_write(
        &state,
        &principal,
        &meta,
        "organisation.delete",
        resource,
        rule,
        move |s| s.delete_org(id, version),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ persons

fn parse_date(field: &str, text: &str) -> Result<Date, ValidationError> {
    Date::parse(text.trim(), &time::format_description::well_known::Iso8601::DATE)
        .map_err(|_| ValidationError::new(field, "a date is written YYYY-MM-DD"))
}

fn personal_data(state: &AppState, wire: Option<&PersonalDataWire>) -> Result<PersonalData, ValidationError> {
    let Some(w) = wire else {
        return Ok(PersonalData::default());
    };
    let dob = w
        .date_of_birth
        .as_deref()
        .map(|d| parse_date("/personal_data/date_of_birth", d))
        .transpose()?;
    let today = time::OffsetDateTime::from_unix_timestamp(state.clock.now())
        .map(|t| t.date())
        .map_err(|_| ValidationError::new("", "the server clock is out of range"))?;
    PersonalData::new(
        w.passport_number.as_deref(),
        w.phone.as_deref(),
        dob,
        w.home_address.as_deref(),
        today,
    )
}

/// The fields of a person every reader sees.
const PERSON_FIELDS: [&str; 7] = [
    "full_name",
    "nationality",
    "employer_org_id",
    "assigned_site_id",
    "protection_level",
    "status",
    "version",
];
/// The same plus the personal data.
const PERSON_FIELDS_PII: [&str; 8] = [
    "full_name",
    "nationality",
    "employer_org_id",
    "assigned_site_id",
    "protection_level",
    "status",
    "version",
    "personal_data",
];

/// The wire view of a person for `actor` (personal data only where the policies allow it),
/// and the names of the fields it discloses.
fn person_view(state: &AppState, actor: &Actor, record: PersonRecord) -> (PersonView, &'static [&'static str]) {
    let p = record.person;
    let d = p.draft;
    let action = Action::ReadPersonalData {
        person: p.id,
        org: d.employer_org_id,
        party: record.employer_party_id,
    };
    let allowed = state.decide(actor, action).is_allow();
    let pd = d.personal_data;
    let view = PersonView {
        id: p.id.uuid(),
        full_name: d.full_name,
        nationality: d.nationality,
        employer_org_id: d.employer_org_id.uuid(),
        assigned_site_id: d.assigned_site_id.map(SiteId::uuid),
        protection_level: d.protection_level.into(),
        status: d.status.into(),
        personal_data: allowed.then(|| PersonalDataWire {
            passport_number: pd.passport_number,
            phone: pd.phone,
            date_of_birth: pd
                .date_of_birth
                .and_then(|d| d.format(&time::format_description::well_known::Iso8601::DATE).ok()),
            home_address: pd.home_address,
        }),
        version: p.version,
    };
    (view, if allowed { &PERSON_FIELDS_PII } else { &PERSON_FIELDS })
}

/// Loads a person the principal may see; otherwise `NotFound`, exactly as for a missing one.
async fn visible_person(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    audit_action: &'static str,
    raw_id: &str,
) -> ApiResult<(PersonRecord, Vec<String>)> {
    let id = PersonId::from_uuid(path_id(raw_id)?);
    let record = state.db(move |s| s.person(id)).await?;
    let action = Action::ReadPerson {
        person: id,
        org: record.person.draft.employer_org_id,
        party: record.employer_party_id,
    };
    let resource = Some(format!("person:{id}"));
    let rule = require(
        state,
        principal,
        meta,
        audit_action,
        resource,
        action,
        ApiError::NotFound,
    )
    .await?;
    Ok((record, rule))
}

async fn check_site_exists(state: &AppState, site: Option<SiteId>, field: &str) -> ApiResult<()> {
    if let Some(id) = site {
        referenced(state.db(move |s| s.site(id)).await, field, "site")?;
    }
    Ok(())
}

/// Protected persons the caller may see (coordinators: all; company officers: their company's;
/// liaison officers: their party's companies'). Every person returned is audited as read.
#[utoipa::path(get, path = "/api/v1/persons", tag = "registry", params(ListQuery),
    responses((status = 200, body = PageOf<PersonView>),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_persons(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<PageOf<PersonView>>> {
    let page = page_request(&query)?;
    let limit = page.limit as usize;
    let mut items = Vec::new();
    let mut after = page.after;
    let mut scanned = 0usize;
    // Scan in id order, keeping what the policies allow; bounded work per request, the
    // cursor continues the scan (a page may then hold fewer than `limit` items).
    let next = loop {
        let request = PageRequest {
            after,
            limit: 200,
            q: page.q.clone(),
        };
        let batch = state.db(move |s| s.persons(PersonScope::All, &request)).await?;
        let exhausted = batch.next.is_none();
        let mut full = false;
        for r in batch.items {
            after = Some(r.person.id.uuid());
            scanned += 1;
            let action = Action::ReadPerson {
                person: r.person.id,
                org: r.person.draft.employer_org_id,
                party: r.employer_party_id,
            };
            if state.decide(&principal.actor, action).is_allow() {
                items.push(r);
                if items.len() == limit {
                    full = true;
                    break;
                }
            }
        }
        if full || (!exhausted && scanned >= 2000) {
            break after;
        }
        if exhausted {
            break None;
        }
    };
    let mut entries = Vec::with_capacity(items.len());
    let mut views = Vec::with_capacity(items.len());
    for r in items {
        let id = r.person.id;
        let (view, fields) = person_view(&state, &principal.actor, r);
        let event = Event::allow(
            "person.read",
            Some(format!("person:{id}")),
            "listed: allowed to read the person",
        );
        entries.push(state.entry(&principal.who, &meta, event.fields(fields)));
        views.push(view);
    }
    state.audit_all(entries).await?;
    Ok(Json(PageOf {
        items: views,
        next_cursor: next.map(|u| u.to_string()),
    }))
}

/// Registers a protected person (company officers for their company; host coordinators).
#[utoipa::path(post, path = "/api/v1/persons", tag = "registry", request_body = NewPerson,
    responses((status = 201, body = PersonView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn create_person(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(req): ApiJson<NewPerson>,
) -> ApiResult<(StatusCode, Json<PersonView>)> {
    let employer = org_id(req.employer_org_id);
    let forbidden = ApiError::Forbidden("you may register persons only for your own company");
    let action = Action::WritePerson { org: employer };
    let rule = require(&state, &principal, &meta, "person.create", None, action, forbidden).await?;
    let assigned = req.assigned_site_id.map(site_id);
    check_site_exists(&state, assigned, "/assigned_site_id").await?;
    let draft = PersonDraft::new(
        &req.full_name,
        req.nationality.as_deref(),
        employer,
        assigned,
        req.protection_level.into(),
        req.status.into(),
        personal_data(&state, req.personal_data.as_ref())?,
    )?;
    let now = state.clock.now();
    let record = audited_write(&state, &principal, &meta, "person.create", None, rule, move |s| {
        s.create_person(&draft, now)
    })
    .await?;
    let (view, _) = person_view(&state, &principal.actor, record);
    Ok((StatusCode::CREATED, Json(view)))
}

/// One protected person.
#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "registry", params(("id" = String, Path, description = "Person id")),
    responses((status = 200, body = PersonView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_person(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (record, rule) = visible_person(&state, &principal, &meta, "person.read", &id).await?;
    let version = record.person.version;
    let resource = Some(format!("person:{}", record.person.id));
    let (view, fields) = person_view(&state, &principal.actor, record);
    state
        .audit(
            &principal.who,
            &meta,
            Event::allow("person.read", resource, rule).fields(fields),
        )
        .await?;
    Ok(with_etag(version, view))
}

/// Changes a protected person.
#[utoipa::path(patch, path = "/api/v1/persons/{id}", tag = "registry", request_body = PersonPatch,
    params(("id" = String, Path, description = "Person id")),
    responses((status = 200, body = PersonView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn patch_person(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<PersonPatch>,
) -> ApiResult<Response> {
    let (record, _) = visible_person(&state, &principal, &meta, "person.update", &id).await?;
    let current = record.person.draft;
    let pid = record.person.id;
    let resource = Some(format!("person:{pid}"));
    let forbidden = ApiError::Forbidden("you may not change this person");
    let action = Action::WritePerson {
        org: current.employer_org_id,
    };
    let rule = require(
        &state,
        &principal,
        &meta,
        "person.update",
        resource.clone(),
        action,
        forbidden,
    )
    .await?;
    let employer = patch.employer_org_id.map(org_id).unwrap_or(current.employer_org_id);
    if employer != current.employer_org_id {
        let forbidden = ApiError::Forbidden("you may not move persons to that employer");
        let action = Action::WritePerson { org: employer };
        require(
            &state,
            &principal,
            &meta,
            "person.update",
            resource.clone(),
            action,
            forbidden,
        )
        .await?;
    }
    let version = expected_version(&headers, patch.version)?;
    let assigned = match patch.assigned_site_id {
        Some(v) => v.map(site_id),
        None => current.assigned_site_id,
    };
    let new_site = assigned.filter(|s| Some(*s) != current.assigned_site_id);
    check_site_exists(&state, new_site, "/assigned_site_id").await?;
    let pd = match &patch.personal_data {
        Some(v) => personal_data(&state, v.as_ref())?,
        None => current.personal_data.clone(),
    };
    let nationality = match &patch.nationality {
        Some(v) => v.clone(),
        None => current.nationality.clone(),
    };
    let draft = PersonDraft::new(
        patch.full_name.as_deref().unwrap_or(&current.full_name),
        nationality.as_deref(),
        employer,
        assigned,
        patch
            .protection_level
            .map(Into::into)
            .unwrap_or(current.protection_level),
        patch.status.map(Into::into).unwrap_or(current.status),
        pd,
    )?;
    let now = state.clock.now();
    let updated = audited_write(&state, &principal, &meta, "person.update", resource, rule, move |s| {
        s.update_person(pid, version, &draft, now)
    })
    .await?;
    let v = updated.person.version;
    Ok(with_etag(v, person_view(&state, &principal.actor, updated).0))
}

/// Deletes a protected person.
#[utoipa::path(delete, path = "/api/v1/persons/{id}", tag = "registry",
    params(("id" = String, Path, description = "Person id"), ("If-Match" = String, Header, description = "ETag read, e.g. \"v2\"")),
    responses((status = 204, description = "Deleted"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn delete_person(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let (record, _) = visible_person(&state, &principal, &meta, "person.delete", &id).await?;
    let pid = record.person.id;
    let resource = Some(format!("person:{pid}"));
    let forbidden = ApiError::Forbidden("you may not delete this person");
    let action = Action::WritePerson {
        org: record.person.draft.employer_org_id,
    };
    let rule = require(
        &state,
        &principal,
        &meta,
        "person.delete",
        resource.clone(),
        action,
        forbidden,
    )
    .await?;
    let version = expected_version(&headers, None)?;
    audited_write(&state, &principal, &meta, "person.delete", resource, rule, move |s| {
        s.delete_person(pid, version)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ sites

fn site_view(s: Site) -> SiteView {
    let d = s.draft;
    SiteView {
        id: s.id.uuid(),
        owner_org_id: d.owner_org_id.uuid(),
        name: d.name,
        kind: d.kind.into(),
        location: GeoPoint::from_coordinate(d.location),
        perimeter: d.perimeter.as_ref().map(GeoPolygon::from_polygon),
        posture: d.posture.into(),
        notes: d.notes,
        version: s.version,
    }
}

async fn check_org_exists(state: &AppState, org: OrgId, field: &str) -> ApiResult<()> {
    referenced(state.db(move |s| s.org(org)).await, field, "organisation")?;
    Ok(())
}

/// Sites.
#[utoipa::path(get, path = "/api/v1/sites", tag = "registry", params(ListQuery),
    responses((status = 200, body = PageOf<SiteView>),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_sites(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<PageOf<SiteView>>> {
    let forbidden = ApiError::Forbidden("your role does not read sites");
    require(
        &state,
        &principal,
        &meta,
        "site.list",
        None,
        Action::ReadSites,
        forbidden,
    )
    .await?;
    let page = page_request(&query)?;
    let result = state.db(move |s| s.sites(&page)).await?;
    Ok(Json(page_view(result, site_view)))
}

/// Creates a site (host coordinators; company officers for their own company).
#[utoipa::path(post, path = "/api/v1/sites", tag = "registry", request_body = NewSite,
    responses((status = 201, body = SiteView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn create_site(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    ApiJson(req): ApiJson<NewSite>,
) -> ApiResult<(StatusCode, Json<SiteView>)> {
    let owner = org_id(req.owner_org_id);
    let forbidden = ApiError::Forbidden("you may not create sites for that organisation");
    let rule = require(
        &state,
        &principal,
        &meta,
        "site.create",
        None,
        Action::WriteSite { org: owner },
        forbidden,
    )
    .await?;
    let draft = SiteDraft::new(
        owner,
        &req.name,
        req.kind.into(),
        req.location.to_coordinate("/location")?,
        req.perimeter.as_ref().map(|p| p.to_polygon("/perimeter")).transpose()?,
        req.posture.map(Into::into).unwrap_or(SecurityPosture::Normal),
        req.notes.as_deref(),
    )?;
    check_org_exists(&state, owner, "/owner_org_id").await?;
    let now = state.clock.now();
    let site = audited_write(&state, &principal, &meta, "site.create", None, rule, move |s| {
        s.create_site(&draft, now)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(site_view(site))))
}

async fn readable_site(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    audit_action: &'static str,
    raw_id: &str,
) -> ApiResult<Site> {
    let id = SiteId::from_uuid(path_id(raw_id)?);
    let resource = Some(format!("site:{id}"));
    require(
        state,
        principal,
        meta,
        audit_action,
        resource,
        Action::ReadSites,
        ApiError::NotFound,
    )
    .await?;
    state.db(move |s| s.site(id)).await
}

/// One site.
#[utoipa::path(get, path = "/api/v1/sites/{id}", tag = "registry", params(("id" = String, Path, description = "Site id")),
    responses((status = 200, body = SiteView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_site(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let site = readable_site(&state, &principal, &meta, "site.read", &id).await?;
    Ok(with_etag(site.version, site_view(site)))
}

/// Changes a site.
#[utoipa::path(patch, path = "/api/v1/sites/{id}", tag = "registry", request_body = SitePatch,
    params(("id" = String, Path, description = "Site id")),
    responses((status = 200, body = SiteView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn patch_site(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<SitePatch>,
) -> ApiResult<Response> {
    let site = readable_site(&state, &principal, &meta, "site.update", &id).await?;
    let sid = site.id;
    let resource = Some(format!("site:{sid}"));
    let current = site.draft;
    let forbidden = ApiError::Forbidden("you may not change this site");
    let action = Action::WriteSite {
        org: current.owner_org_id,
    };
    let rule = require(
        &state,
        &principal,
        &meta,
        "site.update",
        resource.clone(),
        action,
        forbidden,
    )
    .await?;
    let owner = patch.owner_org_id.map(org_id).unwrap_or(current.owner_org_id);
    if owner != current.owner_org_id {
        let forbidden = ApiError::Forbidden("you may not give the site to that organisation");
        let action = Action::WriteSite { org: owner };
        require(
            &state,
            &principal,
            &meta,
            "site.update",
            resource.clone(),
            action,
            forbidden,
        )
        .await?;
        check_org_exists(&state, owner, "/owner_org_id").await?;
    }
    let version = expected_version(&headers, patch.version)?;
    let location = match &patch.location {
        Some(l) => l.to_coordinate("/location")?,
        None => current.location,
    };
    let perimeter = match &patch.perimeter {
        Some(Some(p)) => Some(p.to_polygon("/perimeter")?),
        Some(None) => None,
        None => current.perimeter.clone(),
    };
    let notes = match &patch.notes {
        Some(n) => n.clone(),
        None => current.notes.clone(),
    };
    let draft = SiteDraft::new(
        owner,
        patch.name.as_deref().unwrap_or(&current.name),
        patch.kind.map(Into::into).unwrap_or(current.kind),
        location,
        perimeter,
        patch.posture.map(Into::into).unwrap_or(current.posture),
        notes.as_deref(),
    )?;
    let now = state.clock.now();
    let updated = audited_write(&state, &principal, &meta, "site.update", resource, rule, move |s| {
        s.update_site(sid, version, &draft, now)
    })
    .await?;
    Ok(with_etag(updated.version, site_view(updated)))
}

/// Deletes a site no person is assigned to.
#[utoipa::path(delete, path = "/api/v1/sites/{id}", tag = "registry",
    params(("id" = String, Path, description = "Site id"), ("If-Match" = String, Header, description = "ETag read, e.g. \"v2\"")),
    responses((status = 204, description = "Deleted"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn delete_site(
    State(state): State<AppState>,
    meta: RequestMeta,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let site = readable_site(&state, &principal, &meta, "site.delete", &id).await?;
    let sid = site.id;
    let resource = Some(format!("site:{sid}"));
    let forbidden = ApiError::Forbidden("you may not delete this site");
    let action = Action::WriteSite {
        org: site.draft.owner_org_id,
    };
    let rule = require(
        &state,
        &principal,
        &meta,
        "site.delete",
        resource.clone(),
        action,
        forbidden,
    )
    .await?;
    let version = expected_version(&headers, None)?;
    audited_write(&state, &principal, &meta, "site.delete", resource, rule, move |s| {
        s.delete_site(sid, version)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
