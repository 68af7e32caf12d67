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

/// At most this many PNG text entries are kept.
const MAX_TEXT_ENTRIES: usize = 64;
/// Longest text value kept, in bytes: generators' parameters run to a few kilobytes.
const MAX_TEXT_BYTES: usize = 8192;
/// Most bytes a compressed text chunk is inflated to (a zip bomb stops there).
const MAX_INFLATED_BYTES: usize = 64 * 1024;

/// Walks PNG chunks to IEND (PNG spec §5.3) and returns the text entries (keyword, text) of `tEXt`,
/// `zTXt` and `iTXt` chunks, which is where editors write `Software` and `Comment` and image
/// generators their parameters. Linear; what it keeps is capped.
pub(super) fn walk_png(bytes: &[u8]) -> Result<Vec<(String, String)>, StructureProblem> {
    let mut texts = Vec::new();
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
        match &header[4..8] {
            b"IEND" => return Ok(texts),
            kind @ (b"tEXt" | b"zTXt" | b"iTXt") if texts.len() < MAX_TEXT_ENTRIES => {
                if let Some(entry) = text_entry(kind, &bytes[pos + 8..pos + 8 + length]) {
                    texts.push(entry);
                }
            }
            _ => {}
        }
        pos = end;
    }
}

/// One text chunk's keyword and text: `tEXt` is `keyword\0text` in Latin-1, `zTXt` is
/// `keyword\0 method zlib(text)` in Latin-1, and `iTXt` is `keyword\0 flag method language\0
/// translated\0 text` in UTF-8, zlib-compressed when the flag is 1.
fn text_entry(kind: &[u8], data: &[u8]) -> Option<(String, String)> {
    let separator = data.iter().position(|&b| b == 0)?;
    let keyword: String = data[..separator].iter().map(|&b| char::from(b)).collect();
    let rest = &data[separator + 1..];
    let latin1 =
        |text: &[u8]| text[..text.len().min(MAX_TEXT_BYTES)].iter().map(|&b| char::from(b)).collect();
    match kind {
        b"tEXt" => Some((keyword, latin1(rest))),
        b"zTXt" => Some((keyword, latin1(&inflate(rest.get(1..)?)?))),
        _ => {
            let (&compressed, rest) = rest.split_first()?;
            let rest = rest.get(1..)?; // compression method
            let language_end = rest.iter().position(|&b| b == 0)?;
            let rest = &rest[language_end + 1..];
            let translated_end = rest.iter().position(|&b| b == 0)?;
            let text = &rest[translated_end + 1..];
            let text = if compressed == 1 { inflate(text)? } else { text.to_vec() };
            Some((keyword, String::from_utf8_lossy(&text[..text.len().min(MAX_TEXT_BYTES)]).into_owned()))
        }
    }
}

/// A zlib stream inflated, up to [`MAX_INFLATED_BYTES`]; none when it is broken or larger.
fn inflate(compressed: &[u8]) -> Option<Vec<u8>> {
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(compressed, MAX_INFLATED_BYTES).ok()
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
        assert_eq!(walk_png(&png), Ok(Vec::new()));
        for end in 8..png.len() {
            assert!(matches!(walk_png(&png[..end]), Err(StructureProblem::Truncated(_))), "cut at {end}");
        }
    }

    #[test]
    fn png_text_entries_are_collected() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0; 13]));
        png.extend(chunk(b"tEXt", b"Software\0Adobe ImageReady"));
        png.extend(chunk(b"iTXt", b"Comment\0\0\0\0\0Created with GIMP"));
        png.extend(chunk(b"iTXt", b"Comment\0\x01\0\0\0not zlib"));
        let deflated = miniz_oxide::deflate::compress_to_vec_zlib(b"Steps: 20, Seed: 7", 6);
        png.extend(chunk(b"zTXt", &[b"parameters\0\0".as_slice(), &deflated].concat()));
        png.extend(chunk(b"iTXt", &[b"prompt\0\x01\0\0\0".as_slice(), &deflated].concat()));
        let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&vec![b'a'; MAX_INFLATED_BYTES + 1], 6);
        png.extend(chunk(b"zTXt", &[b"bomb\0\0".as_slice(), &bomb].concat()));
        png.extend(chunk(b"IEND", &[]));
        let expected = vec![
            ("Software".into(), "Adobe ImageReady".into()),
            ("Comment".into(), "Created with GIMP".into()),
            ("parameters".into(), "Steps: 20, Seed: 7".into()),
            ("prompt".into(), "Steps: 20, Seed: 7".into()),
        ];
        assert_eq!(walk_png(&png), Ok(expected));
    }

    #[test]
    fn webp_size_field_must_be_covered() {
        let mut webp = b"RIFF\x08\0\0\0WEBPVP8 ".to_vec();
        assert_eq!(check_webp(&webp), Ok(()));
        webp.truncate(15);
        assert!(matches!(check_webp(&webp), Err(StructureProblem::Truncated(_))));
    }
}
