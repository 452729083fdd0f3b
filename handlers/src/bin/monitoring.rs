//! `monitoring`: the whole system on one machine, with no AWS.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    handlers::cli::main().await
}
