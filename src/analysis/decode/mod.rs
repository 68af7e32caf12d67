//! Bounded decoding: bytes in, one [`DecodedDocument`] out, or a typed [`DecodeError`].
//!
//! Every analyser reads the same decoded planes and container facts, so an upload is decoded once.
//! Limits on bytes, dimensions and pixels are checked from the header before any pixel buffer is
//! allocated (decompression bombs), and the decoders get an allocation cap as a second line.

mod jpeg;
pub mod planes;
mod sniff;
mod structure;

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};

use crate::domain::report::ImageInfo;

pub use jpeg::{FrameComponent, FrameHeader, JpegContainer, JpegContainerError, JpegSegment, QuantTable};
pub use sniff::{ImageFormat, SniffedFormat, sniff};
use structure::StructureProblem;

/// Size limits for one upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct DecodeLimits {
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Largest width or height accepted, in pixels.
    pub max_dimension: u32,
    /// Largest width × height accepted.
    pub max_pixels: u64,
}

impl Default for DecodeLimits {
    /// 24 MiB, 20,000 px a side, 64 MP: above any phone camera's full-resolution JPEG (a 48–64 MP
    /// sensor), far below what would exhaust memory at the service's default concurrency.
    fn default() -> Self {
        DecodeLimits { max_bytes: 24 * 1024 * 1024, max_dimension: 20_000, max_pixels: 64_000_000 }
    }
}

/// Why an upload could not be decoded. Each variant has a stable [`DecodeError::reason`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// No bytes at all.
    #[error("the image is empty")]
    Empty,
    /// More bytes than the limit.
    #[error("the file is {bytes} bytes; the limit is {limit}")]
    TooManyBytes {
        /// Size of the upload.
        bytes: u64,
        /// The configured limit.
        limit: u64,
    },
    /// Dimensions or pixel count over the limits, as declared by the header.
    #[error(
        "the image is {width}x{height} ({pixels} pixels); the limits are {max_dimension} a side and {max_pixels} pixels"
    )]
    TooLarge {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// width × height.
        pixels: u64,
        /// The side limit.
        max_dimension: u32,
        /// The pixel limit.
        max_pixels: u64,
    },
    /// Decoding would need more memory than the limits allow (e.g. a 16-bit, many-channel TIFF).
    #[error("decoding the {format} image would exceed the memory limit: {detail}")]
    MemoryLimit {
        /// The container format.
        format: ImageFormat,
        /// What the decoder said.
        detail: String,
    },
    /// A format that is recognised but not accepted, or not recognised at all.
    #[error("unsupported image format: {format} (accepted: jpeg, png, webp, tiff)")]
    UnsupportedFormat {
        /// The recognised format, or `unknown`.
        format: String,
    },
    /// An accepted format using a feature the decoder does not implement (e.g. arithmetic coding).
    #[error("unsupported {format} encoding: {detail}")]
    UnsupportedEncoding {
        /// The container format.
        format: ImageFormat,
        /// What the decoder said.
        detail: String,
    },
    /// The file ends early.
    #[error("the {format} file is truncated: {detail}")]
    Truncated {
        /// The container format.
        format: ImageFormat,
        /// Where it ends.
        detail: String,
    },
    /// The file is damaged or not what its signature claims.
    #[error("the {format} file is corrupt: {detail}")]
    Corrupt {
        /// The container format.
        format: ImageFormat,
        /// What is wrong.
        detail: String,
    },
}

impl DecodeError {
    /// The machine-readable reason, e.g. `image.truncated`.
    pub fn reason(&self) -> &'static str {
        match self {
            DecodeError::Empty => "image.empty",
            DecodeError::TooManyBytes { .. } => "image.too_many_bytes",
            DecodeError::TooLarge { .. } | DecodeError::MemoryLimit { .. } => "image.too_large",
            DecodeError::UnsupportedFormat { .. } => "image.unsupported_format",
            DecodeError::UnsupportedEncoding { .. } => "image.unsupported_encoding",
            DecodeError::Truncated { .. } => "image.truncated",
            DecodeError::Corrupt { .. } => "image.corrupt",
        }
    }
}

/// Metadata that was present but unreadable. The pixels are still analysed; a tamper analyser may
/// treat broken metadata as a signal of its own.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MetadataWarning {
    /// Which block: `exif`, `xmp`, `icc`, `thumbnail`, `orientation`.
    pub block: &'static str,
    /// What went wrong (no pixel or personal data).
    pub detail: String,
}

