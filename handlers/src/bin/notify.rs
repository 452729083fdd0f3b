//! Notify: the events table's stream records into alerts, once per channel;
//! each minute, the storm summaries and the agents' alerts.

use handlers::lambda::{self, Error};
use lambda_http::lambda_runtime::{run, service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let adapters =
        lambda::or_fail_init(lambda::notify_adapters(&lambda::process_env(), &config).await).await;
    lambda::warm("dynamodb", adapters.log.describe()).await;
    let notifier = &adapters.notifier();
    let agents = &adapters.agents;
    run(service_fn(|event: LambdaEvent<Value>| async move {
        lambda::notify_invocation(notifier, agents, &event.payload, chrono::Utc::now())
            .await
            .map_err(Error::from)
    }))
    .await
}
