//! The reviewer console in a real browser: Debian's Chromium, headless, driven over WebDriver by
//! chromedriver. A reviewer signs in with a token, uploads a generated forged card (the holder's
//! portrait with another person's data) and registers it, sees REVIEW and the match, turns a heatmap on, opens the
//! linked account's graph and forgets it. A screenshot of each step is saved under
//! `target/tmp/console-screenshots/`.
//!
//! Skips with a message when chromedriver is missing, unless IDF_REQUIRE_BROWSER is set (CI sets it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use idforensics::eval::synthetic::capture::encode_jpeg;
use idforensics::eval::synthetic::cards::{Holder, Template};
use idforensics::frontends::access::{Role, TokenEntry};
use idforensics::frontends::service::pb;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tonic::metadata::MetadataValue;

use crate::support::TestServer;

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn installed(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Starts chromedriver on a free port, or says why the test is skipped.
fn start_driver() -> Option<Driver> {
    let (Some(chromedriver), Some(_)) = (installed("chromedriver"), installed("chromium")) else {
        assert!(
            std::env::var_os("IDF_REQUIRE_BROWSER").is_none(),
            "IDF_REQUIRE_BROWSER is set but chromium or chromedriver is not installed"
        );
        eprintln!("skipping the browser test: install Debian's chromium and chromium-driver");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver { child, port, _profile: tempfile::tempdir().unwrap() };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(driver)
}

async fn browser(driver: &Driver) -> Client {
    let profile = driver._profile.path().to_str().unwrap().to_owned();
    let capabilities = serde_json::json!({
        "goog:chromeOptions": {
            "binary": installed("chromium").unwrap(),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1400,1100",
                format!("--user-data-dir={profile}"),
            ],
        }
    });
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session in headless chromium")
}

/// Saves a screenshot of the page as `NN-step.png`.
async fn screenshot(browser: &Client, dir: &Path, name: &str) {
    let png = browser.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_sees_the_verdict_the_evidence_and_the_linked_account_in_a_browser() {
    let Some(driver) = start_driver() else { return };
    let (entry, token) = TokenEntry::generate("reviewer-ops", Role::Admin);
    let server = TestServer::start_with(|settings| settings.tokens = vec![entry]).await;

    // The holder's card, registered on their account; the forger's card: that portrait, other data.
    let template = Template::new(0);
    let mut rng = StdRng::seed_from_u64(11);
    let holder = template.holder(&mut rng);
    let stranger = template.holder(&mut rng);
    let forged = Holder { fields: stranger.fields.clone(), ..holder.clone() };
    let mut request = tonic::Request::new(pb::AnalyzeRequest {
        image: encode_jpeg(&template.render(&holder), 92),
        account_id: "acct-holder".into(),
        document_id: "licence".into(),
        register: true,
        ..Default::default()
    });
    let bearer: MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
    request.metadata_mut().insert("authorization", bearer);
    server.client().await.analyze(request).await.unwrap();
    let uploads = tempfile::tempdir().unwrap();
    let forged_file = uploads.path().join("forged-card.jpg");
    std::fs::write(&forged_file, encode_jpeg(&template.render(&forged), 90)).unwrap();

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let browser = browser(&driver).await;
    browser.goto(&format!("http://{}/", server.http_address)).await.unwrap();

    // Sign in with the token.
    browser.find(Locator::Id("token")).await.unwrap().send_keys(&token).await.unwrap();
    browser.find(Locator::Css("#sign-in button")).await.unwrap().click().await.unwrap();
    let signed_in = Instant::now();
    while !browser.find(Locator::Id("session")).await.unwrap().text().await.unwrap().contains("reviewer-ops")
    {
        assert!(signed_in.elapsed() < WAIT, "not signed in");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(&browser, &shots, "01-signed-in").await;

    // Upload the forged card and register it: REVIEW, the portrait's reuse, the holder's account.
    browser.find(Locator::Id("account-id")).await.unwrap().send_keys("acct-forger").await.unwrap();
    browser.find(Locator::Id("document-id")).await.unwrap().send_keys("licence").await.unwrap();
    browser.find(Locator::Id("register")).await.unwrap().click().await.unwrap();
    let files = browser.find(Locator::Id("files")).await.unwrap();
    files.send_keys(forged_file.to_str().unwrap()).await.unwrap();
    let decision = browser.wait().at_most(WAIT).for_element(Locator::Css(".result .decision")).await.unwrap();
    assert_eq!(decision.text().await.unwrap(), "REVIEW");
    let matched = browser.find(Locator::Css("tr.match")).await.unwrap().text().await.unwrap();
    assert!(matched.contains("acct-holder") && matched.contains("reuse.same_portrait"), "{matched}");
    let findings = browser.find_all(Locator::Css("tr.finding")).await.unwrap();
    assert!(!findings.is_empty());
    let provenance = browser.find(Locator::Css("table.provenance")).await.unwrap().text().await.unwrap();
    assert!(provenance.contains("Content Credentials none"), "{provenance}");
    assert!(provenance.contains("machine-readable zone"), "{provenance}");
    screenshot(&browser, &shots, "02-verdict-and-match").await;

    // Turn a heatmap on: its layer shows over the image.
    let heatmap_box = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("input[data-layer^='heatmap.']"))
        .await
        .unwrap();
    let heatmap = browser.find(Locator::Css(".viewer img.heatmap")).await.unwrap();
    assert!(!heatmap.is_displayed().await.unwrap(), "heatmaps start hidden");
    heatmap_box.click().await.unwrap();
    assert!(heatmap.is_displayed().await.unwrap(), "the heatmap shows once toggled on");
    let outline = browser.find(Locator::Css("input[data-layer='document outline']")).await.unwrap();
    assert!(outline.is_selected().await.unwrap(), "the outline starts on");
    screenshot(&browser, &shots, "03-heatmap-on").await;

    // The matched account: its document and the two-account cluster.
    browser.find(Locator::Css("tr.match button.link")).await.unwrap().click().await.unwrap();
    browser.wait().at_most(WAIT).for_element(Locator::Css("#cluster svg")).await.unwrap();
    let accounts = browser.find_all(Locator::Css("#cluster .account-node")).await.unwrap();
    assert_eq!(accounts.len(), 2, "the holder and the forger are linked");
    let view = browser.find(Locator::Id("account-view")).await.unwrap().text().await.unwrap();
    assert!(view.contains("Account acct-holder") && view.contains("licence"), "{view}");
    screenshot(&browser, &shots, "04-account-view").await;

    // Forget it, after the confirmation.
    browser.find(Locator::Css("button.danger")).await.unwrap().click().await.unwrap();
    browser.accept_alert().await.unwrap();
    let forgotten = Instant::now();
    loop {
        let view = browser.find(Locator::Id("account-view")).await.unwrap().text().await.unwrap();
        if view.contains("forgotten: 1 document(s) erased") {
            break;
        }
        assert!(forgotten.elapsed() < WAIT, "not forgotten: {view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(&browser, &shots, "05-forgotten").await;
    browser.close().await.unwrap();
    server.stop().await;
}
