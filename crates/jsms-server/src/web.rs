//! The operations web application, served by `jsms` itself: hand-written HTML, CSS and
//! JavaScript modules embedded in the binary (no build step, no third-party code), under a
//! strict Content-Security-Policy (no inline script or style, same-origin connections only).

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The policy for every response: scripts, styles and connections from this origin only;
/// images also as data URLs (the QR code); no framing, no plugins, no base or form hijack.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; frame-ancestors 'none'; \
base-uri 'none'; form-action 'self'";

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
}
