//! `monitoring console`: serves the console for a deployed master and
//! forwards its API calls to the API Gateway invoke URL, signed with SigV4
//! (service `execute-api`) from the caller's AWS credentials: the SDK's
//! default chain (`--profile` picks a profile) and the SDK's signer
//! (`aws-sigv4`). No signing is written here, and no new public endpoint or
//! identity provider is needed: the API keeps its AWS_IAM authorization.

use crate::api::{Problem, MAX_BODY};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::time::SystemTime;

/// The request headers forwarded to the API (and signed).
const FORWARDED: [header::HeaderName; 3] = [header::ACCEPT, header::CONTENT_TYPE, header::IF_MATCH];

type HttpsClient = Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<axum::body::Bytes>,
>;

/// Where and how API calls are forwarded.
pub struct Forwarder {
    /// The invoke URL without a trailing slash, e.g. `https://x.execute-api.eu-west-1.amazonaws.com/prod`.
    pub api: String,
    pub region: String,
    pub credentials: SharedCredentialsProvider,
    client: HttpsClient,
}

impl Forwarder {
    pub fn new(
        api: &str,
        region: String,
        credentials: SharedCredentialsProvider,
    ) -> Result<Self, String> {
        let api = api.trim_end_matches('/').to_owned();
        let uri: http::Uri = api.parse().map_err(|e| format!("--api {api:?}: {e}"))?;
        if !matches!(uri.scheme_str(), Some("https" | "http")) || uri.host().is_none() {
            return Err(format!("--api {api:?} is not an http(s) URL"));
        }
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| format!("no trusted root certificates: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            api,
            region,
            credentials,
            client: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    /// The region an invoke URL names (`<id>.execute-api.<region>.amazonaws.com`).
    pub fn region_of(api: &str) -> Option<String> {
        let host = api.parse::<http::Uri>().ok()?.host()?.to_owned();
        let rest = host.split_once(".execute-api.")?.1;
        Some(rest.split('.').next()?.to_owned())
    }

    async fn forward(&self, req: Request) -> Result<Response, Problem> {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, MAX_BODY)
            .await
            .map_err(|_| Problem::body_too_large())?;
        let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let url = format!("{}{}", self.api, path_and_query);
        let uri: http::Uri = url
            .parse()
            .map_err(|_| Problem::bad_request("the path cannot be forwarded"))?;
        let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::HOST,
            HeaderValue::from_str(&authority).map_err(|_| Problem::bad_request("bad host"))?,
        );
        for name in FORWARDED {
            if let Some(v) = parts.headers.get(&name) {
                headers.insert(name, v.clone());
            }
        }
        let mut out = http::Request::builder()
            .method(parts.method.clone())
            .uri(uri)
            .body(Full::new(body.clone()))
            .map_err(|_| Problem::bad_request("the request cannot be forwarded"))?;
        *out.headers_mut() = headers;
        self.sign(&mut out, &body).await?;
        let resp = self.client.request(out).await.map_err(|e| {
            tracing::error!(error = %e, "the API did not answer");
            upstream("the API did not answer; see the console's log")
        })?;
        let (rparts, rbody) = resp.into_parts();
        let bytes = rbody
            .collect()
            .await
            .map_err(|_| upstream("the API's answer was cut off"))?
            .to_bytes();
        let mut answer = Response::new(Body::from(bytes));
        *answer.status_mut() = rparts.status;
        for name in [
            header::CONTENT_TYPE,
            header::ALLOW,
            header::WWW_AUTHENTICATE,
        ] {
            if let Some(v) = rparts.headers.get(&name) {
                answer.headers_mut().insert(name, v.clone());
            }
        }
        Ok(answer)
    }

    /// Signs `req` in place with the SDK's SigV4 signer.
    async fn sign(
        &self,
        req: &mut http::Request<Full<axum::body::Bytes>>,
        body: &[u8],
    ) -> Result<(), Problem> {
        let creds = self.credentials.provide_credentials().await.map_err(|e| {
            tracing::error!(error = %e, "no AWS credentials");
            upstream("no AWS credentials for the API; see the console's log")
        })?;
        let identity = creds.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("execute-api")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| upstream(format!("cannot sign: {e}")))?
            .into();
        let headers: Vec<(&str, &str)> = req
            .headers()
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
            .collect();
        let uri = req.uri().to_string();
        let signable = SignableRequest::new(
            req.method().as_str(),
            &uri,
            headers.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| upstream(format!("cannot sign: {e}")))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| upstream(format!("cannot sign: {e}")))?
            .into_parts();
        instructions.apply_to_request_http1x(req);
        Ok(())
    }
}

/// A failure between this proxy and the API: 502.
fn upstream(message: impl Into<String>) -> Problem {
    let mut p = Problem::bad_request(message);
    p.status = StatusCode::BAD_GATEWAY;
    p.code = "internal";
    p
}

async fn forward(State(f): State<Arc<Forwarder>>, req: Request) -> Response {
    let path = req.uri().path();
    let api_path = path == "/events"
        || path.starts_with("/events/")
        || path == "/agents"
        || path.starts_with("/agents/")
        || path == "/overview";
    if !api_path {
        return Problem::not_found(format!("no route for {path}")).into_response();
    }
    match f.forward(req).await {
        Ok(r) => r,
        Err(p) => p.into_response(),
    }
}

/// The console, with every API path forwarded, signed, to `f.api`.
pub fn app(f: Arc<Forwarder>) -> Router {
    crate::console_ui::with_console(Router::new().fallback(forward).with_state(f))
}
