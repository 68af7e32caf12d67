//! Perceptual reuse over gRPC against the real server binary: another capture of a card, its portrait
//! with new data, its data with a new portrait, a stranger's card of the same template; the index
//! rebuilt after kill -9; links; erasure.

use idforensics::eval::synthetic::cards::{Holder, Template};
use idforensics::eval::synthetic::{capture::encode_jpeg, transforms::Capture};
use idforensics::frontends::service::pb;
use idforensics::frontends::service::pb::id_forensics_client::IdForensicsClient;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tonic::transport::Channel;

use crate::support::start_server;

async fn register(
    client: &mut IdForensicsClient<Channel>,
    image: Vec<u8>,
    account: &str,
) -> pb::AnalyzeResponse {
    let request = pb::AnalyzeRequest {
        image,
        account_id: account.into(),
        document_id: "id-card".into(),
        register: true,
        ..Default::default()
    };
    client.analyze(request).await.unwrap().into_inner()
}

/// The server process, killed (SIGKILL) when dropped, also when an assertion fails.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// (account, kind) of each match.
fn matched(response: &pb::AnalyzeResponse) -> Vec<(&str, &str)> {
    response.matches.iter().map(|m| (m.account_id.as_str(), m.kind.as_str())).collect()
}

fn evidence(found: &pb::Match, name: &str) -> f64 {
    let value = found.evidence.iter().find(|e| e.name == name).unwrap_or_else(|| panic!("no {name}"));
    match value.value {
        Some(pb::evidence::Value::Number(number)) => number,
        _ => panic!("{name} is not a number"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captures_and_zone_swaps_link_accounts_and_survive_a_restart() {
    let template = Template::new(0);
    let mut rng = StdRng::seed_from_u64(11);
    let holder = template.holder(&mut rng);
    let card = template.render(&holder);
    let stranger = template.holder(&mut rng);
    let with_new_data = Holder { fields: stranger.fields.clone(), ..holder.clone() };
    let with_new_portrait = Holder { fields: holder.fields.clone(), ..stranger.clone() };

    let dir = tempfile::tempdir().unwrap();
    let (child, address) = start_server(dir.path());
    let server = Server(child);
    let mut client = IdForensicsClient::connect(format!("http://{address}")).await.unwrap();

    let original = register(&mut client, encode_jpeg(&card, 92), "acct-a").await;
    assert!(original.matches.is_empty());
    let names: Vec<_> = original.fingerprints.unwrap().perceptual.iter().map(|h| h.name.clone()).collect();
    assert_eq!(names, ["pdq", "pdq.card", "pdq.portrait", "pdq.data", "phash", "dhash"]);

    // The card turned a quarter and re-compressed: the same document.
    let turned =
        register(&mut client, Capture::Turn.apply(&card, &mut StdRng::seed_from_u64(1)), "acct-b").await;
    assert_eq!(matched(&turned), [("acct-a", "reuse.same_document")]);
    let found = &turned.matches[0];
    assert!(evidence(found, "portrait_distance") <= 30.0 && evidence(found, "data_distance") <= 30.0);
    // Verified on the pixels: keypoints agreeing under one homography, zone by zone.
    assert!(evidence(found, "data_inliers") >= 28.0 && evidence(found, "verification_inliers") >= 48.0);
    assert!(evidence(found, "verification_residual_px") < 3.0);
    let zones = found.evidence.iter().find(|e| e.name == "verified_zones").and_then(|e| e.value.clone());
    assert_eq!(zones, Some(pb::evidence::Value::Text("portrait,data".into())));
    assert!(turned.findings.iter().any(|f| f.code == "reuse.same_document"));
    assert_eq!(turned.decision(), pb::Decision::Review);

    // The holder's portrait on a card with someone else's data, and the reverse.
    let portrait = register(&mut client, encode_jpeg(&template.render(&with_new_data), 90), "acct-c").await;
    assert!(matched(&portrait).contains(&("acct-a", "reuse.same_portrait")), "{:?}", matched(&portrait));
    let data = register(&mut client, encode_jpeg(&template.render(&with_new_portrait), 90), "acct-d").await;
    assert!(matched(&data).contains(&("acct-a", "reuse.same_personal_data")), "{:?}", matched(&data));

    // A stranger's card of the same template matches nothing.
    let other =
        register(&mut client, encode_jpeg(&template.render(&template.holder(&mut rng)), 92), "acct-e").await;
    assert!(other.matches.is_empty(), "{:?}", matched(&other));

    // Kill -9 and restart: the index is rebuilt from the store.
    drop(server);
    let (child, address) = start_server(dir.path());
    let _server = Server(child);
    let mut client = IdForensicsClient::connect(format!("http://{address}")).await.unwrap();
    let resized =
        register(&mut client, Capture::Resize.apply(&card, &mut StdRng::seed_from_u64(2)), "acct-f").await;
    let kinds = matched(&resized);
    assert!(
        kinds.contains(&("acct-a", "reuse.same_document"))
            && kinds.contains(&("acct-b", "reuse.same_document"))
    );

    let links = client
        .get_account_links(pb::GetAccountLinksRequest { account_id: "acct-c".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(links.clusters.len(), 1);
    let mut members = links.clusters[0].account_ids.clone();
    members.sort();
    assert_eq!(members, ["acct-a", "acct-b", "acct-c", "acct-d", "acct-f"]);
    assert!(
        links.clusters[0].links.iter().any(|l| l.kind == "reuse.same_portrait" && l.account_b == "acct-a")
    );

    // Erasing the holder's account removes its documents and every link to it; the others stay
    // linked through acct-b, the other capture of the card.
    client.forget_account(pb::ForgetAccountRequest { account_id: "acct-a".into() }).await.unwrap();
    let after = client
        .get_account_links(pb::GetAccountLinksRequest { account_id: "acct-c".into() })
        .await
        .unwrap()
        .into_inner();
    let mut members = after.clusters[0].account_ids.clone();
    members.sort();
    assert_eq!(members, ["acct-b", "acct-c", "acct-d", "acct-f"]);
    assert!(after.clusters[0].links.iter().all(|l| l.account_a != "acct-a" && l.account_b != "acct-a"));
    let search = client
        .find_matches(pb::FindMatchesRequest { image: encode_jpeg(&card, 80), account_id: String::new() })
        .await
        .unwrap()
        .into_inner();
    let accounts: Vec<_> = search.matches.iter().map(|m| m.account_id.as_str()).collect();
    assert!(!accounts.contains(&"acct-a") && accounts.contains(&"acct-b"), "{accounts:?}");
}

/// The evaluation itself on a small set: distinct cards never match, the capture transforms the
/// design handles without a locator are all found, and both swap kinds are recognised.
#[test]
fn small_reuse_evaluation_keeps_distinct_cards_apart() {
    use idforensics::engine::Models;
    use idforensics::eval::reuse::{ReuseEvalConfig, evaluate_reuse};

    let config = ReuseEvalConfig {
        templates: 2,
        cards_per_template: 33,
        swaps_per_template: 6,
        seed: 7,
        recoloured: true,
        low_detail_every: 3,
        captured_per_template: 33,
        photos: Vec::new(),
        photos_root: None,
    };
    let result = evaluate_reuse(&config, &Models::embedded());
    assert_eq!(result.cards, 132);
    assert_eq!(result.false_match_pairs, 0, "{:?}", result.false_match_kinds);
    // Two templates and their recoloured twins: 4 x C(33, 2) pairs within one, 2 x 33 x 33 of one
    // layout in two colourings, the rest across layouts; 44 low-detail portraits.
    let classes = &result.pair_classes;
    assert_eq!(classes["same_template"].pairs, 4 * 528);
    assert_eq!(classes["same_layout_other_colours"].pairs, 2 * 33 * 33);
    assert_eq!(classes["other_template"].pairs, 8646 - 4 * 528 - 2 * 33 * 33);
    assert_eq!(classes["both_low_detail_portraits"].pairs, 44 * 43 / 2);
    for capture in ["jpeg_q40_95", "resize_0.3_2x", "turn_90_180_270", "blur", "noise", "png_screenshot"] {
        let detection = &result.captures[capture];
        assert_eq!(detection.detected, detection.queries, "{capture}: {detection:?}");
    }
    assert_eq!(result.captures_total.wrong_matches, 0);
    assert!(result.same_portrait.detected >= 20, "{:?}", result.same_portrait);
    assert!(result.same_personal_data.detected >= 20, "{:?}", result.same_personal_data);
    // The baseline, measured in the same run, loses every quarter turn.
    let turns = &result.captures["turn_90_180_270"];
    assert!(turns.baseline_detected < turns.detected, "{turns:?}");
}
