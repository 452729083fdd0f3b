//! UpdateDeployment: agent lifecycle into DynamoDB, config pushes to agents.

use handlers::lambda::{self, Error};
use lambda_http::lambda_runtime::{run, service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let m = lambda::exit_on_config_error(lambda::master_adapters(&lambda::process_env(), &config));
    lambda::warm("dynamodb", m.store.describe()).await;
    let m = &m;
    run(service_fn(|event: LambdaEvent<Value>| async move {
        let outcome = lambda::handle_deployment_event(
            &m.store,
            &m.store,
            &m.pusher,
            event.payload,
            chrono::Utc::now(),
        )
        .await?;
        Ok::<_, Error>(serde_json::json!({ "outcome": format!("{outcome:?}") }))
    }))
    .await
}