/// Facts about the file container kept for later analysers.
#[derive(Default)]
pub struct ContainerFacts {
    /// JPEG marker segments, quantization tables and frame header (JPEG only).
    pub jpeg: Option<JpegContainer>,
    /// Parsed EXIF (its raw TIFF-structured bytes are `Exif::buf`).
    pub exif: Option<exif::Exif>,
    /// The XMP packet as stored.
    pub xmp: Option<Vec<u8>>,
    /// The ICC profile as stored.
    pub icc: Option<Vec<u8>>,
    /// The EXIF IFD1 thumbnail (a JPEG stream), when present and in bounds.
    pub exif_thumbnail: Option<Vec<u8>>,
    /// PNG text entries (`tEXt`, `zTXt`, `iTXt`: keyword, text), at most 64.
    pub png_text: Vec<(String, String)>,
    /// Metadata that could not be read.
    pub warnings: Vec<MetadataWarning>,
}

impl std::fmt::Debug for ContainerFacts {
    // `exif::Exif` has no Debug; show how many fields it holds.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerFacts")
            .field("jpeg", &self.jpeg)
            .field("exif_fields", &self.exif.as_ref().map(|exif| exif.fields().len()))
            .field("xmp_bytes", &self.xmp.as_ref().map(Vec::len))
            .field("icc_bytes", &self.icc.as_ref().map(Vec::len))
            .field("exif_thumbnail_bytes", &self.exif_thumbnail.as_ref().map(Vec::len))
            .field("png_text", &self.png_text)
            .field("warnings", &self.warnings)
            .finish()
    }
}

/// An upload decoded once for every analyser.
#[derive(Debug)]
pub struct DecodedDocument {
    /// The container format.
    pub format: ImageFormat,
    /// Size of the uploaded file.
    pub byte_size: u64,
    /// Pixels after EXIF orientation, 8-bit RGB (alpha dropped, 16-bit reduced).
    pub rgb: RgbImage,
    /// The EXIF orientation tag as found (1 when absent or unreadable).
    pub exif_orientation: u8,
    /// Everything else the file says.
    pub container: ContainerFacts,
}

/// Decodes an upload within `limits`.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedDocument, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let byte_size = bytes.len() as u64;
    if byte_size > limits.max_bytes {
        return Err(DecodeError::TooManyBytes { bytes: byte_size, limit: limits.max_bytes });
    }
    let format = match sniff(bytes) {
        SniffedFormat::Supported(format) => format,
        SniffedFormat::Refused(name) => return Err(DecodeError::UnsupportedFormat { format: name.into() }),
        SniffedFormat::Unknown => return Err(DecodeError::UnsupportedFormat { format: "unknown".into() }),
    };
    let structure = check_structure(bytes, format)?;
    // Decoders are written not to panic, but a hostile file must never take the service down with
    // it: a panic inside one is reported as a corrupt file.
    let decoded = catch_unwind(AssertUnwindSafe(|| decode_pixels(bytes, format, limits)))
        .unwrap_or_else(|_| Err(DecodeError::Corrupt { format, detail: "the decoder failed".into() }));
    let (rgb, exif_orientation, mut container) = decoded?;
    container.jpeg = structure.jpeg;
    container.png_text = structure.png_text;
    Ok(DecodedDocument { format, byte_size, rgb, exif_orientation, container })
}

/// What the structure walk of a container found.
#[derive(Default)]
struct Structure {
    jpeg: Option<JpegContainer>,
    png_text: Vec<(String, String)>,
}

/// Checks the container is complete, keeping what the walk found (JPEG segments, PNG text).
fn check_structure(bytes: &[u8], format: ImageFormat) -> Result<Structure, DecodeError> {
    let problem = |problem| match problem {
        StructureProblem::Truncated(detail) => DecodeError::Truncated { format, detail },
        StructureProblem::Malformed(detail) => DecodeError::Corrupt { format, detail },
    };
    match format {
        ImageFormat::Jpeg => match jpeg::walk(bytes) {
            Ok(container) => Ok(Structure { jpeg: Some(container), ..Structure::default() }),
            Err(JpegContainerError::Truncated { detail }) => Err(DecodeError::Truncated { format, detail }),
            Err(JpegContainerError::Malformed { detail }) => Err(DecodeError::Corrupt { format, detail }),
        },
        ImageFormat::Png => structure::walk_png(bytes)
            .map(|png_text| Structure { png_text, ..Structure::default() })
            .map_err(problem),
        ImageFormat::Webp => structure::check_webp(bytes).map(|()| Structure::default()).map_err(problem),
        // TIFF's IFDs can sit anywhere in the file; the decoder reports a short read itself.
        ImageFormat::Tiff => Ok(Structure::default()),
    }
}

