//! `HUDDLE_TEST_AWS_ENDPOINT` points the harness at an emulator that is already running: the
//! tests use it, and no moto server of their own starts. The binary holds this one test, so no
//! other test of the process has used the shared server (or read the variable) before it sets it.

use huddle_test_support::moto::{self, EXTERNAL_ENDPOINT};
use huddle_test_support::unique_name;

#[tokio::test]
async fn the_harness_uses_the_emulator_the_environment_names() {
    let running = moto::private_server();
    std::env::set_var(EXTERNAL_ENDPOINT, running.endpoint());

    assert_eq!(moto::endpoint(), running.endpoint(), "the shared server is the named one");
    let private = moto::private_server();
    assert_eq!(private.endpoint(), running.endpoint(), "a private server is the named one too");
    drop(private);

    let name = unique_name("table");
    let shared = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
    huddle_aws::provision::table(&shared, &name, false).await.expect("create table");
    let direct = aws_sdk_dynamodb::Client::new(&huddle_aws::sdk_config(Some(running.endpoint())).await);
    direct.describe_table().table_name(&name).send().await.expect(
        "a table made through the harness is on the named emulator, which outlives a dropped private \
         handle",
    );
}
