//! The projector role: invoked by its queue (SQS batches, partial failures reported) and by the
//! schedule that runs its sweeper (an EventBridge "Scheduled Event").

use aws_lambda_events::sqs::SqsEvent;
use huddle_delivery::{Projector, Sweeper, SWEEP_LOOKBACK};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

pub async fn serve(projector: Projector, sweeper: Sweeper) -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| handle(&projector, &sweeper, event.payload)))
        .await
}

async fn handle(projector: &Projector, sweeper: &Sweeper, payload: Value) -> Result<Value, Error> {
    if payload.get("Records").is_some() {
        let batch: SqsEvent = serde_json::from_value(payload)?;
        return Ok(serde_json::to_value(projector.handle(batch).await)?);
    }
    if payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event") {
        let report = sweeper.sweep(time::OffsetDateTime::now_utc(), SWEEP_LOOKBACK).await?;
        return Ok(json!({ "checked": report.checked, "behind": report.behind, "healed": report.healed }));
    }
    Err("the projector takes an SQS batch or a scheduled event".into())
}
