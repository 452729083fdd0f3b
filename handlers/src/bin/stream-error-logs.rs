//! StreamErrorLogs: the agent's real-time path, invoked by the account's
//! CloudWatch Logs subscription filter (and, in `realtime` mode, by the
//! schedule, Terraform's registration and the master's config pushes).

use handlers::lambda::{self, Error};
use lambda_http::lambda_runtime::{run, service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let a = lambda::or_fail_init(lambda::stream_adapters(&lambda::process_env(), &config)).await;
    lambda::warm("ssm", domain::ports::AgentStateStore::load(&a.state)).await;
    let a = &a;
    run(service_fn(|event: LambdaEvent<Value>| async move {
        lambda::stream_error_logs(
            &a.stream(),
            &a.lifecycle(),
            event.payload,
            chrono::Utc::now(),
        )
        .await
    }))
    .await
}
