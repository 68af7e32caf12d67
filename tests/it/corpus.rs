//! Decoding over the team's shared corpus of real files (skipped when it is not checked out).

use idforensics::decode::{DecodeLimits, decode};

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
