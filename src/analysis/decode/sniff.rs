//! Recognises a file's format from its first bytes, so refused formats can be named in the error
//! and nothing is handed to a decoder on the strength of a file name or a caller's claim.

use std::fmt;

/// A format recognised by its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SniffedFormat {
    /// Accepted: decoded and analysed.
    Supported(ImageFormat),
    /// Recognised but refused (named in the error).
    Refused(&'static str),
    /// No known signature.
    Unknown,
}

/// The formats idforensics decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// JPEG (JFIF/EXIF), baseline or progressive.
    Jpeg,
    /// PNG.
    Png,
    /// WebP, lossy or lossless.
    Webp,
    /// TIFF (baseline; as produced by scanners).
    Tiff,
}

impl ImageFormat {
    /// Lower-case name, as reported in `ImageInfo.format`.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Png => "png",
            ImageFormat::Webp => "webp",
            ImageFormat::Tiff => "tiff",
        }
    }

    /// The `image` crate's name for the format.
    pub(crate) fn to_image_crate(self) -> image::ImageFormat {
        match self {
            ImageFormat::Jpeg => image::ImageFormat::Jpeg,
            ImageFormat::Png => image::ImageFormat::Png,
            ImageFormat::Webp => image::ImageFormat::WebP,
            ImageFormat::Tiff => image::ImageFormat::Tiff,
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifies the format from the file signature.
pub fn sniff(bytes: &[u8]) -> SniffedFormat {
    use SniffedFormat::{Refused, Supported, Unknown};
    let starts = |signature: &[u8]| bytes.starts_with(signature);
    let at = |offset: usize, signature: &[u8]| bytes.get(offset..offset + signature.len()) == Some(signature);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        Supported(ImageFormat::Jpeg)
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Supported(ImageFormat::Png)
    } else if starts(b"RIFF") && at(8, b"WEBP") {
        Supported(ImageFormat::Webp)
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Supported(ImageFormat::Tiff)
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Refused("gif")
    } else if starts(b"BM") {
        Refused("bmp")
    } else if at(4, b"ftyp") {
        // ISO-BMFF: HEIC/HEIF/AVIF (and video); the brand says which.
        match bytes.get(8..12) {
            Some(b"avif") | Some(b"avis") => Refused("avif"),
            Some(b"heic") | Some(b"heix") | Some(b"mif1") | Some(b"msf1") | Some(b"hevc") => Refused("heic"),
            _ => Refused("iso-bmff"),
        }
    } else if starts(b"%PDF") {
        Refused("pdf")
    } else if starts(b"8BPS") {
        Refused("psd")
    } else if starts(&[0, 0, 1, 0]) {
        Refused("ico")
    } else if starts(&[0xFF, 0x0A]) || starts(b"\0\0\0\x0cJXL \r\n\x87\n") {
        Refused("jpeg-xl")
    } else if starts(b"\0\0\0\x0cjP  \r\n\x87\n") || starts(&[0xFF, 0x4F, 0xFF, 0x51]) {
        Refused("jpeg-2000")
    } else if starts(b"II\xbc") {
        Refused("jpeg-xr")
    } else {
        Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_accepted_and_refused_signatures() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), SniffedFormat::Supported(ImageFormat::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), SniffedFormat::Supported(ImageFormat::Png));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), SniffedFormat::Supported(ImageFormat::Webp));
        assert_eq!(sniff(b"MM\0*\0\0\0\x08"), SniffedFormat::Supported(ImageFormat::Tiff));
        assert_eq!(sniff(b"GIF89a\x01\0"), SniffedFormat::Refused("gif"));
        assert_eq!(sniff(b"BM\0\0"), SniffedFormat::Refused("bmp"));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic"), SniffedFormat::Refused("heic"));
        assert_eq!(sniff(b"hello"), SniffedFormat::Unknown);
        assert_eq!(sniff(b""), SniffedFormat::Unknown);
    }
}
