//! Request extractors that turn every kind of bad input into a precise problem: JSON bodies
//! (content type, size, syntax, shape, unknown fields, each with the field path), query
//! strings, path ids and version preconditions.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// A JSON body parsed strictly: `application/json`, within the size limit, no unknown fields.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

fn pointer(path: &serde_path_to_error::Path, message: &str) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => out.push_str(&format!("/{}", key.replace('~', "~0").replace('/', "~1"))),
            Segment::Enum { variant } => out.push_str(&format!("/{variant}")),
            Segment::Unknown => out.push_str("/?"),
        }
    }
    // serde reports a missing field at its parent (an unknown one already at itself); name
    // the field.
    for prefix in ["unknown field `", "missing field `"] {
        if let Some(name) = message.strip_prefix(prefix).and_then(|rest| rest.split('`').next()) {
            let segment = format!("/{name}");
            if !out.ends_with(&segment) {
                out.push_str(&segment);
            }
        }
    }
    out
}

/// Parses a JSON request body into `T`, mapping errors to problems with the field path.
/// Strict: the body is one JSON object (every request body of the API is), with nothing
/// after it — `[]` for an object or `{…}x` is refused, never read leniently.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Syntax first (one JSON value and nothing after it), then the object, then the shape.
    let mut value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| ApiError::MalformedBody {
        field: None,
        detail: format!("the body is not valid JSON: {e}"),
        status: StatusCode::BAD_REQUEST,
    })?;
    if !value.is_object() {
        return Err(ApiError::MalformedBody {
            field: Some(String::new()),
            detail: "the body must be a JSON object".into(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
        });
    }
    let result: Result<T, _> = serde_path_to_error::deserialize(&value);
    let result = match result {
        // `3.0` where an integer is expected is read as 3 (JSON Schema's reading); the body
        // is otherwise taken exactly as sent.
        Err(e) if e.inner().to_string().starts_with("invalid type: floating point") => {
            integral_floats(&mut value);
            serde_path_to_error::deserialize(&value)
        }
        other => other,
    };
    result.map_err(|e| {
        let message = e.inner().to_string();
        ApiError::MalformedBody {
            field: Some(pointer(e.path(), &message)),
            detail: message,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        }
    })
}

/// Numbers written with a fraction of zero (`3.0`) are integers, as JSON Schema reads them:
/// they are taken where an integer is expected. Other fractions are left as they are.
fn integral_floats(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                // PANIC SAFETY: |f| < 2^53, so the conversion is exact.
                #[allow(clippy::cast_possible_truncation)]
                let i = f as i64;
                *v = serde_json::Value::from(i);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_floats),
        serde_json::Value::Object(map) => map.values_mut().for_each(integral_floats),
        _ => {}
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            })
            .unwrap_or(false);
        if !json_type {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// A request body that could not be read: 413 over the size limit, 400 otherwise (for
/// handlers that take the raw body).
pub fn body_error(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::MalformedBody {
            detail: e.body_text(),
            field: None,
            status: StatusCode::BAD_REQUEST,
        }
    }
}

/// A query string parsed strictly (unknown parameters rejected by the target type).
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(e) => {
                let text = e.body_text();
                let text = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text)
                    .to_owned();
                let field = match text.split_once(": ") {
                    Some((f, _)) if !f.contains(' ') => format!("/{f}"),
                    _ => text
                        .strip_prefix("unknown field `")
                        .and_then(|r| r.split('`').next())
                        .map(|f| format!("/{f}"))
                        .unwrap_or_else(|| "/".into()),
                };
                Err(ApiError::InvalidParameter { field, detail: text })
            }
        }
    }
}

/// Parses a path id.
pub fn path_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::InvalidParameter {
        field: "/id".into(),
        detail: format!("{raw:?} is not a UUID"),
    })
}

