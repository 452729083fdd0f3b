//! The REST API: one binary, deployed once per route behind API Gateway.

use domain::cursor::CursorCodec;
use domain::ports::SystemClock;
use domain::usecases::api::Api;
use handlers::lambda::{self, Error};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let env = lambda::process_env();
    let store = lambda::or_fail_init(lambda::dynamo_store(&env, &config)).await;
    let pusher = lambda::config_pusher(&env, &config);
    let key_parameter = lambda::or_fail_init(env.required(lambda::CURSOR_KEY_PARAMETER)).await;
    let key = lambda::or_fail_init(
        lambda::cursor_key(&aws_sdk_ssm::Client::new(&config), &key_parameter).await,
    )
    .await;
    lambda::warm("dynamodb", store.describe()).await;
    let store = Arc::new(store);
    let api = Api {
        events: store.clone(),
        agents: store,
        pusher: Arc::new(pusher),
        clock: Arc::new(SystemClock),
        cursors: CursorCodec::new(key),
    };
    lambda_http::run(handlers::api::router(Arc::new(api))).await
}
