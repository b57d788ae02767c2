//! The registry: parties, organisations, protected persons and sites. Every access goes
//! through [`access::decide`]; a person the caller may not see answers exactly like a
//! missing one, and personal data is serialised only for callers allowed to read it.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, expected_version, path_id};
use crate::routes::{deny, page_request, page_view};
use crate::state::AppState;
use crate::wire::{
    GeoPoint, GeoPolygon, ListQuery, NewOrganisation, NewPerson, NewSite, OrganisationPatch,
    OrganisationView, PageOf, PartyView, PersonPatch, PersonView, PersonalDataWire, SitePatch,
    SiteView, org_id, site_id,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsms_domain::ValidationError;
use jsms_domain::access::{self, Action, Actor, person_scope};
use jsms_domain::ids::{OrgId, PersonId, SiteId};
use jsms_domain::registry::{PersonDraft, PersonalData, SecurityPosture, Site, SiteDraft};
use jsms_domain::user::{Organisation, OrganisationDraft};
use jsms_store::PersonRecord;
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

fn require(state: &AppState, actor: &Actor, action: Action, otherwise: ApiError) -> ApiResult<()> {
    match access::decide(actor, action) {
        access::Decision::Allow(_) => Ok(()),
        access::Decision::Deny(reason) => {
            tracing::info!(?action, reason, "access denied");
            Err(deny(state, otherwise))
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
    principal: Principal,
) -> ApiResult<Json<Vec<PartyView>>> {
    require(
        &state,
        &principal.actor,
        Action::ReadOrganisations,
        ApiError::Forbidden("token lacks registry_read"),
    )?;
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
    principal: Principal,
    ApiQuery(query): ApiQuery<OrgListQuery>,
) -> ApiResult<Json<PageOf<OrganisationView>>> {
    require(
        &state,
        &principal.actor,
        Action::ReadOrganisations,
        ApiError::Forbidden("token lacks registry_read"),
    )?;
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
    principal: Principal,
    ApiJson(req): ApiJson<NewOrganisation>,
) -> ApiResult<(StatusCode, Json<OrganisationView>)> {
    let party = principal.actor.party_id;
    require(
        &state,
        &principal.actor,
        Action::ManageOrganisation { party },
        ApiError::Forbidden("only party administrators create organisations"),
    )?;
    let draft = OrganisationDraft::new(&req.name, req.kind.into())?;
    let now = state.clock.now();
    let org = state.db(move |s| s.create_org(party, &draft, now)).await?;
    Ok((StatusCode::CREATED, Json(org_view(org))))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "registry", params(("id" = String, Path, description = "Organisation id")),
    responses((status = 200, body = OrganisationView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_org(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    require(
        &state,
        &principal.actor,
        Action::ReadOrganisations,
        ApiError::NotFound,
    )?;
    let id = OrgId::from_uuid(path_id(&id)?);
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
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<OrganisationPatch>,
) -> ApiResult<Response> {
    let id = OrgId::from_uuid(path_id(&id)?);
    let org = state.db(move |s| s.org(id)).await?;
    require(
        &state,
        &principal.actor,
        Action::ManageOrganisation {
            party: org.party_id,
        },
        ApiError::Forbidden("administrators change only their own party's organisations"),
    )?;
    let version = expected_version(&headers, patch.version)?;
    let draft = OrganisationDraft::new(
        patch.name.as_deref().unwrap_or(&org.name),
        patch.kind.map(Into::into).unwrap_or(org.kind),
    )?;
    let now = state.clock.now();
    let updated = state
        .db(move |s| s.update_org(id, version, &draft, now))
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
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let id = OrgId::from_uuid(path_id(&id)?);
    let org = state.db(move |s| s.org(id)).await?;
    require(
        &state,
        &principal.actor,
        Action::ManageOrganisation {
            party: org.party_id,
        },
        ApiError::Forbidden("administrators delete only their own party's organisations"),
    )?;
    let version = expected_version(&headers, None)?;
    state.db(move |s| s.delete_org(id, version)).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ persons

fn parse_date(field: &str, text: &str) -> Result<Date, ValidationError> {
    Date::parse(
        text.trim(),
        &time::format_description::well_known::Iso8601::DATE,
    )
    .map_err(|_| ValidationError::new(field, "a date is written YYYY-MM-DD"))
}

fn personal_data(
    state: &AppState,
    wire: Option<&PersonalDataWire>,
) -> Result<PersonalData, ValidationError> {
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

fn person_view(actor: &Actor, record: PersonRecord) -> PersonView {
    let p = record.person;
    let d = p.draft;
    let allowed = access::decide(
        actor,
        Action::ReadPersonalData {
            org: d.employer_org_id,
            party: record.employer_party_id,
        },
    )
    .is_allow();
    let pd = d.personal_data;
    PersonView {
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
            date_of_birth: pd.date_of_birth.and_then(|d| {
                d.format(&time::format_description::well_known::Iso8601::DATE)
                    .ok()
            }),
            home_address: pd.home_address,
        }),
        version: p.version,
    }
}

/// Loads a person the principal may see; otherwise `NotFound`, exactly as for a missing one.
async fn visible_person(
    state: &AppState,
    principal: &Principal,
    raw_id: &str,
) -> ApiResult<PersonRecord> {
    let id = PersonId::from_uuid(path_id(raw_id)?);
    let record = state.db(move |s| s.person(id)).await?;
    let action = Action::ReadPerson {
        org: record.person.draft.employer_org_id,
        party: record.employer_party_id,
    };
    require(state, &principal.actor, action, ApiError::NotFound)?;
    Ok(record)
}

async fn check_site_exists(state: &AppState, site: Option<SiteId>, field: &str) -> ApiResult<()> {
    if let Some(id) = site
        && state.db(move |s| s.site(id)).await.is_err()
    {
        return Err(ValidationError::new(field, "no such site").into());
    }
    Ok(())
}

/// Protected persons the caller may see (coordinators: all; company officers: their company's;
/// liaison officers: their party's companies').
#[utoipa::path(get, path = "/api/v1/persons", tag = "registry", params(ListQuery),
    responses((status = 200, body = PageOf<PersonView>),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_persons(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<PageOf<PersonView>>> {
    let scope = person_scope(&principal.actor);
    let page = page_request(&query)?;
    let result = state.db(move |s| s.persons(scope, &page)).await?;
    let actor = principal.actor;
    Ok(Json(page_view(result, |r| person_view(&actor, r))))
}

/// Registers a protected person (company officers for their company; host coordinators).
#[utoipa::path(post, path = "/api/v1/persons", tag = "registry", request_body = NewPerson,
    responses((status = 201, body = PersonView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn create_person(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(req): ApiJson<NewPerson>,
) -> ApiResult<(StatusCode, Json<PersonView>)> {
    let employer = org_id(req.employer_org_id);
    require(
        &state,
        &principal.actor,
        Action::WritePerson { org: employer },
        ApiError::Forbidden("you may register persons only for your own company"),
    )?;
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
    let record = state.db(move |s| s.create_person(&draft, now)).await?;
    Ok((
        StatusCode::CREATED,
        Json(person_view(&principal.actor, record)),
    ))
}

/// One protected person.
#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "registry", params(("id" = String, Path, description = "Person id")),
    responses((status = 200, body = PersonView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_person(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let record = visible_person(&state, &principal, &id).await?;
    let version = record.person.version;
    Ok(with_etag(version, person_view(&principal.actor, record)))
}

/// Changes a protected person.
#[utoipa::path(patch, path = "/api/v1/persons/{id}", tag = "registry", request_body = PersonPatch,
    params(("id" = String, Path, description = "Person id")),
    responses((status = 200, body = PersonView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn patch_person(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<PersonPatch>,
) -> ApiResult<Response> {
    let record = visible_person(&state, &principal, &id).await?;
    let current = record.person.draft;
    require(
        &state,
        &principal.actor,
        Action::WritePerson {
            org: current.employer_org_id,
        },
        ApiError::Forbidden("you may not change this person"),
    )?;
    let employer = patch
        .employer_org_id
        .map(org_id)
        .unwrap_or(current.employer_org_id);
    if employer != current.employer_org_id {
        require(
            &state,
            &principal.actor,
            Action::WritePerson { org: employer },
            ApiError::Forbidden("you may not move persons to that employer"),
        )?;
    }
    let version = expected_version(&headers, patch.version)?;
    let assigned = match patch.assigned_site_id {
        Some(v) => v.map(site_id),
        None => current.assigned_site_id,
    };
    check_site_exists(
        &state,
        assigned.filter(|s| Some(*s) != current.assigned_site_id),
        "/assigned_site_id",
    )
    .await?;
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
    let pid = record.person.id;
    let now = state.clock.now();
    let updated = state
        .db(move |s| s.update_person(pid, version, &draft, now))
        .await?;
    let v = updated.person.version;
    Ok(with_etag(v, person_view(&principal.actor, updated)))
}

/// Deletes a protected person.
#[utoipa::path(delete, path = "/api/v1/persons/{id}", tag = "registry",
    params(("id" = String, Path, description = "Person id"), ("If-Match" = String, Header, description = "ETag read, e.g. \"v2\"")),
    responses((status = 204, description = "Deleted"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn delete_person(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let record = visible_person(&state, &principal, &id).await?;
    require(
        &state,
        &principal.actor,
        Action::WritePerson {
            org: record.person.draft.employer_org_id,
        },
        ApiError::Forbidden("you may not delete this person"),
    )?;
    let version = expected_version(&headers, None)?;
    let pid = record.person.id;
    state.db(move |s| s.delete_person(pid, version)).await?;
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
    if state.db(move |s| s.org(org)).await.is_err() {
        return Err(ValidationError::new(field, "no such organisation").into());
    }
    Ok(())
}

/// Sites.
#[utoipa::path(get, path = "/api/v1/sites", tag = "registry", params(ListQuery),
    responses((status = 200, body = PageOf<SiteView>),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_sites(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<PageOf<SiteView>>> {
    require(
        &state,
        &principal.actor,
        Action::ReadSites,
        ApiError::Forbidden("your role does not read sites"),
    )?;
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
    principal: Principal,
    ApiJson(req): ApiJson<NewSite>,
) -> ApiResult<(StatusCode, Json<SiteView>)> {
    let owner = org_id(req.owner_org_id);
    require(
        &state,
        &principal.actor,
        Action::WriteSite { org: owner },
        ApiError::Forbidden("you may not create sites for that organisation"),
    )?;
    let draft = SiteDraft::new(
        owner,
        &req.name,
        req.kind.into(),
        req.location.to_coordinate("/location")?,
        req.perimeter
            .as_ref()
            .map(|p| p.to_polygon("/perimeter"))
            .transpose()?,
        req.posture
            .map(Into::into)
            .unwrap_or(SecurityPosture::Normal),
        req.notes.as_deref(),
    )?;
    check_org_exists(&state, owner, "/owner_org_id").await?;
    let now = state.clock.now();
    let site = state.db(move |s| s.create_site(&draft, now)).await?;
    Ok((StatusCode::CREATED, Json(site_view(site))))
}

async fn readable_site(state: &AppState, principal: &Principal, raw_id: &str) -> ApiResult<Site> {
    require(
        state,
        &principal.actor,
        Action::ReadSites,
        ApiError::NotFound,
    )?;
    let id = SiteId::from_uuid(path_id(raw_id)?);
    state.db(move |s| s.site(id)).await
}

/// One site.
#[utoipa::path(get, path = "/api/v1/sites/{id}", tag = "registry", params(("id" = String, Path, description = "Site id")),
    responses((status = 200, body = SiteView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_site(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let site = readable_site(&state, &principal, &id).await?;
    Ok(with_etag(site.version, site_view(site)))
}

/// Changes a site.
#[utoipa::path(patch, path = "/api/v1/sites/{id}", tag = "registry", request_body = SitePatch,
    params(("id" = String, Path, description = "Site id")),
    responses((status = 200, body = SiteView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn patch_site(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<SitePatch>,
) -> ApiResult<Response> {
    let site = readable_site(&state, &principal, &id).await?;
    let current = site.draft;
    require(
        &state,
        &principal.actor,
        Action::WriteSite {
            org: current.owner_org_id,
        },
        ApiError::Forbidden("you may not change this site"),
    )?;
    let owner = patch
        .owner_org_id
        .map(org_id)
        .unwrap_or(current.owner_org_id);
    if owner != current.owner_org_id {
        require(
            &state,
            &principal.actor,
            Action::WriteSite { org: owner },
            ApiError::Forbidden("you may not give the site to that organisation"),
        )?;
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
    let sid = site.id;
    let now = state.clock.now();
    let updated = state
        .db(move |s| s.update_site(sid, version, &draft, now))
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
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let site = readable_site(&state, &principal, &id).await?;
    require(
        &state,
        &principal.actor,
        Action::WriteSite {
            org: site.draft.owner_org_id,
        },
        ApiError::Forbidden("you may not delete this site"),
    )?;
    let version = expected_version(&headers, None)?;
    let sid = site.id;
    state.db(move |s| s.delete_site(sid, version)).await?;
    Ok(StatusCode::NO_CONTENT)
}
