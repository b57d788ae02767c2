//! The operations web application, served by `jsms` itself: hand-written HTML, CSS and
//! JavaScript modules embedded in the binary (no build step, no third-party code), under a
//! strict Content-Security-Policy (no inline script or style, same-origin connections only).

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The policy for every response: scripts, styles and connections from this origin only;
/// images also as data URLs (the QR code) and from the configured tile server's origin; no
/// framing, no plugins, no base or form hijack.
pub fn content_security_policy(tile_url: Option<&str>) -> String {
    let tiles = tile_url.and_then(origin).map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:{tiles}; connect-src 'self'; \
font-src 'self'; manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let host_end = rest.find('/').unwrap_or(rest.len());
    url.get(..scheme.len() + 3 + host_end)
}

/// Checks a raster tile URL template: http(s), a host, and the `{z}`, `{x}` and `{y}`
/// placeholders; no characters that could break out of the CSP header.
pub fn validate_tile_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    let ok_scheme = url.starts_with("https://") || url.starts_with("http://");
    let placeholders = ["{z}", "{x}", "{y}"].iter().all(|p| url.contains(p));
    let clean = url
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '\'' | '"'));
    let host = origin(url).and_then(|o| o.split_once("://")).map_or("", |(_, h)| h);
    if ok_scheme && placeholders && clean && !host.is_empty() && url.len() <= 500 {
        Ok(url.to_owned())
    } else {
        Err(format!(
            "tile_url {url:?}: an http(s) URL template with {{z}}, {{x}} and {{y}}, e.g. https://tiles.example.org/{{z}}/{{x}}/{{y}}.png"
        ))
    }
}

/// (path under `/app/`, content type, body)
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.css", "text/css; charset=utf-8", include_str!("../web/app.css")),
    (
        "main.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/main.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/api.js"),
    ),
    ("ui.js", "text/javascript; charset=utf-8", include_str!("../web/ui.js")),
    (
        "map.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/map.js"),
    ),
    (
        "pages/signin.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/pages/signin.js"),
    ),
    (
        "pages/ops.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/pages/ops.js"),
    ),
    (
        "pages/movements.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/pages/movements.js"),
    ),
    (
        "pages/alerts.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/pages/alerts.js"),
    ),
    (
        "pages/zones.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/pages/zones.js"),
    ),
    (
        "pages/registry.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/pages/registry.js"),
    ),
    (
        "pages/meetings.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/pages/meetings.js"),
    ),
    (
        "pages/decisions.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/pages/decisions.js"),
    ),
    (
        "pages/incidents.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/pages/incidents.js"),
    ),
    (
        "pages/intel.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/pages/intel.js"),
    ),
    (
        "pages/audit.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/pages/audit.js"),
    ),
    (
        "pages/admin.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/pages/admin.js"),
    ),
];

const INDEX: &str = include_str!("../web/index.html");

/// `GET /` (the application) and `GET /app/{file}` (its assets).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", axum::routing::get(index))
        .route("/app/{*file}", axum::routing::get(asset))
}

async fn index() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        INDEX,
    )
        .into_response()
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, kind, body)) => ([(header::CONTENT_TYPE, HeaderValue::from_static(kind))], *body).into_response(),
        None => crate::error::ApiError::NotFound.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_app_imports_is_served() {
        let served: Vec<&str> = ASSETS.iter().map(|(n, _, _)| *n).collect();
        for (name, _, body) in ASSETS {
            for line in body.lines().filter(|l| l.starts_with("import ")) {
                let Some(spec) = line.split(['\'', '"']).nth(1) else {
                    continue;
                };
                let base = name.rsplit_once('/').map_or("", |(d, _)| d);
                let mut parts: Vec<&str> = if base.is_empty() {
                    Vec::new()
                } else {
                    base.split('/').collect()
                };
                for seg in spec.split('/') {
                    match seg {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        s => parts.push(s),
                    }
                }
                let resolved = parts.join("/");
                assert!(
                    served.contains(&resolved.as_str()),
                    "{name} imports {spec} ({resolved}), not served"
                );
            }
        }
        assert!(
            INDEX.contains("/app/main.js") && !INDEX.contains("<script>"),
            "no inline script"
        );
    }

    #[test]
    fn tile_urls_are_checked_and_only_their_origin_enters_the_policy() {
        assert_eq!(
            validate_tile_url(" https://tiles.example.org/osm/{z}/{x}/{y}.png ").unwrap(),
            "https://tiles.example.org/osm/{z}/{x}/{y}.png"
        );
        for bad in [
            "ftp://tiles.example.org/{z}/{x}/{y}.png",
            "https://tiles.example.org/{z}/{x}.png",
            "https://tiles.example.org/{z}/{x}/{y}.png; script-src *",
            "https:///{z}/{x}/{y}",
        ] {
            assert!(validate_tile_url(bad).is_err(), "{bad}");
        }
        let csp = content_security_policy(Some("https://tiles.example.org:8443/{z}/{x}/{y}.png"));
        assert!(
            csp.contains("img-src 'self' data: https://tiles.example.org:8443;"),
            "{csp}"
        );
        assert!(content_security_policy(None).contains("img-src 'self' data:;"));
        assert!(content_security_policy(None).contains("script-src 'self';"));
    }
}
