//! HandleMonitoringEvents: envelopes from the master bus into DynamoDB.

use handlers::lambda::{self, Error};
use lambda_http::lambda_runtime::{run, service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let store = lambda::or_fail_init(lambda::dynamo_store(&lambda::process_env(), &config)).await;
    lambda::warm("dynamodb", store.describe()).await;
    let store = &store;
    run(service_fn(|event: LambdaEvent<Value>| async move {
        lambda::handle_monitoring_event(store, event.payload, chrono::Utc::now()).await
    }))
    .await
}
