//! PDQ conformance with Meta's reference (../shared/corpus/pdq; skipped when it is not present).

use idforensics::analysis::decode::planes::working_planes;
use idforensics::analysis::decode::{DecodeLimits, decode};
use idforensics::analysis::fingerprint::document::DocumentLocation;
use idforensics::analysis::fingerprint::pdq::{Pdq, PdqHashes, pdq_from_rgb};
use idforensics::analysis::fingerprint::{Fingerprints, PDQ_LONG_SIDE};
use idforensics::engine::Models;

use crate::support::shared_corpus;

fn pdq_dir() -> Option<std::path::PathBuf> {
    let dir = shared_corpus()?.join("pdq");
    dir.join("golden/golden.csv").is_file().then_some(dir)
}

#[test]
fn bit_exact_on_the_golden_raw_rgb_vectors() {
    let Some(dir) = pdq_dir() else {
        eprintln!("skipped: ../shared/corpus/pdq is not present");
        return;
    };
    let golden = std::fs::read_to_string(dir.join("golden/golden.csv")).unwrap();
    let mut checked = 0;
    for row in golden.lines().skip(1) {
        let cells: Vec<&str> = row.split(',').collect();
        let (file, width, height, quality) = (cells[0], cells[2], cells[3], cells[4]);
        let rgb = std::fs::read(dir.join("golden").join(file)).unwrap();
        let hashes = pdq_from_rgb(&rgb, width.parse().unwrap(), height.parse().unwrap());
        assert_eq!(hashes.original().to_hex(), cells[5], "{file}: hash");
        assert_eq!(hashes.quality.to_string(), quality, "{file}: quality");
        for (variant, expected) in cells[6..14].iter().enumerate() {
            assert_eq!(hashes.dihedral[variant].to_hex(), *expected, "{file}: dihedral variant {variant}");
        }
        checked += 1;
    }
    assert_eq!(checked, 12);
}

#[test]
fn jpeg_inputs_within_ten_bits_of_the_cpp_reference() {
    let Some(dir) = pdq_dir() else {
        eprintln!("skipped: ../shared/corpus/pdq is not present");
        return;
    };
    let expected = std::fs::read_to_string(dir.join("expected/cpp_reference_reg-test-input.csv")).unwrap();
    let (mut full, mut working) = (Vec::new(), Vec::new());
    for row in expected.lines().skip(1) {
        let (hash, path) = row.split_once(',').unwrap();
        let bytes = std::fs::read(dir.join("data").join(path)).unwrap();
        let document = decode(&bytes, &DecodeLimits::default()).unwrap();
        let reference = Pdq::from_hex(hash).unwrap();
        // The C++ reference hashes the stored pixels and ignores EXIF orientation; we hash the image
        // as displayed. For a rotated file the reference is one of our dihedral variants.
        let distance = |hashes: &PdqHashes| {
            if document.exif_orientation == 1 {
                hashes.original().hamming_distance(&reference)
            } else {
                hashes.dihedral.iter().map(|variant| variant.hamming_distance(&reference)).min().unwrap()
            }
        };
        let (width, height) = document.rgb.dimensions();
        let at_full_resolution = pdq_from_rgb(document.rgb.as_raw(), width as usize, height as usize);
        full.push(distance(&at_full_resolution));
        // What the service reports: PDQ of the image box-averaged to at most PDQ_LONG_SIDE.
        let planes = working_planes(&document.rgb, PDQ_LONG_SIDE);
        let (pw, ph) = planes.rgb.dimensions();
        let on_plane = pdq_from_rgb(planes.rgb.as_raw(), pw as usize, ph as usize);
        let models = Models::embedded();
        let quality_plane = working_planes(&document.rgb, models.quality.working_long_side);
        let reported = Fingerprints::compute(
            &bytes,
            &document,
            &quality_plane,
            &DocumentLocation::find(&quality_plane, &models.reuse.layout),
            &models.reuse.layout,
        );
        assert_eq!(reported.pdq, on_plane.original());
        working.push(distance(&on_plane));
    }
    eprintln!(
        "PDQ bits from the C++ reference, {} files: full resolution {full:?}; as the service computes it {working:?}",
        full.len()
    );
    assert!(full.len() >= 15);
    assert!(full.iter().chain(&working).all(|&d| d <= 10), "full {full:?} working {working:?}");
}
