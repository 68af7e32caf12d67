//! The gRPC API end to end over a real socket.

use idforensics::analysis::decode::{DecodeLimits, decode};
use idforensics::frontends::service::pb;
use tonic::Code;

use crate::support::{TestServer, jpeg, png, reason, testdata, textured_image};

fn analyze(image: Vec<u8>, account: &str, document: &str, register: bool) -> pb::AnalyzeRequest {
    pb::AnalyzeRequest {
        image,
        account_id: account.into(),
        document_id: document.into(),
        register,
        ..Default::default()
    }
}

fn codes(response: &pb::AnalyzeResponse) -> Vec<&str> {
    response.findings.iter().map(|finding| finding.code.as_str()).collect()
}

#[tokio::test]
async fn registration_reuse_and_erasure_over_grpc() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let camera_jpeg = testdata("camera-sony-cybershot.jpg");

    // Account A registers a real camera JPEG: nothing seen before.
    let first =
        client.analyze(analyze(camera_jpeg.clone(), "acct-A", "a-1", true)).await.unwrap().into_inner();
    assert_eq!(first.decision(), pb::Decision::Accept);
    assert!(first.matches.is_empty());
    assert!(first.registration.as_ref().unwrap().registered);
    assert!(!first.registration.as_ref().unwrap().replayed);
    let image = first.image.as_ref().unwrap();
    assert_eq!((image.format.as_str(), image.width, image.height), ("jpeg", 640, 480));
    assert!(image.has_exif && image.has_exif_thumbnail);
    assert!(!first.policy_version.is_empty());
    let stages: Vec<&str> = first.timings.iter().map(|t| t.stage.as_str()).collect();
    let registration_stages = ["wait_for_registration_slot", "match_since", "policy", "store", "serialised"];
    assert_eq!(
        stages[..8],
        ["decode", "planes", "locate", "quality", "tamper", "mrz", "fingerprint", "match"]
    );
    assert_eq!(stages[8..], registration_stages);
    let metrics = &first.quality.as_ref().unwrap().metrics;
    assert!(metrics.iter().any(|m| m.name == "jpeg_quality_estimate"), "every JPEG gets a quality estimate");

    // The same pixels, losslessly re-encoded as PNG, from account B: same image, different file.
    let pixels = decode(&camera_jpeg, &DecodeLimits::default()).unwrap().rgb;
    let as_png = png(&pixels);
    let from_b = client.analyze(analyze(as_png.clone(), "acct-B", "b-1", false)).await.unwrap().into_inner();
    assert_eq!(codes(&from_b), ["reuse.same_image"]);
    assert_eq!(from_b.decision(), pb::Decision::Review);
    let found = &from_b.matches[0];
    assert_eq!((found.account_id.as_str(), found.document_id.as_str()), ("acct-A", "a-1"));
    assert_eq!(found.kind, "reuse.same_image");
    assert_eq!(found.distance, Some(0));
    assert_eq!(
        from_b.fingerprints.as_ref().unwrap().pixel_sha256,
        first.fingerprints.as_ref().unwrap().pixel_sha256
    );
    assert_ne!(
        from_b.fingerprints.as_ref().unwrap().file_sha256,
        first.fingerprints.as_ref().unwrap().file_sha256
    );

    // The same bytes from account C: same file.
    let from_c =
        client.analyze(analyze(camera_jpeg.clone(), "acct-C", "c-1", false)).await.unwrap().into_inner();
    assert_eq!(codes(&from_c), ["reuse.same_file"]);
    assert_eq!(from_c.matches[0].kind, "reuse.same_file");
    let finding = &from_c.findings[0];
    assert_eq!(finding.severity(), pb::Severity::High);
    let other_accounts = finding.evidence.iter().find(|e| e.name == "other_accounts").unwrap();
    assert_eq!(other_accounts.value, Some(pb::evidence::Value::Number(1.0)));

    // Account A's own re-upload is not a match, and re-sending the same document id is a replay.
    let replay =
        client.analyze(analyze(camera_jpeg.clone(), "acct-A", "a-1", true)).await.unwrap().into_inner();
    assert!(replay.matches.is_empty());
    assert!(replay.registration.as_ref().unwrap().replayed);
    assert_eq!(
        replay.registration.as_ref().unwrap().registered_at_unix_ms,
        first.registration.as_ref().unwrap().registered_at_unix_ms
    );

    // The same document id with other content is refused.
    let conflict = client.analyze(analyze(as_png.clone(), "acct-A", "a-1", true)).await.unwrap_err();
    assert_eq!(conflict.code(), Code::AlreadyExists);
    assert_eq!(reason(&conflict), "registration.conflict");

    // FindMatches searches without registering.
    let search = client
        .find_matches(pb::FindMatchesRequest { image: as_png.clone(), account_id: "acct-Z".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(search.matches.len(), 1);

    // ForgetAccount(A) erases A; nothing matches any more.
    let forgotten = client
        .forget_account(pb::ForgetAccountRequest { account_id: "acct-A".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(forgotten.documents_erased, 1);
    let after = client.analyze(analyze(camera_jpeg, "acct-C", "c-1", false)).await.unwrap().into_inner();
    assert!(after.matches.is_empty(), "{:?}", after.matches);
    assert_eq!(after.decision(), pb::Decision::Accept);

    server.stop().await;
}

#[tokio::test]
async fn request_validation_has_reasons() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let image = jpeg(&textured_image(64, 64, 1), 90);

    let no_account = client.analyze(analyze(image.clone(), "", "d", true)).await.unwrap_err();
    assert_eq!(
        (no_account.code(), reason(&no_account).as_str()),
        (Code::InvalidArgument, "request.missing_account_id")
    );
    let no_document = client.analyze(analyze(image.clone(), "a", "", true)).await.unwrap_err();
    assert_eq!(reason(&no_document), "request.missing_document_id");
    let bad_id = client.analyze(analyze(image, "a\u{0}b", "d", false)).await.unwrap_err();
    assert_eq!(reason(&bad_id), "request.invalid_account_id");
    let forget =
        client.forget_account(pb::ForgetAccountRequest { account_id: String::new() }).await.unwrap_err();
    assert_eq!(reason(&forget), "request.missing_account_id");
    let links = client
        .get_account_links(pb::GetAccountLinksRequest { account_id: "a\u{7}".into() })
        .await
        .unwrap_err();
    assert_eq!(reason(&links), "request.invalid_account_id");
    server.stop().await;
}

#[tokio::test]
async fn health_and_reflection_describe_the_service() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let server = TestServer::start().await;
    let channel = tonic::transport::Channel::from_shared(server.endpoint()).unwrap().connect().await.unwrap();

    let health = HealthClient::new(channel.clone())
        .check(tonic_health::pb::HealthCheckRequest { service: "idforensics.v1.IdForensics".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status(), tonic_health::pb::health_check_response::ServingStatus::Serving);

    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection response {response:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(names.contains(&"idforensics.v1.IdForensics".to_owned()), "{names:?}");
    assert!(names.contains(&"grpc.health.v1.Health".to_owned()), "{names:?}");
    server.stop().await;
}

#[tokio::test]
async fn deadlines_are_honoured() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    // ~2 MP: tens of milliseconds of work against a 1 ms deadline.
    // The deadline travels as the `grpc-timeout` header. tonic enforces it on both ends and reports
    // expiry as CANCELLED ("Timeout expired"); other stacks say DEADLINE_EXCEEDED.
    let mut request = tonic::Request::new(analyze(jpeg(&textured_image(1600, 1200, 2), 90), "", "", false));
    request.metadata_mut().insert("grpc-timeout", "1m".parse().unwrap());
    let status = client.analyze(request).await.unwrap_err();
    assert!(matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled), "{status:?}");
    // The server is still serving.
    client.analyze(analyze(jpeg(&textured_image(32, 32, 3), 90), "", "", false)).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn messages_over_the_size_limit_are_refused() {
    let server = TestServer::start_with(|settings| {
        settings.max_message_bytes = 1 << 20;
        settings.limits.max_bytes = 1 << 20;
    })
    .await;
    let mut client = server.client().await;
    let status = client.analyze(analyze(vec![0xFF; 2 << 20], "", "", false)).await.unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    client.analyze(analyze(jpeg(&textured_image(32, 32, 4), 90), "", "", false)).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn quality_findings_carry_their_evidence_and_hint() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    // The camera image, under-exposed by five stops.
    let mut dark = decode(&testdata("camera-sony-cybershot.jpg"), &DecodeLimits::default()).unwrap().rgb;
    for pixel in dark.pixels_mut() {
        pixel.0 = pixel.0.map(|c| (f64::from(c) * 0.206) as u8);
    }
    let response =
        client.analyze(analyze(jpeg(&dark, 90), "acct", "dark-1", false)).await.unwrap().into_inner();
    assert_eq!(response.decision(), pb::Decision::Reject);
    // A generated JPEG has no EXIF: the stripped-metadata context comes with it, rated info.
    assert_eq!(codes(&response), ["quality.dark", "tamper.metadata_stripped"]);
    assert_eq!(response.findings[1].severity(), pb::Severity::Info);
    let finding = &response.findings[0];
    assert!(finding.retryable);
    assert!(finding.hint.contains("brighter"), "{}", finding.hint);
    let value = |name: &str| finding.evidence.iter().find(|e| e.name == name).and_then(|e| e.value.clone());
    let Some(pb::evidence::Value::Number(p95)) = value("luma_p95") else {
        panic!("no luma_p95 in {finding:?}")
    };
    let Some(pb::evidence::Value::Number(threshold)) = value("threshold_p95") else { panic!("no threshold") };
    assert!(p95 <= threshold, "{p95} <= {threshold}");
    server.stop().await;
}

#[tokio::test]
async fn editing_software_traces_are_named_with_their_tags() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let edited = client
        .analyze(analyze(testdata("edited-photoshop-cs6.jpg"), "acct", "edited-1", false))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(edited.decision(), pb::Decision::Review);
    // Photoshop's own quantization tables too: an editor wrote the pixels.
    assert_eq!(codes(&edited), ["tamper.editing_software", "tamper.edit_history", "tamper.requantized"]);
    let text = |name: &str| {
        edited.findings[0].evidence.iter().find(|e| e.name == name).and_then(|e| match &e.value {
            Some(pb::evidence::Value::Text(text)) => Some(text.clone()),
            _ => None,
        })
    };
    assert_eq!(text("software").as_deref(), Some("Adobe Photoshop"));
    assert_eq!(text("exif.Software").as_deref(), Some("Adobe Photoshop CS6 (Windows)"));
    assert_eq!(text("xmp.CreatorTool").as_deref(), Some("Adobe Photoshop CS6 (Windows)"));
    let tamper_metrics = &edited.tamper.as_ref().unwrap().metrics;
    assert!(tamper_metrics.iter().any(|m| m.name == "software_traces"));

    // A camera original names no editor.
    let camera =
        client.analyze(analyze(testdata("camera-sony-cybershot.jpg"), "acct", "cam-1", false)).await.unwrap();
    assert!(camera.into_inner().findings.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn heatmaps_come_back_as_pngs_when_asked_for() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let camera = testdata("camera-sony-cybershot.jpg");
    let plain = client.analyze(analyze(camera.clone(), "", "", false)).await.unwrap().into_inner();
    assert!(plain.evidence_images.is_empty(), "only on request");
    let request = pb::AnalyzeRequest { image: camera, include_evidence_images: true, ..Default::default() };
    let response = client.analyze(request).await.unwrap().into_inner();
    let names: Vec<&str> = response.evidence_images.iter().map(|image| image.name.as_str()).collect();
    assert!(names.contains(&"heatmap.noise") && names.contains(&"heatmap.error_level"), "{names:?}");
    for image in &response.evidence_images {
        assert_eq!(image.media_type, "image/png");
        assert!(image.finding_code.starts_with("tamper."), "{}", image.finding_code);
        let decoded = image::load_from_memory(&image.data).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (image.width, image.height));
        assert!(image.width.max(image.height) <= 640);
    }
    let metrics = &response.tamper.as_ref().unwrap().metrics;
    assert!(metrics.iter().any(|m| m.name == "local_manipulation_score"));

    // A heavily compressed upload: the local methods say why they cannot decide.
    let low = jpeg(&textured_image(640, 480, 5), 40);
    let response = client.analyze(analyze(low, "", "", false)).await.unwrap().into_inner();
    let inconclusive = &response.tamper.as_ref().unwrap().inconclusive;
    assert!(inconclusive.iter().any(|i| i.method == "double_compression" && i.reason.contains("quality 40")));
    server.stop().await;
}

#[tokio::test]
async fn account_links_form_clusters_through_shared_documents() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let licence = jpeg(&textured_image(640, 480, 41), 90);
    let licence_pixels = decode(&licence, &DecodeLimits::default()).unwrap().rgb;
    let other = jpeg(&textured_image(640, 480, 42), 90);
    let reviewed = jpeg(&textured_image(640, 480, 43), 90);
    let registrations = [
        ("acct-a", "a1", licence.clone()),
        ("acct-b", "b1", licence.clone()),      // the same file
        ("acct-c", "c1", png(&licence_pixels)), // the same pixels, re-encoded
        ("acct-d", "d1", jpeg(&textured_image(640, 480, 44), 90)), // shares nothing
        ("acct-e", "e1", other.clone()),
        ("acct-f", "f1", other),
        ("reviewer-r", "r1", reviewed.clone()), // a reviewer and the account it reviews, one ID
        ("reviewee-v", "v1", reviewed),
    ];
    for (account, document, image) in registrations {
        client.analyze(analyze(image, account, document, true)).await.unwrap();
    }
    let all = client.get_account_links(pb::GetAccountLinksRequest::default()).await.unwrap().into_inner();
    let accounts: Vec<Vec<&str>> =
        all.clusters.iter().map(|c| c.account_ids.iter().map(String::as_str).collect()).collect();
    assert_eq!(
        accounts,
        [vec!["acct-a", "acct-b", "acct-c"], vec!["acct-e", "acct-f"], vec!["reviewee-v", "reviewer-r"]]
    );
    let kinds: Vec<&str> = all.clusters[0].links.iter().map(|l| l.kind.as_str()).collect();
    assert_eq!(kinds, ["reuse.same_file", "reuse.same_image", "reuse.same_image"]);

    let one = client
        .get_account_links(pb::GetAccountLinksRequest { account_id: "acct-c".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.clusters.len(), 1);
    assert_eq!(one.clusters[0].account_ids, ["acct-a", "acct-b", "acct-c"]);
    let alone = client
        .get_account_links(pb::GetAccountLinksRequest { account_id: "acct-d".into() })
        .await
        .unwrap()
        .into_inner();
    assert!(alone.clusters.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn server_responses_convert_to_the_cli_json_shape() {
    use idforensics::engine::{AnalyzeRequest, Engine, Models};
    use idforensics::frontends::service::report_from_response;

    let server = TestServer::start().await;
    let mut client = server.client().await;
    let image = testdata("edited-photoshop-cs6.jpg");
    let remote = client.analyze(analyze(image.clone(), "", "", false)).await.unwrap().into_inner();
    let engine = Engine::new(DecodeLimits::default(), Models::embedded());
    let report = engine
        .analyze(AnalyzeRequest {
            image: &image,
            account_id: None,
            document_id: None,
            register: false,
            include_evidence_images: false,
        })
        .unwrap();
    let mut local = serde_json::to_value(&report).unwrap();
    let mut converted = serde_json::to_value(report_from_response(remote).unwrap()).unwrap();
    for json in [&mut local, &mut converted] {
        json.as_object_mut().unwrap().remove("timings");
    }
    assert_eq!(converted, local);
    server.stop().await;
}

/// Scanner captures of TD1 cards carrying `zone`, one per template, drawn in Debian's OCR-B from one
/// seed; `None` (the test skips) when the font is missing and not required.
fn scanned_td1_cards(zone: [&str; 3], templates: &[u64], seed: u64) -> Option<Vec<Vec<u8>>> {
    use idforensics::eval::synthetic::capture::{CaptureSettings, Device, capture};
    use idforensics::eval::synthetic::cards::Template;
    use idforensics::eval::synthetic::mrz_documents::td1_card;
    use idforensics::eval::synthetic::ocr_b::OcrB;
    use rand::SeedableRng;

    let font = match OcrB::system() {
        Ok(font) => font,
        Err(error) => {
            assert!(std::env::var_os("IDF_REQUIRE_OCRB").is_none(), "IDF_REQUIRE_OCRB is set: {error}");
            eprintln!("skipped: {error}");
            return None;
        }
    };
    let zone: Vec<String> = zone.map(str::to_owned).into();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let scans = templates.iter().map(|&template| {
        let card = td1_card(&font, &Template::new(template), &zone, &mut rng);
        capture(&card, &CaptureSettings::draw(Device::Scanner, &mut rng), &mut rng).jpeg
    });
    Some(scans.collect())
}

#[tokio::test]
async fn a_retyped_mrz_date_is_flagged_with_its_field_over_grpc() {
    // ICAO's TD1 specimen, its birth date retyped 740812 -> 740612 and its digits left as they were.
    let zone = [
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7406122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    ];
    let Some(mut scans) = scanned_td1_cards(zone, &[904], 0x4D52_6770) else { return };
    let upload = scans.remove(0);

    let server = TestServer::start().await;
    let mut client = server.client().await;
    let response = client.analyze(analyze(upload, "acct", "mrz-1", false)).await.unwrap().into_inner();
    assert_eq!(response.decision(), pb::Decision::Review);
    let finding = response.findings.iter().find(|f| f.code == "tamper.mrz_check_digit").expect("flagged");
    let fields = finding.evidence.iter().find(|e| e.name == "fields").and_then(|e| e.value.clone());
    assert_eq!(fields, Some(pb::evidence::Value::Text("birth_date,composite".into())));
    assert_eq!(finding.regions.len(), 1);
    let metrics = &response.tamper.as_ref().unwrap().metrics;
    assert!(metrics.iter().any(|m| m.name == "mrz_format"));
    server.stop().await;
}

/// Two different cards carrying one document number (ICAO's TD1 specimen's zone, every check digit
/// valid) on two accounts: linked as `reuse.same_document_number` though the images share nothing,
/// clustered, and unlinked once the first account is erased.
#[tokio::test]
async fn one_document_number_on_two_accounts_links_them_over_grpc() {
    let zone = [
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    ];
    let Some(mut scans) = scanned_td1_cards(zone, &[904, 911], 0x4E55_4D42) else { return };
    let (first, second) = (scans.remove(0), scans.remove(0));

    let server = TestServer::start().await;
    let mut client = server.client().await;
    let registered = client.analyze(analyze(first, "acct-a", "id-card", true)).await.unwrap().into_inner();
    assert!(registered.matches.is_empty());
    let metrics = &registered.tamper.as_ref().unwrap().metrics;
    let passing = metrics.iter().find(|m| m.name == "mrz_check_digits_passing").expect("the zone was read");
    assert_eq!(passing.value, Some(pb::evidence::Value::Number(4.0)), "{metrics:?}");

    let linked =
        client.analyze(analyze(second.clone(), "acct-b", "id-card", true)).await.unwrap().into_inner();
    let kinds: Vec<(&str, &str)> =
        linked.matches.iter().map(|m| (m.account_id.as_str(), m.kind.as_str())).collect();
    assert_eq!(kinds, [("acct-a", "reuse.same_document_number")], "{:?}", codes(&linked));
    assert_eq!(linked.decision(), pb::Decision::Review);
    assert!(codes(&linked).contains(&"reuse.same_document_number"));

    let clusters = client
        .get_account_links(pb::GetAccountLinksRequest { account_id: "acct-b".into() })
        .await
        .unwrap()
        .into_inner()
        .clusters;
    assert_eq!(clusters.len(), 1);
    assert_eq!(clusters[0].account_ids, ["acct-a", "acct-b"]);
    assert_eq!(clusters[0].links[0].kind, "reuse.same_document_number");

    client.forget_account(pb::ForgetAccountRequest { account_id: "acct-a".into() }).await.unwrap();
    let after = client.analyze(analyze(second, "acct-c", "id-card", false)).await.unwrap().into_inner();
    let accounts: Vec<&str> = after.matches.iter().map(|m| m.account_id.as_str()).collect();
    assert_eq!(accounts, ["acct-b"], "the erased account's number is gone with it");
    server.stop().await;
}