fn decode_pixels(
    bytes: &[u8],
    format: ImageFormat,
    limits: &DecodeLimits,
) -> Result<(RgbImage, u8, ContainerFacts), DecodeError> {
    let image_error = |error| map_image_error(format, error);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.to_image_crate());
    // Dimensions are checked below from the header, with the typed error; the decoder gets only an
    // allocation cap: the output buffer of the widest pixel type (16-bit RGBA) plus the decoder's own working memory.
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(16));
    reader.limits(decoder_limits);
    let mut decoder = reader.into_decoder().map_err(image_error)?;

    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if width > limits.max_dimension || height > limits.max_dimension || pixels > limits.max_pixels {
        return Err(DecodeError::TooLarge {
            width,
            height,
            pixels,
            max_dimension: limits.max_dimension,
            max_pixels: limits.max_pixels,
        });
    }
    if width == 0 || height == 0 {
        return Err(DecodeError::Corrupt { format, detail: format!("{width}x{height} image") });
    }

    let mut container = ContainerFacts::default();
    let orientation = match decoder.orientation() {
        Ok(orientation) => orientation,
        Err(error) => {
            container.warnings.push(MetadataWarning { block: "orientation", detail: error.to_string() });
            image::metadata::Orientation::NoTransforms
        }
    };
    read_metadata(&mut decoder, &mut container);
    if format == ImageFormat::Tiff && container.exif.is_none() {
        // A TIFF file is itself the EXIF structure (its IFD0 holds Software, DateTime, ...); the
        // decoder does not hand it out as a separate block.
        read_exif(bytes.to_vec(), &mut container);
    }

    let mut image = DynamicImage::from_decoder(decoder).map_err(image_error)?;
    image.apply_orientation(orientation);
    Ok((image.into_rgb8(), orientation.to_exif(), container))
}

fn read_metadata(decoder: &mut impl ImageDecoder, container: &mut ContainerFacts) {
    let mut take = |block: &'static str, result: image::ImageResult<Option<Vec<u8>>>| match result {
        Ok(data) => data,
        Err(error) => {
            container.warnings.push(MetadataWarning { block, detail: error.to_string() });
            None
        }
    };
    let exif_raw = take("exif", decoder.exif_metadata());
    container.xmp = take("xmp", decoder.xmp_metadata());
    container.icc = take("icc", decoder.icc_profile());
    if let Some(raw) = exif_raw {
        read_exif(raw, container);
    }
}

/// Parses a TIFF-structured EXIF block, keeping what parses: one broken pointer must not hide the
/// Software tag beside it; what could not be read becomes a warning.
fn read_exif(raw: Vec<u8>, container: &mut ContainerFacts) {
    let parsed = exif::Reader::new().continue_on_error(true).read_raw(raw).or_else(|error| {
        error.distill_partial_result(|errors| {
            for error in errors {
                container.warnings.push(MetadataWarning { block: "exif", detail: error.to_string() });
            }
        })
    });
    match parsed {
        Ok(exif) => {
            container.exif_thumbnail = exif_thumbnail(&exif, &mut container.warnings);
            container.exif = Some(exif);
        }
        Err(error) => container.warnings.push(MetadataWarning { block: "exif", detail: error.to_string() }),
    }
}

/// The IFD1 JPEG thumbnail, when its offset and length stay inside the EXIF block.
fn exif_thumbnail(exif: &exif::Exif, warnings: &mut Vec<MetadataWarning>) -> Option<Vec<u8>> {
    let field = |tag| exif.get_field(tag, exif::In::THUMBNAIL).and_then(|f| f.value.get_uint(0));
    let offset = field(exif::Tag::JPEGInterchangeFormat)? as usize;
    let length = field(exif::Tag::JPEGInterchangeFormatLength)? as usize;
    let thumbnail = offset.checked_add(length).and_then(|end| exif.buf().get(offset..end));
    match thumbnail {
        Some(data) if data.starts_with(&[0xFF, 0xD8]) => Some(data.to_vec()),
        _ => {
            warnings.push(MetadataWarning {
                block: "thumbnail",
                detail: format!("IFD1 thumbnail at {offset}+{length} is not a JPEG inside the EXIF block"),
            });
            None
        }
    }
}

