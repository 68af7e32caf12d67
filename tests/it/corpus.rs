//! Decoding over the team's shared corpus of real files (skipped when it is not checked out).

use idforensics::analysis::decode::{DecodeLimits, decode};

use crate::support::shared_corpus;

#[test]
fn every_corpus_file_decodes_or_gets_a_typed_reason() {
    let Some(corpus) = shared_corpus() else {
        eprintln!("skipped: ../shared/corpus is not present");
        return;
    };
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    let mut checked = 0;
    for row in manifest.lines().skip(1) {
        let columns: Vec<&str> = row.split('\t').collect();
        let (file, label) = (columns[0], columns[2]);
        let bytes = std::fs::read(corpus.join(file)).unwrap();
        let result = decode(&bytes, &DecodeLimits::default());
        let accepted_format = [".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"]
            .iter()
            .any(|ext| file.to_ascii_lowercase().ends_with(ext));
        match label {
            // Real camera originals and document specimens in accepted formats must decode.
            "pristine" | "id-document" if accepted_format => {
                let document = result.unwrap_or_else(|e| panic!("{file}: {e}"));
                assert!(document.rgb.width() > 0, "{file}");
            }
            "decompression-bomb" => assert!(result.is_err(), "{file} must be refused"),
            _ => {
                if let Err(error) = result {
                    assert!(error.reason().starts_with("image."), "{file}: {error}");
                }
            }
        }
        checked += 1;
    }
    assert!(checked > 300, "read {checked} files");
}

/// Software names as the corpus MANIFEST records them, parsed by the corpus's own tooling (an
/// independent reader of the tags).
fn manifest_software(notes: &str) -> Vec<String> {
    notes
        .split(';')
        .filter_map(|part| {
            let (key, value) = part.trim().split_once('=')?;
            matches!(key, "Software" | "XMP_CreatorTool").then(|| value.trim().to_owned())
        })
        .collect()
}

#[test]
fn editor_traces_found_wherever_the_metadata_names_an_editor_and_never_on_camera_originals() {
    use idforensics::analysis::tamper::{SoftwareKind, TamperModels};
    use idforensics::domain::findings::ReasonCode;
    use idforensics::engine::{AnalyzeRequest, Engine, Models};

    let Some(corpus) = shared_corpus() else {
        eprintln!("skipped: ../shared/corpus is not present");
        return;
    };
    let models = TamperModels::embedded();
    let engine = Engine::new(DecodeLimits::default(), Models::embedded());
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    let (mut expected, mut found, mut camera_originals) = (0, 0, 0);
    for row in manifest.lines().skip(1) {
        let columns: Vec<&str> = row.split('\t').collect();
        let (file, category, label, notes) = (columns[0], columns[1], columns[2], columns[7]);
        let names_editor = manifest_software(notes)
            .iter()
            .any(|name| models.identify(name).is_some_and(|s| s.kind == SoftwareKind::Editor));
        let camera_original = category == "a_camera_exif" && label == "pristine";
        if !names_editor && !camera_original {
            continue;
        }
        let bytes = std::fs::read(corpus.join(file)).unwrap();
        let request = AnalyzeRequest {
            image: &bytes,
            account_id: None,
            document_id: None,
            register: false,
            include_evidence_images: false,
        };
        let Ok(report) = engine.analyze(request) else { continue }; // undecodable: no verdict to check
        let codes: Vec<ReasonCode> = report.findings.iter().map(|f| f.finding.code).collect();
        if names_editor {
            expected += 1;
            assert!(codes.contains(&ReasonCode::TamperEditingSoftware), "{file}: {codes:?}");
            found += 1;
        } else {
            camera_originals += 1;
            for code in [ReasonCode::TamperEditingSoftware, ReasonCode::TamperEditHistory] {
                assert!(!codes.contains(&code), "{file} is a camera original but got {code}");
            }
        }
    }
    eprintln!(
        "editor traces: {found}/{expected} found; camera originals without false traces: {camera_originals}"
    );
    assert!(expected >= 40 && camera_originals >= 30, "{expected} {camera_originals}");
}
