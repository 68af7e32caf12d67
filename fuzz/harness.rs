// The fuzzed entry points: each takes untrusted bytes through one of the parsers an upload meets.
// Included (`include!`) by the fuzz targets and by the corpus replay in `cargo test`
// (tests/it/fuzz_replay.rs), so both run the same code. None may panic, hang or allocate without
// bound; results are discarded.

use std::sync::OnceLock;

use idforensics::analysis::decode::{ContainerFacts, DecodeLimits, decode};
use idforensics::analysis::tamper::TamperModels;
use idforensics::analysis::tamper::content_credentials::{CredentialModels, assess_content_credentials};
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

fn credential_models() -> &'static CredentialModels {
    static MODELS: OnceLock<CredentialModels> = OnceLock::new();
    MODELS.get_or_init(CredentialModels::embedded)
}

/// Content Credentials: an upload whose C2PA manifest store (JUMBF boxes in a JPEG's APP11
/// segments, a PNG's `caBX` chunk) the C2PA reader parses and validates: claim, assertions, COSE
/// signature, certificates, the hard binding's hash of the file.
pub(crate) fn content_credentials(data: &[u8]) {
    if let Ok(document) = decode(data, &FUZZ_LIMITS) {
        let _ = assess_content_credentials(data, &document, credential_models(), &models().generators);
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

/// MRZ text: the lines of a zone as the reader hands them over, parsed, every check digit computed,
/// the document number and issuing state taken out.
pub(crate) fn mrz_text(data: &[u8]) {
    if let Ok(text) = idforensics::analysis::mrz::text::MrzText::parse(&String::from_utf8_lossy(data)) {
        let _ = text.checked_fields().iter().filter(|field| field.passes()).count();
        let _ = (text.document_number(), text.issuing_state());
    }
}

fn mrz_models() -> &'static idforensics::analysis::mrz::MrzModels {
    static MODELS: OnceLock<idforensics::analysis::mrz::MrzModels> = OnceLock::new();
    MODELS.get_or_init(idforensics::analysis::mrz::MrzModels::embedded)
}

/// The MRZ reader over arbitrary pixels: the first byte sets the width (1–256), the rest are grey
/// levels, up to 64 KiB of them; an outline from the next eight bytes, in the image or not.
pub(crate) fn mrz_zone(data: &[u8]) {
    let Some((&width, rest)) = data.split_first() else { return };
    let width = u32::from(width) + 1;
    let pixels: Vec<u8> = rest.iter().take(1 << 16).flat_map(|&v| [v, v, v]).collect();
    let height = (pixels.len() / 3) as u32 / width;
    if height == 0 {
        return;
    }
    let rgb = image::RgbImage::from_raw(width, height, pixels[..(width * height * 3) as usize].to_vec())
        .expect("the buffer holds width × height pixels");
    let planes = idforensics::analysis::decode::planes::working_planes(&rgb, 1024);
    let corner = |i: usize| (f32::from(rest.get(i).copied().unwrap_or(0)), f32::from(rest.get(i + 1).copied().unwrap_or(0)));
    let outline = [corner(0), corner(2), corner(4), corner(6)];
    let _ = idforensics::analysis::mrz::assess_mrz(&rgb, &planes, Some(&outline), mrz_models());
}
