//! The fan-out Lambda: DynamoDB Stream batches of the events table → SNS EventsTopic.

use aws_lambda_events::dynamodb::Event;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    huddle_http::init_logging();
    let config = huddle_aws::sdk_config(None).await;
    let topic_arn = std::env::var("EVENTS_TOPIC_ARN").map_err(|_| "EVENTS_TOPIC_ARN is not set")?;
    let topic = huddle_aws::SnsTopic::new(aws_sdk_sns::Client::new(&config), topic_arn);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Event>| async {
        Ok::<_, std::convert::Infallible>(huddle_delivery::fan_out(&topic, event.payload).await)
    }))
    .await
}
