// The fuzzed entry points: each takes untrusted bytes through one of the parsers an upload meets.
// Included (`include!`) by the fuzz targets and by the corpus replay in `cargo test`
// (tests/it/fuzz_replay.rs), so both run the same code. None may panic, hang or allocate without
// bound; results are discarded.

use std::sync::OnceLock;

use idforensics::analysis::decode::{ContainerFacts, DecodeLimits, decode};
use idforensics::analysis::tamper::TamperModels;
use idforensics::analysis::tamper::generative::generative_findings;
use idforensics::analysis::tamper::metadata::read_metadata_facts;

/// Small limits, so each input decodes in milliseconds.
const FUZZ_LIMITS: DecodeLimits = DecodeLimits { max_bytes: 1 << 20, max_dimension: 2048, max_pixels: 1 << 20 };

fn models() -> &'static TamperModels {
    static MODELS: OnceLock<TamperModels> = OnceLock::new();
    MODELS.get_or_init(TamperModels::embedded)
}

/// The metadata readers over a container: software traces, history, dates, statements of generation.
fn read_container(container: &ContainerFacts) {
    let facts = read_metadata_facts(container);
    let _ = generative_findings(container, &facts, &models().generators);
}

/// A whole upload: format sniffing, the JPEG marker walk, the PNG chunk walk (text, inflation), the
/// WebP header, EXIF, XMP, the EXIF thumbnail, pixel decoding; then the metadata readers.
pub(crate) fn decode_upload(data: &[u8]) {
    if let Ok(document) = decode(data, &FUZZ_LIMITS) {
        read_container(&document.container);
    }
}

/// PNG chunks: the input after the PNG signature.
pub(crate) fn png_chunks(data: &[u8]) {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(data);
    decode_upload(&png);
}

/// An XMP packet, as a JPEG's APP1 and as a PNG's `XML:com.adobe.xmp` text.
pub(crate) fn xmp_packet(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let container = ContainerFacts {
        xmp: Some(data.to_vec()),
        png_text: vec![("XML:com.adobe.xmp".to_owned(), text)],
        ..ContainerFacts::default()
    };
    read_container(&container);
}

/// An EXIF block (TIFF structure) as kamadak-exif parses it, then the metadata readers.
pub(crate) fn exif_block(data: &[u8]) {
    if let Ok(exif) = exif::Reader::new().read_raw(data.to_vec()) {
        read_container(&ContainerFacts { exif: Some(exif), ..ContainerFacts::default() });
    }
}
