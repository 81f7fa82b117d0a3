//! Push conformance. On the embedded family what is sent lands in the outbox; on moto, which
//! delivers nothing, in the messages moto records per platform endpoint (read through its
//! `/moto-api` back door). Tokens are unique per test: moto matches an existing endpoint by
//! token across all platform applications, where SNS looks within one application.

use huddle_ports::{Platform, PushError};
use huddle_test_support::{on_both_families, unique_name, Family};

on_both_families!(
    registering_a_token_again_returns_the_same_endpoint,
    published_payloads_reach_the_platform,
    a_disabled_endpoint_refuses_publishes_until_its_token_is_registered_again,
    an_unregistered_endpoint_is_gone,
    payloads_must_be_json_objects,
);

async fn registering_a_token_again_returns_the_same_endpoint(family: Family) {
    let service = family.backend().await.push().await;
    let token = unique_name("token");
    let first = service.push.register(Platform::Apns, &token, "acc_1").await.unwrap();
    let again = service.push.register(Platform::Apns, &token, "acc_1").await.unwrap();
    assert_eq!(first, again);
    let new_owner = service.push.register(Platform::Apns, &token, "acc_2").await.unwrap();
    assert_eq!(first, new_owner, "the same token under other user data keeps its endpoint");

    let other = service.push.register(Platform::Fcm, &unique_name("token"), "acc_1").await.unwrap();
    assert_ne!(first, other);
    assert!(service.push.is_enabled(&first).await.unwrap());
}

async fn published_payloads_reach_the_platform(family: Family) {
    let service = family.backend().await.push().await;
    let apns = service.push.register(Platform::Apns, &unique_name("token"), "acc_1").await.unwrap();
    let fcm = service.push.register(Platform::Fcm, &unique_name("token"), "acc_1").await.unwrap();
    let liked = r#"{"aps":{"alert":"Ana liked your video"}}"#;
    let replied = r#"{"aps":{"alert":"Ana replied"}}"#;
    let message = r#"{"notification":{"title":"Ana liked your video"}}"#;
    service.push.publish(&apns, liked).await.unwrap();
    service.push.publish(&apns, replied).await.unwrap();
    service.push.publish(&fcm, message).await.unwrap();

    assert_eq!(service.delivered(&apns).await, [liked, replied]);
    assert_eq!(service.delivered(&fcm).await, [message]);
    assert!(service.push.is_enabled(&apns).await.unwrap());
}

async fn a_disabled_endpoint_refuses_publishes_until_its_token_is_registered_again(family: Family) {
    let service = family.backend().await.push().await;
    let token = unique_name("token");
    let endpoint = service.push.register(Platform::Fcm, &token, "acc_1").await.unwrap();
    service.disable(&endpoint).await;

    assert!(!service.push.is_enabled(&endpoint).await.unwrap());
    let refused = service.push.publish(&endpoint, r#"{"data":{}}"#).await;
    assert!(matches!(refused, Err(PushError::EndpointDisabled(_))), "{refused:?}");
    assert!(service.delivered(&endpoint).await.is_empty());

    let registered = service.push.register(Platform::Fcm, &token, "acc_1").await.unwrap();
    assert_eq!(registered, endpoint);
    assert!(service.push.is_enabled(&endpoint).await.unwrap(), "registering a token proves it live");
    service.push.publish(&endpoint, r#"{"data":{}}"#).await.unwrap();
    assert_eq!(service.delivered(&endpoint).await, [r#"{"data":{}}"#]);
}

async fn an_unregistered_endpoint_is_gone(family: Family) {
    let service = family.backend().await.push().await;
    let endpoint = service.push.register(Platform::Apns, &unique_name("token"), "acc_1").await.unwrap();
    service.push.unregister(&endpoint).await.unwrap();

    let enabled = service.push.is_enabled(&endpoint).await;
    assert!(matches!(enabled, Err(PushError::NotFound(_))), "{enabled:?}");
    let published = service.push.publish(&endpoint, r#"{"aps":{}}"#).await;
    assert!(matches!(published, Err(PushError::NotFound(_))), "{published:?}");
    service.push.unregister(&endpoint).await.expect("unregistering twice is fine");
}

async fn payloads_must_be_json_objects(family: Family) {
    let service = family.backend().await.push().await;
    let endpoint = service.push.register(Platform::Apns, &unique_name("token"), "acc_1").await.unwrap();
    for payload in ["not json", "[1, 2]", "\"text\""] {
        let refused = service.push.publish(&endpoint, payload).await;
        assert!(matches!(refused, Err(PushError::Invalid(_))), "{payload}: {refused:?}");
    }
    assert!(service.delivered(&endpoint).await.is_empty());
}
