//! Notify: the events table's stream records into alerts, once per channel.

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
    run(service_fn(|event: LambdaEvent<Value>| async move {
        let batch = lambda::notify_stream_batch(notifier, &event.payload, chrono::Utc::now()).await;
        Ok::<_, Error>(batch)
    }))
    .await
}
