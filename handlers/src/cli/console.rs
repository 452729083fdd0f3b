//! `monitoring console`.

use crate::console_proxy::{app, Forwarder};
use aws_config::BehaviorVersion;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// The master's API invoke URL (the `api_url` output of the master module).
    #[arg(long)]
    api: String,
    /// AWS profile whose credentials sign the calls (default: the SDK's default chain).
    #[arg(long)]
    profile: Option<String>,
    /// Region to sign for (default: the one in the invoke URL, else the profile's).
    #[arg(long)]
    region: Option<String>,
    /// Address of the console.
    #[arg(long, default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
}

pub async fn run(args: Args) -> ExitCode {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = &args.profile {
        loader = loader.profile_name(p);
    }
    let config = loader.load().await;
    let Some(credentials) = config.credentials_provider() else {
        return super::failed("no AWS credentials provider (set a profile or AWS_ACCESS_KEY_ID)");
    };
    let region = args
        .region
        .or_else(|| Forwarder::region_of(&args.api))
        .or_else(|| config.region().map(|r| r.to_string()));
    let Some(region) = region else {
        return super::failed("no region to sign for: pass --region");
    };
    let forwarder = match Forwarder::new(&args.api, region, credentials) {
        Ok(f) => Arc::new(f),
        Err(e) => return super::failed(e),
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => return super::failed(format!("cannot listen on {}: {e}", args.listen)),
    };
    let addr = listener.local_addr().map_or(args.listen, |a| a);
    if !addr.ip().is_loopback() {
        tracing::warn!(listen = %addr, "the console signs with your credentials: anyone who reaches {addr} acts as you");
    }
    tracing::info!(
        "monitoring console: http://{addr}/console/, API calls signed for {} ({})",
        forwarder.api,
        forwarder.region
    );
    let server = axum::serve(listener, app(forwarder)).with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    match server.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => super::failed(e),
    }
}
