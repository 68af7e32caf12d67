//! A bounded walk over a JPEG file's marker segments (ITU-T T.81, Annex B).
//!
//! Hand-written because no maintained crate exposes what forensics needs from the container: the raw
//! quantization tables (encoder signatures, quality estimates), every APPn and COM payload in file
//! order (EXIF, XMP, ICC, Photoshop IRB, Adobe, Ducky), and whether the entropy-coded data reaches an
//! EOI (truncation). Decoders (zune-jpeg via `image`) consume these and keep none of them.
//!
//! The walk is a single forward pass: every step advances, so its time is linear in the file size, and
//! what it keeps is capped, so its memory is bounded by the file size.

/// At most this many APPn/COM segments are kept; more are counted, not stored.
const MAX_KEPT_SEGMENTS: usize = 256;

/// What the JPEG container says, beyond the pixels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JpegContainer {
    /// APPn and COM segments in file order (at most 256 kept).
    pub segments: Vec<JpegSegment>,
    /// APPn/COM segments beyond the kept ones.
    pub segments_dropped: usize,
    /// Quantization tables as defined, in file order (a later table with the same id replaces an
    /// earlier one for decoding, but both are kept here as evidence).
    pub quant_tables: Vec<QuantTable>,
    /// The frame header (SOFn).
    pub frame: Option<FrameHeader>,
    /// Number of scans (SOS): 1 for baseline, several for progressive.
    pub scan_count: u32,
    /// Bytes after the EOI marker (appended data: MPF images, trailers, hidden payloads).
    pub trailing_bytes: usize,
}

/// One APPn or COM segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JpegSegment {
    /// The marker's second byte: 0xE0..=0xEF for APP0..APP15, 0xFE for COM.
    pub marker: u8,
    /// Offset of the marker in the file.
    pub offset: usize,
    /// The payload after the length field.
    pub data: Vec<u8>,
}

/// A quantization table (DQT), values in zig-zag order as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantTable {
    /// Destination id 0..=3.
    pub id: u8,
    /// 16-bit entries (rare; 8-bit otherwise).
    pub sixteen_bit: bool,
    /// The 64 entries in zig-zag order.
    pub values: [u16; 64],
}

/// The frame header (SOFn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameHeader {
    /// The SOF marker's second byte (0xC0 baseline, 0xC2 progressive, ...).
    pub marker: u8,
    /// Sample precision in bits.
    pub precision: u8,
    /// Height as coded (before EXIF orientation).
    pub height: u16,
    /// Width as coded.
    pub width: u16,
    /// Components with their sampling factors and table ids.
    pub components: Vec<FrameComponent>,
}

/// One component of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameComponent {
    /// Component id (1 = Y, 2 = Cb, 3 = Cr in JFIF).
    pub id: u8,
    /// Horizontal sampling factor.
    pub horizontal: u8,
    /// Vertical sampling factor.
    pub vertical: u8,
    /// Quantization table id.
    pub quant_table: u8,
}

/// Why a JPEG container could not be walked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JpegContainerError {
    /// The file ends before its EOI marker.
    #[error("JPEG ends before its end-of-image marker ({detail})")]
    Truncated {
        /// Where it ended.
        detail: String,
    },
    /// The marker structure is broken.
    #[error("malformed JPEG structure: {detail}")]
    Malformed {
        /// What is broken.
        detail: String,
    },
}

fn truncated(detail: impl Into<String>) -> JpegContainerError {
    JpegContainerError::Truncated { detail: detail.into() }
}

fn malformed(detail: impl Into<String>) -> JpegContainerError {
    JpegContainerError::Malformed { detail: detail.into() }
}

/// Walks the container from SOI to EOI.
pub(super) fn walk(bytes: &[u8]) -> Result<JpegContainer, JpegContainerError> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(malformed("no start-of-image marker"));
    }
    let mut container = JpegContainer::default();
    let mut pos = 2;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes (B.1.1.2).
        if bytes.get(pos) != Some(&0xFF) {
            return match bytes.get(pos) {
                None => Err(truncated(format!("no marker at offset {pos}"))),
                Some(byte) => {
                    Err(malformed(format!("expected a marker at offset {pos}, found 0x{byte:02X}")))
                }
            };
        }
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else {
            return Err(truncated("file ends inside a marker"));
        };
        let marker_offset = pos - 1;
        pos += 1;
        match marker {
            0xD9 => {
                container.trailing_bytes = bytes.len() - pos;
                return Ok(container);
            }
            // Stand-alone markers: no length field.
            0x01 | 0xD0..=0xD7 => continue,
            0xD8 => return Err(malformed(format!("second start-of-image marker at offset {marker_offset}"))),
            _ => {}
        }
        let Some(length_bytes) = bytes.get(pos..pos + 2) else {
            return Err(truncated(format!("segment 0x{marker:02X} at offset {marker_offset} has no length")));
        };
        let length = usize::from(u16::from_be_bytes([length_bytes[0], length_bytes[1]]));
        if length < 2 {
            return Err(malformed(format!(
                "segment 0x{marker:02X} at offset {marker_offset} has length {length}"
            )));
        }
        let Some(payload) = bytes.get(pos + 2..pos + length) else {
            return Err(truncated(format!("segment 0x{marker:02X} at offset {marker_offset} is cut short")));
        };
        pos += length;
        match marker {
            0xDB => parse_quant_tables(payload, &mut container.quant_tables)?,
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if container.frame.is_some() {
                    return Err(malformed("more than one frame header"));
                }
                container.frame = Some(parse_frame(marker, payload)?);
            }
            0xE0..=0xEF | 0xFE => {
                if container.segments.len() < MAX_KEPT_SEGMENTS {
                    container.segments.push(JpegSegment {
                        marker,
                        offset: marker_offset,
                        data: payload.to_vec(),
                    });
                } else {
                    container.segments_dropped += 1;
                }
            }
            0xDA => {
                if container.frame.is_none() {
                    return Err(malformed("scan before frame header"));
                }
                container.scan_count += 1;
                pos = skip_entropy_coded_data(bytes, pos)?;
            }
            _ => {}
        }
    }
}

