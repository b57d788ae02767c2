//! The registry over HTTP: parties, organisations, protected persons and sites. Each
//! handler parses, calls one service function (`jsms_service::registry`: decided, audited,
//! fail closed) and renders what it returns; personal data appears only where the service
//! disclosed it.

use crate::auth::Principal;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, expected_version, path_id};
use crate::routes::{page_request, page_view};
use crate::state::AppState;
use crate::wire::{
    GeoPoint, GeoPolygon, ListQuery, NewOrganisation, NewPerson, NewSite, OrganisationPatch, OrganisationView, PageOf,
    PartyView, PersonPatch, PersonView, PersonalDataWire, SitePatch, SiteView, org_id, site_id,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsms_domain::ValidationError;
use jsms_domain::ids::{OrgId, PersonId, SiteId};
use jsms_domain::registry::{SecurityPosture, Site, SiteDraft};
use jsms_domain::user::Organisation;
use jsms_service::Disclosed;
use jsms_service::registry::{self, PersonPart, PersonalDataInput};
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

// ------------------------------------------------------------------ parties & organisations

/// The parties of this deployment.
#[utoipa::path(get, path = "/api/v1/parties", tag = "registry",
    responses((status = 200, body = Vec<PartyView>),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_parties(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Vec<PartyView>>> {
    let parties = state.services.parties(&principal).await?;
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

/// How much of a person to read.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum PersonViewKind {
    /// Everything the caller may see, personal data included.
    Full,
    /// Name, employer, level and status only: no personal data is read or recorded.
    Summary,
}

/// Filters and options of the person list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PersonListQuery {
    /// Case-insensitive substring of the name (at most 100 characters).
    #[param(max_length = 100)]
    q: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(format = Uuid)]
    cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `summary` for a list that shows only names, employers and levels (default `full`).
    #[param(inline)]
    view: Option<PersonViewKind>,
}

/// Options of a person read.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PersonQuery {
    /// `summary` for a page that shows only who is concerned (default `full`).
    #[param(inline)]
    view: Option<PersonViewKind>,
}

