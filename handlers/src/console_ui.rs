//! The triage console's front end (plain ES modules, CSS and HTML under
//! `handlers/console/`, embedded in the binary: no CDN, works offline) and
//! how it is served: `/` redirects to `/console/`, the assets are under
//! `/console/`, and every other `/console/...` path (the deep links
//! `/console/events/{eventId}`, `/console/agents/{agentId}`, ...) answers
//! `index.html`, whose modules route in the browser.
//!
//! [`with_token`] guards a whole app (API and console alike) with a bearer
//! token, compared in constant time; the browser gets it as a cookie from a
//! `?token=` link.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{from_fn, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The embedded assets: (path under `/console/`, content type, bytes).
pub const ASSETS: [(&str, &str, &str); 8] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../console/index.html"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../console/style.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../console/app.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("../console/api.js"),
    ),
    (
        "ui.js",
        "text/javascript; charset=utf-8",
        include_str!("../console/ui.js"),
    ),
    (
        "events.js",
        "text/javascript; charset=utf-8",
        include_str!("../console/events.js"),
    ),
    (
        "event.js",
        "text/javascript; charset=utf-8",
        include_str!("../console/event.js"),
    ),
    (
        "agents.js",
        "text/javascript; charset=utf-8",
        include_str!("../console/agents.js"),
    ),
];

/// The overview page's module, separate only to keep [`ASSETS`] readable.
const OVERVIEW_JS: &str = include_str!("../console/overview.js");

/// Total size of the console's assets, in bytes (uncompressed).
pub fn assets_size() -> usize {
    ASSETS.iter().map(|(_, _, b)| b.len()).sum::<usize>() + OVERVIEW_JS.len()
}

fn asset(name: &str) -> Option<(&'static str, &'static str)> {
    if name == "overview.js" {
        return Some(("text/javascript; charset=utf-8", OVERVIEW_JS));
    }
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, t, b)| (*t, *b))
}

fn respond(content_type: &'static str, body: &'static str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
             script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

async fn console_path(uri: Uri) -> Response {
    let rest = uri
        .path()
        .trim_start_matches("/console")
        .trim_start_matches('/');
    match asset(rest) {
        Some((t, b)) if rest != "index.html" => respond(t, b),
        // Deep links and the console's root: the page routes in the browser.
        _ => respond("text/html; charset=utf-8", ASSETS[0].2),
    }
}

/// `api` with the console beside it: `/` redirects to `/console/`, `/console/...`
/// serves the front end, everything else goes to `api`.
pub fn with_console(api: Router) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/") }))
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(console_path))
        .route("/console/{*rest}", get(console_path))
        .fallback_service(api)
}

/// A bearer token, compared through its SHA-256 digest in constant time.
#[derive(Clone)]
pub struct Token(Arc<[u8; 32]>);

impl Token {
    pub fn new(secret: &str) -> Self {
        Self(Arc::new(Sha256::digest(secret.as_bytes()).into()))
    }

    pub fn matches(&self, candidate: &str) -> bool {
        let d: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
        bool::from(self.0.ct_eq(&d))
    }
}

/// The cookie that carries the token for the browser.
pub const TOKEN_COOKIE: &str = "monitoring_token";

fn presented(req: &Request) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(v) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(t) = v.strip_prefix("Bearer ") {
            out.push(t.trim().to_owned());
        }
    }
    for v in req.headers().get_all(header::COOKIE) {
        for pair in v.to_str().unwrap_or_default().split(';') {
            if let Some((k, val)) = pair.trim().split_once('=') {
                if k == TOKEN_COOKIE {
                    out.push(val.to_owned());
                }
            }
        }
    }
    out
}

fn query_token(uri: &Uri) -> (Option<String>, String) {
    let mut token = None;
    let mut kept = Vec::new();
    for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        if k == "token" {
            token = Some(v.into_owned());
        } else {
            kept.push((k.into_owned(), v.into_owned()));
        }
    }
    let mut clean = uri.path().to_owned();
    if !kept.is_empty() {
        clean.push('?');
        clean.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(kept)
                .finish(),
        );
    }
    (token, clean)
}

fn unauthorized(console: bool) -> Response {
    let (ct, body) = if console {
        (
            "text/html; charset=utf-8",
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Token needed</title></head>\
             <body><main><h1>Token needed</h1><p>This console listens beyond loopback and needs its token. \
             Open the link that <code>monitoring local</code> printed when it started \
             (<code>/console/?token=…</code>).</p></main></body></html>",
        )
    } else {
        (
            "application/json",
            r#"{"error":{"code":"unauthorized","message":"this API needs a token: send Authorization: Bearer <token>"}}"#,
        )
    };
    let mut resp = (StatusCode::UNAUTHORIZED, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    resp.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    resp
}

async fn check_token(token: Token, req: Request, next: Next) -> Response {
    if presented(&req).iter().any(|t| token.matches(t)) {
        return next.run(req).await;
    }
    let console = req.uri().path() == "/" || req.uri().path().starts_with("/console");
    if console && req.method() == Method::GET {
        if let (Some(t), clean) = query_token(req.uri()) {
            if token.matches(&t) {
                // The link's token becomes a cookie; the address bar loses it.
                let mut resp = Redirect::to(&clean).into_response();
                let cookie = format!("{TOKEN_COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict");
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    resp.headers_mut().insert(header::SET_COOKIE, v);
                }
                return resp;
            }
        }
    }
    unauthorized(console)
}

/// Requires `token` on every request of `app` (API and console alike):
/// `Authorization: Bearer <token>`, or the cookie a `?token=` link sets.
pub fn with_token(app: Router, token: Token) -> Router {
    app.layer(from_fn(move |req: Request<Body>, next: Next| {
        let token = token.clone();
        async move { check_token(token, req, next).await }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_exactly() {
        let t = Token::new("s3cret");
        assert!(t.matches("s3cret"));
        assert!(!t.matches("s3cre"));
        assert!(!t.matches(""));
        assert!(!t.matches("s3cret "));
    }

    #[test]
    fn the_assets_stay_small() {
        assert!(assets_size() <= 150 * 1024, "{} bytes", assets_size());
    }
}