/// Returns the offset of the first marker after entropy-coded data: the next 0xFF that is neither a
/// stuffed zero (0xFF00) nor a restart marker (0xFFD0..=0xFFD7).
fn skip_entropy_coded_data(bytes: &[u8], mut pos: usize) -> Result<usize, JpegContainerError> {
    loop {
        let Some(found) = bytes[pos..].iter().position(|&b| b == 0xFF) else {
            return Err(truncated("file ends inside scan data"));
        };
        let candidate = pos + found;
        match bytes.get(candidate + 1) {
            None => return Err(truncated("file ends inside scan data")),
            Some(0x00 | 0xD0..=0xD7 | 0xFF) => pos = candidate + 1,
            Some(_) => return Ok(candidate),
        }
    }
}

fn parse_quant_tables(mut payload: &[u8], tables: &mut Vec<QuantTable>) -> Result<(), JpegContainerError> {
    while let Some((&pq_tq, rest)) = payload.split_first() {
        let sixteen_bit = pq_tq >> 4 == 1;
        let id = pq_tq & 0x0F;
        if pq_tq >> 4 > 1 || id > 3 {
            return Err(malformed(format!("quantization table header 0x{pq_tq:02X}")));
        }
        let entry_size = if sixteen_bit { 2 } else { 1 };
        let Some(raw) = rest.get(..64 * entry_size) else {
            return Err(malformed("quantization table cut short"));
        };
        let mut values = [0u16; 64];
        for (i, value) in values.iter_mut().enumerate() {
            *value = if sixteen_bit {
                u16::from_be_bytes([raw[2 * i], raw[2 * i + 1]])
            } else {
                u16::from(raw[i])
            };
        }
        tables.push(QuantTable { id, sixteen_bit, values });
        payload = &rest[64 * entry_size..];
    }
    Ok(())
}

fn parse_frame(marker: u8, payload: &[u8]) -> Result<FrameHeader, JpegContainerError> {
    let [precision, h0, h1, w0, w1, count, ref rest @ ..] = *payload else {
        return Err(malformed("frame header cut short"));
    };
    let Some(component_bytes) = rest.get(..usize::from(count) * 3) else {
        return Err(malformed("frame header lists more components than it holds"));
    };
    let components = component_bytes
        .chunks_exact(3)
        .map(|c| FrameComponent { id: c[0], horizontal: c[1] >> 4, vertical: c[1] & 0x0F, quant_table: c[2] })
        .collect();
    Ok(FrameHeader {
        marker,
        precision,
        height: u16::from_be_bytes([h0, h1]),
        width: u16::from_be_bytes([w0, w1]),
        components,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A minimal JPEG structure (not decodable pixels): SOI, APP1, DQT, SOF0, SOS, data, EOI.
    fn skeleton() -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8];
        bytes.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x08, b'E', b'x', b'i', b'f', 0, 0]);
        bytes.extend_from_slice(&[0xFF, 0xDB, 0x00, 67, 0x00]);
        bytes.extend((1..=64).map(|v: u8| v));
        bytes.extend_from_slice(&[0xFF, 0xC0, 0x00, 11, 8, 0x00, 0x10, 0x00, 0x20, 1, 1, 0x11, 0]);
        bytes.extend_from_slice(&[0xFF, 0xDA, 0x00, 8, 1, 1, 0, 0, 63, 0]);
        bytes.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        bytes.extend_from_slice(&[0xFF, 0xD9]);
        bytes
    }

    #[test]
    fn walks_a_complete_file() {
        let container = walk(&skeleton()).unwrap();
        assert_eq!(container.segments.len(), 1);
        assert_eq!(container.segments[0].data, b"Exif\0\0");
        assert_eq!(container.quant_tables.len(), 1);
        assert_eq!(container.quant_tables[0].values[63], 64);
        let frame = container.frame.unwrap();
        assert_eq!((frame.width, frame.height), (32, 16));
        assert_eq!(container.scan_count, 1);
        assert_eq!(container.trailing_bytes, 0);
    }

    #[test]
    fn a_file_cut_anywhere_is_truncated_not_accepted() {
        let bytes = skeleton();
        for end in 2..bytes.len() - 1 {
            let result = walk(&bytes[..end]);
            assert!(matches!(result, Err(JpegContainerError::Truncated { .. })), "cut at {end}: {result:?}");
        }
    }

    #[test]
    fn counts_trailing_bytes() {
        let mut bytes = skeleton();
        bytes.extend_from_slice(b"appended");
        assert_eq!(walk(&bytes).unwrap().trailing_bytes, 8);
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(tail in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut bytes = vec![0xFF, 0xD8];
            bytes.extend(tail);
            let _ = walk(&bytes);
        }

        #[test]
        fn never_panics_on_mutated_files(index in 0usize..200, value in any::<u8>()) {
            let mut bytes = skeleton();
            let index = index % bytes.len();
            bytes[index] = value;
            let _ = walk(&bytes);
        }
    }
}
