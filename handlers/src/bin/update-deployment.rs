//! UpdateDeployment: agent lifecycle into DynamoDB, config pushes to agents.

use handlers::lambda::{self, Error};
use lambda_http::lambda_runtime::{run, service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let env = lambda::process_env();
    let store = lambda::or_fail_init(lambda::dynamo_store(&env, &config)).await;
    let pusher = lambda::config_pusher(&env, &config);
    lambda::warm("dynamodb", store.describe()).await;
    let (store, pusher) = (&store, &pusher);
    run(service_fn(|event: LambdaEvent<Value>| async move {
        let outcome = lambda::handle_deployment_event(
            store,
            store,
            pusher,
            event.payload,
            chrono::Utc::now(),
        )
        .await?;
        Ok::<_, Error>(outcome)
    }))
    .await
}