/// The version the client read, from `If-Match` (`"v3"`, `W/"v3"`, `3`) or a body field.
/// Both present and different is an error; neither is `428 Precondition Required`.
pub fn expected_version(headers: &HeaderMap, body: Option<i64>) -> Result<i64, ApiError> {
    let header = match headers.get(header::IF_MATCH) {
        None => None,
        Some(v) => {
            let text = v.to_str().unwrap_or_default().trim();
            let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
            let text = text.strip_prefix('v').unwrap_or(text);
            Some(text.parse::<i64>().map_err(|_| ApiError::InvalidParameter {
                field: "/If-Match".into(),
                detail: "If-Match must carry the ETag you read, like \"v3\"".into(),
            })?)
        }
    };
    match (header, body) {
        (Some(h), Some(b)) if h != b => Err(ApiError::InvalidParameter {
            field: "/version".into(),
            detail: format!("If-Match says version {h} but the body says {b}"),
        }),
        (Some(v), _) | (None, Some(v)) => Ok(v),
        (None, None) => Err(ApiError::PreconditionRequired),
    }
}

/// The request id and client address, for audit entries.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    /// The `x-request-id` of this request.
    pub request_id: Option<String>,
    /// The client's address.
    pub client: String,
}

impl RequestMeta {
    /// The metadata of work the server starts itself (no request, no client).
    pub fn internal() -> Self {
        Self {
            request_id: None,
            client: "internal".into(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ClientAddr(client) = ClientAddr::from_request_parts(parts, state).await?;
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(RequestMeta { request_id, client })
    }
}

/// The client's address as seen on the socket.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<axum::extract::ConnectInfo<crate::PeerAddr>>()
            .map(|c| c.0.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientAddr(addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        lat: f64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        location: Inner,
        tags: Vec<u8>,
    }

    fn field_of(body: &str) -> (u16, Option<String>) {
        match parse_json::<Outer>(body.as_bytes()) {
            Err(ApiError::MalformedBody { field, status, .. }) => (status.as_u16(), field),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn only_one_object_is_a_body() {
        let ok = r#"{"name":"a","location":{"lat":1},"tags":[]}"#;
        assert!(parse_json::<Outer>(ok.as_bytes()).is_ok());
        assert!(
            parse_json::<Outer>(format!(" {ok}\n").as_bytes()).is_ok(),
            "whitespace around"
        );
        assert_eq!(field_of(&format!("{ok}x")).0, 400, "trailing bytes");
        assert_eq!(field_of(&format!("{ok}{ok}")).0, 400, "two objects");
        assert_eq!(
            field_of(r#"["a",{"lat":1},[]]"#),
            (422, Some(String::new())),
            "an array for an object"
        );
        assert_eq!(field_of("null").0, 422);
        assert!(
            parse_json::<Outer>(br#"{"name":"a","location":{"lat":1.5},"tags":[2.0, 3]}"#).is_ok(),
            "2.0 is an integer, as JSON Schema reads it"
        );
        assert_eq!(field_of(r#"{"name":"a","location":{"lat":1},"tags":[2.5]}"#).0, 422);
        assert_eq!(field_of("7").0, 422);
    }

    #[test]
    fn paths_name_the_field() {
        assert_eq!(field_of("{"), (400, None));
        assert_eq!(
            field_of(r#"{"name":"a","location":{"lat":"x"},"tags":[]}"#),
            (422, Some("/location/lat".into()))
        );
        assert_eq!(
            field_of(r#"{"name":"a","location":{"lat":1},"tags":[1,300]}"#),
            (422, Some("/tags/1".into()))
        );
        assert_eq!(
            field_of(r#"{"name":"a","location":{"lat":1},"tags":[],"x":1}"#),
            (422, Some("/x".into()))
        );
        assert_eq!(
            field_of(r#"{"location":{"lat":1},"tags":[]}"#),
            (422, Some("/name".into()))
        );
    }

    #[test]
    fn versions() {
        let mut h = HeaderMap::new();
        assert!(matches!(
            expected_version(&h, None),
            Err(ApiError::PreconditionRequired)
        ));
        assert_eq!(expected_version(&h, Some(2)).ok(), Some(2));
        h.insert(header::IF_MATCH, "W/\"v7\"".parse().unwrap_or_else(|_| unreachable!()));
        assert_eq!(expected_version(&h, None).ok(), Some(7));
        assert!(expected_version(&h, Some(6)).is_err());
    }
}
