//! AnalyzeStream: one response per request, in order, per-item errors, same registration
//! semantics as Analyze.

use idforensics::frontends::service::pb;
use idforensics::frontends::service::pb::analyze_stream_response::Result as ItemResult;

use crate::support::{TestServer, jpeg, textured_image};

fn request(image: Vec<u8>, account: &str, document: &str) -> pb::AnalyzeRequest {
    pb::AnalyzeRequest {
        image,
        account_id: account.into(),
        document_id: document.into(),
        register: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn streams_answer_every_item_in_order_and_keep_going_after_errors() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let images: Vec<Vec<u8>> = (0..8).map(|i| jpeg(&textured_image(640, 480, 100 + i), 90)).collect();
    let mut requests: Vec<pb::AnalyzeRequest> = images
        .iter()
        .enumerate()
        .map(|(i, image)| request(image.clone(), &format!("acct-{i}"), &format!("doc-{i}")))
        .collect();
    requests.insert(3, request(Vec::new(), "acct-x", "empty")); // a bad image
    requests.insert(5, request(images[0].clone(), "", "no-account")); // registration without an account
    requests.push(request(images[0].clone(), "acct-reviewer", "doc-r")); // reuse of doc-0
    let expected = requests.len();

    let mut responses = client.analyze_stream(tokio_stream::iter(requests)).await.unwrap().into_inner();
    let mut received = Vec::new();
    while let Some(item) = responses.message().await.unwrap() {
        received.push(item);
    }
    assert_eq!(received.len(), expected);
    for (index, item) in received.iter().enumerate() {
        assert_eq!(item.sequence, index as u64, "in order");
    }
    let error_reason = |index: usize| match &received[index].result {
        Some(ItemResult::Error(error)) => error.reason.clone(),
        other => panic!("item {index}: expected an error, got {other:?}"),
    };
    assert_eq!(error_reason(3), "image.empty");
    assert_eq!(error_reason(5), "request.missing_account_id");
    let Some(ItemResult::Response(last)) = &received[expected - 1].result else { panic!("last item failed") };
    assert_eq!(last.matches.len(), 1);
    assert_eq!(
        (last.matches[0].account_id.as_str(), last.matches[0].kind.as_str()),
        ("acct-0", "reuse.same_file")
    );
    let registered = received
        .iter()
        .filter(|item| matches!(&item.result, Some(ItemResult::Response(r)) if r.registration.is_some()))
        .count();
    assert_eq!(registered, 9, "every valid item was registered");

    // Registered through the stream means findable by everyone else.
    for image in &images {
        let found = client
            .find_matches(pb::FindMatchesRequest { image: image.clone(), account_id: "someone-else".into() })
            .await
            .unwrap()
            .into_inner();
        assert!(!found.matches.is_empty());
    }
    server.stop().await;
}