fn map_image_error(format: ImageFormat, error: image::ImageError) -> DecodeError {
    use image::ImageError;
    match error {
        ImageError::Limits(limit) => DecodeError::MemoryLimit { format, detail: limit.to_string() },
        ImageError::Unsupported(detail) => {
            DecodeError::UnsupportedEncoding { format, detail: detail.to_string() }
        }
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            DecodeError::Truncated { format, detail: io.to_string() }
        }
        ImageError::IoError(io) => DecodeError::Corrupt { format, detail: io.to_string() },
        ImageError::Decoding(detail) => DecodeError::Corrupt { format, detail: detail.to_string() },
        ImageError::Parameter(detail) => DecodeError::Corrupt { format, detail: detail.to_string() },
        ImageError::Encoding(detail) => DecodeError::Corrupt { format, detail: detail.to_string() },
    }
}

impl DecodedDocument {
    /// The facts about the decoded image a report carries.
    pub fn info(&self) -> ImageInfo {
        let container = &self.container;
        ImageInfo {
            format: self.format.as_str().to_owned(),
            width: self.rgb.width(),
            height: self.rgb.height(),
            exif_orientation: self.exif_orientation,
            byte_size: self.byte_size,
            has_exif: container.exif.is_some(),
            has_xmp: container.xmp.is_some(),
            has_icc_profile: container.icc.is_some(),
            has_exif_thumbnail: container.exif_thumbnail.is_some(),
            metadata_warnings: container
                .warnings
                .iter()
                .map(|warning| format!("{}: {}", warning.block, warning.detail))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::synthetic::fixtures::{jpeg, png};
    use image::Rgb;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever follows an accepted signature, decoding returns a value or a typed error.
        #[test]
        fn never_panics_on_arbitrary_bytes(signature in 0usize..4, tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let prefixes: [&[u8]; 4] = [b"\xFF\xD8\xFF", b"\x89PNG\r\n\x1a\n", b"RIFF\x10\0\0\0WEBPVP8 ", b"II*\0"];
            let mut bytes = prefixes[signature].to_vec();
            bytes.extend(tail);
            let _ = decode(&bytes, &DecodeLimits::default());
        }

        /// A real file with any one byte changed still decodes or fails with a typed error.
        #[test]
        fn never_panics_on_mutated_files(index in 0usize..4096, value in any::<u8>()) {
            let mut bytes = jpeg(&gradient(48, 32), 85);
            let index = index % bytes.len();
            bytes[index] = value;
            let _ = decode(&bytes, &DecodeLimits::default());
        }
    }

    fn gradient(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| Rgb([(x * 7) as u8, (y * 5) as u8, ((x + y) * 3) as u8]))
    }

    #[test]
    fn decodes_png_losslessly() {
        let image = gradient(40, 30);
        let document = decode(&png(&image), &DecodeLimits::default()).unwrap();
        assert_eq!(document.format, ImageFormat::Png);
        assert_eq!(document.rgb, image);
        assert_eq!(document.exif_orientation, 1);
        assert!(document.container.jpeg.is_none());
    }

    #[test]
    fn decodes_jpeg_and_keeps_its_tables() {
        let document = decode(&jpeg(&gradient(64, 48), 80), &DecodeLimits::default()).unwrap();
        assert_eq!(document.format, ImageFormat::Jpeg);
        assert_eq!(document.rgb.dimensions(), (64, 48));
        let jpeg = document.container.jpeg.unwrap();
        assert_eq!(jpeg.quant_tables.len(), 2, "luma and chroma tables");
        assert_eq!(jpeg.frame.unwrap().width, 64);
    }

    #[test]
    fn refuses_empty_oversized_and_unknown_input() {
        let limits = DecodeLimits { max_bytes: 10, ..DecodeLimits::default() };
        assert_eq!(decode(b"", &limits).unwrap_err(), DecodeError::Empty);
        assert!(matches!(
            decode(&[0u8; 11], &limits),
            Err(DecodeError::TooManyBytes { bytes: 11, limit: 10 })
        ));
        let error = decode(b"not an image", &DecodeLimits::default()).unwrap_err();
        assert_eq!(error.reason(), "image.unsupported_format");
    }

    #[test]
    fn dimensions_are_checked_before_decoding() {
        let limits = DecodeLimits { max_pixels: 100, ..DecodeLimits::default() };
        let error = decode(&png(&gradient(20, 20)), &limits).unwrap_err();
        assert!(
            matches!(error, DecodeError::TooLarge { width: 20, height: 20, pixels: 400, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn truncated_jpeg_and_png_are_reported_as_truncated() {
        let jpeg = jpeg(&gradient(64, 48), 90);
        let png = png(&gradient(64, 48));
        for bytes in [&jpeg[..jpeg.len() * 2 / 3], &png[..png.len() - 20]] {
            let error = decode(bytes, &DecodeLimits::default()).unwrap_err();
            assert_eq!(error.reason(), "image.truncated", "{error}");
        }
    }
}
