//! Completeness checks for PNG and WebP containers, run before decoding so a cut-off upload is
//! reported as truncated (retry the upload) rather than as a corrupt image or, worse, decoded with
//! missing rows filled in.

/// Why a container is incomplete or broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StructureProblem {
    /// The file ends before the container says it does.
    Truncated(String),
    /// The container's framing is inconsistent.
    Malformed(String),
}

/// Walks PNG chunks to IEND (PNG spec §5.3). Linear, allocation-free.
pub(super) fn check_png(bytes: &[u8]) -> Result<(), StructureProblem> {
    let mut pos = 8;
    loop {
        let Some(header) = bytes.get(pos..pos + 8) else {
            return Err(StructureProblem::Truncated(format!(
                "no IEND chunk; file ends at offset {}",
                bytes.len()
            )));
        };
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if length > 0x7FFF_FFFF {
            return Err(StructureProblem::Malformed(format!("chunk length {length} at offset {pos}")));
        }
        let end = pos + 8 + length + 4;
        if end > bytes.len() {
            return Err(StructureProblem::Truncated(format!("chunk at offset {pos} is cut short")));
        }
        if &header[4..8] == b"IEND" {
            return Ok(());
        }
        pos = end;
    }
}

/// Compares the RIFF size field with the data present (WebP container spec, "RIFF header").
pub(super) fn check_webp(bytes: &[u8]) -> Result<(), StructureProblem> {
    let Some(size) = bytes.get(4..8) else {
        return Err(StructureProblem::Truncated("RIFF header cut short".into()));
    };
    let declared = u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize + 8;
    if declared > bytes.len() {
        return Err(StructureProblem::Truncated(format!(
            "RIFF header declares {declared} bytes, file has {}",
            bytes.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&[0; 4]);
        out
    }

    #[test]
    fn png_needs_every_chunk_and_iend() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0; 13]));
        png.extend(chunk(b"IDAT", &[1, 2, 3]));
        png.extend(chunk(b"IEND", &[]));
        assert_eq!(check_png(&png), Ok(()));
        for end in 8..png.len() {
            assert!(matches!(check_png(&png[..end]), Err(StructureProblem::Truncated(_))), "cut at {end}");
        }
    }

    #[test]
    fn webp_size_field_must_be_covered() {
        let mut webp = b"RIFF\x08\0\0\0WEBPVP8 ".to_vec();
        assert_eq!(check_webp(&webp), Ok(()));
        webp.truncate(15);
        assert!(matches!(check_webp(&webp), Err(StructureProblem::Truncated(_))));
    }
}