/// Filters of the organisation list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct OrgListQuery {
    /// Only this party's organisations (party id).
    party_id: Option<uuid::Uuid>,
    /// Case-insensitive substring of the name (at most 100 characters).
    #[param(max_length = 100)]
    q: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(format = Uuid)]
    cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
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
    let page = page_request(&ListQuery {
        q: query.q,
        cursor: query.cursor,
        limit: query.limit,
    })?;
    let party = query.party_id.map(crate::wire::party_id);
    let result = state.services.organisations(&principal, party, page).await?;
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
    let org = state
        .services
        .create_organisation(&principal, &req.name, req.kind.into())
        .await?;
    Ok((StatusCode::CREATED, Json(org_view(org))))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "registry", params(("id" = uuid::Uuid, Path, description = "Organisation id")),
    responses((status = 200, body = OrganisationView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_org(State(state): State<AppState>, principal: Principal, Path(id): Path<String>) -> ApiResult<Response> {
    let id = OrgId::from_uuid(path_id(&id)?);
    let org = state.services.organisation(&principal, id).await?;
    Ok(with_etag(org.version, org_view(org)))
}

/// Changes an organisation of the administrator's party.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}", tag = "registry", request_body = OrganisationPatch,
    params(("id" = uuid::Uuid, Path, description = "Organisation id")),
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
    let version = expected_version(&headers, patch.version)?;
    let updated = state
        .services
        .update_organisation(
            &principal,
            id,
            version,
            patch.name.as_deref(),
            patch.kind.map(Into::into),
        )
        .await?;
    Ok(with_etag(updated.version, org_view(updated)))
}

/// Deletes an organisation that has no users, persons, sites or tokens.
#[utoipa::path(delete, path = "/api/v1/organisations/{id}", tag = "registry",
    params(("id" = uuid::Uuid, Path, description = "Organisation id"), ("If-Match" = String, Header, description = "ETag read, e.g. \"v2\"", pattern = "^(W/)?\"v?[0-9]{1,18}\"$|^[0-9]{1,18}$")),
    responses((status = 204, description = "Deleted"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn delete_org(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let id = OrgId::from_uuid(path_id(&id)?);
    let version = expected_version(&headers, None)?;
    state.services.delete_organisation(&principal, id, version).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ persons

fn parse_date(field: &str, text: &str) -> Result<Date, ValidationError> {
    Date::parse(text.trim(), &time::format_description::well_known::Iso8601::DATE)
        .map_err(|_| ValidationError::new(field, "a date is written YYYY-MM-DD"))
}

fn personal_data(wire: Option<&PersonalDataWire>) -> Result<Option<PersonalDataInput>, ValidationError> {
    let Some(w) = wire else { return Ok(None) };
    Ok(Some(PersonalDataInput {
        passport_number: w.passport_number.clone(),
        phone: w.phone.clone(),
        date_of_birth: w
            .date_of_birth
            .as_deref()
            .map(|d| parse_date("/personal_data/date_of_birth", d))
            .transpose()?,
        home_address: w.home_address.clone(),
    }))
}

/// The wire view of a disclosed person: personal data only if the service disclosed it.
fn person_view(record: &Disclosed<PersonRecord>) -> PersonView {
    let p = &record.person;
    let d = &p.draft;
    let pd = &d.personal_data;
    PersonView {
        id: p.id.uuid(),
        full_name: d.full_name.clone(),
        nationality: d.nationality.clone(),
        employer_org_id: d.employer_org_id.uuid(),
        assigned_site_id: d.assigned_site_id.map(SiteId::uuid),
        protection_level: d.protection_level.into(),
        status: d.status.into(),
        personal_data: record.sees(PersonPart::PersonalData).then(|| PersonalDataWire {
            passport_number: pd.passport_number.clone(),
            phone: pd.phone.clone(),
            date_of_birth: pd
                .date_of_birth
                .and_then(|d| d.format(&time::format_description::well_known::Iso8601::DATE).ok()),
            home_address: pd.home_address.clone(),
        }),
        version: p.version,
    }
}

/// Protected persons the caller may see (coordinators: all; company officers: their company's;
/// liaison officers: their party's companies'). Every person returned is audited as read.
#[utoipa::path(get, path = "/api/v1/persons", tag = "registry", params(PersonListQuery),
    responses((status = 200, body = PageOf<PersonView>),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn list_persons(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<PersonListQuery>,
) -> ApiResult<Json<PageOf<PersonView>>> {
    let page = page_request(&ListQuery {
        q: query.q,
        cursor: query.cursor,
        limit: query.limit,
    })?;
    let summary = matches!(query.view, Some(PersonViewKind::Summary));
    let (items, next) = state.services.persons(&principal, page, summary).await?;
    Ok(Json(PageOf {
        items: items.iter().map(person_view).collect(),
        next_cursor: next.map(|u| u.to_string()),
    }))
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
    let new = registry::NewPerson {
        full_name: req.full_name,
        nationality: req.nationality,
        employer: org_id(req.employer_org_id),
        assigned_site: req.assigned_site_id.map(site_id),
        protection_level: req.protection_level.into(),
        status: req.status.into(),
        personal_data: personal_data(req.personal_data.as_ref())?,
    };
    let record = state.services.create_person(&principal, new).await?;
    Ok((StatusCode::CREATED, Json(person_view(&record))))
}

/// One protected person.
#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "registry", params(("id" = uuid::Uuid, Path, description = "Person id"), PersonQuery),
    responses((status = 200, body = PersonView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_person(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<PersonQuery>,
) -> ApiResult<Response> {
    let id = PersonId::from_uuid(path_id(&id)?);
    let record = match query.view.unwrap_or(PersonViewKind::Full) {
        PersonViewKind::Full => state.services.person(&principal, id).await?,
        PersonViewKind::Summary => state.services.person_summary(&principal, id).await?,
    };
    Ok(with_etag(record.person.version, person_view(&record)))
}

/// Changes a protected person.
#[utoipa::path(patch, path = "/api/v1/persons/{id}", tag = "registry", request_body = PersonPatch,
    params(("id" = uuid::Uuid, Path, description = "Person id")),
    responses((status = 200, body = PersonView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn patch_person(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<PersonPatch>,
) -> ApiResult<Response> {
    let id = PersonId::from_uuid(path_id(&id)?);
    let version = expected_version(&headers, patch.version)?;
    let personal = match &patch.personal_data {
        Some(v) => Some(personal_data(v.as_ref())?),
        None => None,
    };
    let changes = registry::PersonPatch {
        full_name: patch.full_name,
        nationality: patch.nationality,
        employer: patch.employer_org_id.map(org_id),
        assigned_site: patch.assigned_site_id.map(|s| s.map(site_id)),
        protection_level: patch.protection_level.map(Into::into),
        status: patch.status.map(Into::into),
        personal_data: personal,
    };
    let updated = state.services.update_person(&principal, id, version, changes).await?;
    Ok(with_etag(updated.person.version, person_view(&updated)))
}

/// Deletes a protected person.
#[utoipa::path(delete, path = "/api/v1/persons/{id}", tag = "registry",
    params(("id" = uuid::Uuid, Path, description = "Person id"), ("If-Match" = String, Header, description = "ETag read, e.g. \"v2\"", pattern = "^(W/)?\"v?[0-9]{1,18}\"$|^[0-9]{1,18}$")),
    responses((status = 204, description = "Deleted"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn delete_person(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let id = PersonId::from_uuid(path_id(&id)?);
    let version = expected_version(&headers, None)?;
    state.services.delete_person(&principal, id, version).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ sites

fn site_view(s: &Disclosed<Site>) -> SiteView {
    let d = &s.draft;
    SiteView {
        id: s.id.uuid(),
        owner_org_id: d.owner_org_id.uuid(),
        name: d.name.clone(),
        kind: d.kind.into(),
        location: GeoPoint::from_coordinate(d.location),
        perimeter: d.perimeter.as_ref().map(GeoPolygon::from_polygon),
        posture: d.posture.into(),
        notes: d.notes.clone(),
        version: s.version,
    }
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
    let page = page_request(&query)?;
    let result = state.services.sites(&principal, page).await?;
    Ok(Json(page_view(result, |s| site_view(&s))))
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
    let draft = SiteDraft::new(
        org_id(req.owner_org_id),
        &req.name,
        req.kind.into(),
        req.location.to_coordinate("/location")?,
        req.perimeter.as_ref().map(|p| p.to_polygon("/perimeter")).transpose()?,
        req.posture.map(Into::into).unwrap_or(SecurityPosture::Normal),
        req.notes.as_deref(),
    )?;
    let site = state.services.create_site(&principal, draft).await?;
    Ok((StatusCode::CREATED, Json(site_view(&site))))
}

/// One site.
#[utoipa::path(get, path = "/api/v1/sites/{id}", tag = "registry", params(("id" = uuid::Uuid, Path, description = "Site id")),
    responses((status = 200, body = SiteView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn get_site(State(state): State<AppState>, principal: Principal, Path(id): Path<String>) -> ApiResult<Response> {
    let id = SiteId::from_uuid(path_id(&id)?);
    let site = state.services.site(&principal, id).await?;
    Ok(with_etag(site.version, site_view(&site)))
}

/// Changes a site.
#[utoipa::path(patch, path = "/api/v1/sites/{id}", tag = "registry", request_body = SitePatch,
    params(("id" = uuid::Uuid, Path, description = "Site id")),
    responses((status = 200, body = SiteView),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn patch_site(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<SitePatch>,
) -> ApiResult<Response> {
    let id = SiteId::from_uuid(path_id(&id)?);
    let version = expected_version(&headers, patch.version)?;
    let changes = registry::SitePatch {
        owner: patch.owner_org_id.map(org_id),
        name: patch.name,
        kind: patch.kind.map(Into::into),
        location: patch
            .location
            .as_ref()
            .map(|l| l.to_coordinate("/location"))
            .transpose()?,
        perimeter: match &patch.perimeter {
            Some(Some(p)) => Some(Some(p.to_polygon("/perimeter")?)),
            Some(None) => Some(None),
            None => None,
        },
        posture: patch.posture.map(Into::into),
        notes: patch.notes,
    };
    let updated = state.services.update_site(&principal, id, version, changes).await?;
    Ok(with_etag(updated.version, site_view(&updated)))
}

/// Deletes a site no person is assigned to.
#[utoipa::path(delete, path = "/api/v1/sites/{id}", tag = "registry",
    params(("id" = uuid::Uuid, Path, description = "Site id"), ("If-Match" = String, Header, description = "ETag read, e.g. \"v2\"", pattern = "^(W/)?\"v?[0-9]{1,18}\"$|^[0-9]{1,18}$")),
    responses((status = 204, description = "Deleted"),
              (status = "default", description = "Problem", body = Problem, content_type = "application/problem+json")))]
async fn delete_site(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let id = SiteId::from_uuid(path_id(&id)?);
    let version = expected_version(&headers, None)?;
    state.services.delete_site(&principal, id, version).await?;
    Ok(StatusCode::NO_CONTENT)
}
