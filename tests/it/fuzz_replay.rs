//! Replays the fuzz corpora (`fuzz/corpus/<target>/`: the inputs libFuzzer kept, minimised) through
//! the entry points the fuzz targets run (`fuzz/harness.rs`, included here), so every input that
//! once reached new code, or once crashed it, is run again by `cargo test` on stable Rust.

mod harness {
    include!("../../fuzz/harness.rs");
}

use std::path::Path;

/// A fuzz target's entry point.
type Target = fn(&[u8]);

#[test]
fn every_kept_fuzz_input_is_handled_without_a_panic() {
    let targets: [(&str, Target); 7] = [
        ("decode_upload", harness::decode_upload),
        ("png_chunks", harness::png_chunks),
        ("xmp_packet", harness::xmp_packet),
        ("exif_block", harness::exif_block),
        ("mrz_text", harness::mrz_text),
        ("mrz_zone", harness::mrz_zone),
        ("content_credentials", harness::content_credentials),
    ];
    let corpora = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (target, run) in targets {
        let mut inputs = 0;
        for entry in std::fs::read_dir(corpora.join(target)).unwrap() {
            let path = entry.unwrap().path();
            run(&std::fs::read(&path).unwrap());
            inputs += 1;
        }
        assert!(inputs > 0, "the {target} corpus is empty");
    }
}
