//! Reads the metadata traces editing software leaves: software names (EXIF, XMP, JPEG comments,
//! Photoshop image resources), XMP edit history, and EXIF dates and dimensions.
//!
//! XMP is read with a small bounded scanner rather than an RDF parser: only five properties are
//! needed, each written by every XMP toolkit either as an attribute (`name="value"`) or as a simple
//! element (`<name>value</name>`), and a scanner never fails on the malformed packets forgers and
//! fuzzers produce. The Photoshop image-resource block (APP13 "8BIM" records) has no maintained
//! Rust parser; its framing is a few lines (Adobe Photoshop File Formats Specification, "Image
//! Resource Blocks").

use crate::analysis::decode::ContainerFacts;

/// A software name found in the file, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftwareTrace {
    /// `exif.Software`, `exif.ProcessingSoftware`, `xmp.CreatorTool`, `xmp.History.softwareAgent`,
    /// `png.Software`, `png.Comment`, `jpeg.COM`, `photoshop.VersionInfo`, `photoshop.SaveQuality`.
    pub source: &'static str,
    /// The text as found (trimmed, at most 200 characters).
    pub value: String,
}

/// Everything the metadata says about the file's history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataFacts {
    /// Software names, in the order above.
    pub traces: Vec<SoftwareTrace>,
    /// `xmpMM:History` events (`stEvt:action` entries).
    pub history_events: usize,
    /// The file declares it was derived from another document (`xmpMM:DerivedFrom`).
    pub derived_from: bool,
    /// Documents placed into this one (`photoshop:DocumentAncestors` entries).
    pub document_ancestors: usize,
    /// Lines of Photoshop's own history log (`photoshop:History`, written when the "History Log"
    /// preference records to metadata).
    pub photoshop_history_entries: usize,
    /// Photoshop image-resource ids present in APP13.
    pub photoshop_resources: Vec<u16>,
    /// EXIF DateTimeOriginal, as written.
    pub date_time_original: Option<String>,
    /// EXIF DateTime (the modification date), as written.
    pub date_time: Option<String>,
    /// EXIF PixelXDimension × PixelYDimension, when both are present.
    pub exif_dimensions: Option<(u32, u32)>,
    /// EXIF Make: the camera the file claims to come from.
    pub camera_make: Option<String>,
    /// EXIF UserComment as text (image generators write their parameters there), at most 8 KiB.
    pub user_comment: Option<String>,
    /// XMP `DigitalSourceType` values (IPTC terms, usually as URIs), also from XMP in a PNG's
    /// `XML:com.adobe.xmp` text in case the decoder did not lift it.
    pub digital_source_types: Vec<String>,
}

const MAX_VALUE_CHARS: usize = 200;

fn clean(value: &str) -> String {
    value.trim().trim_matches('"').trim().chars().filter(|c| !c.is_control()).take(MAX_VALUE_CHARS).collect()
}

/// Collects the metadata facts of a decoded file.
pub fn read_metadata_facts(container: &ContainerFacts) -> MetadataFacts {
    let mut facts = MetadataFacts::default();
    if let Some(exif) = &container.exif {
        let ascii = |tag: exif::Tag, ifd: exif::In| {
            exif.get_field(tag, ifd).and_then(|field| match &field.value {
                exif::Value::Ascii(parts) => {
                    let text: Vec<String> =
                        parts.iter().map(|p| clean(&String::from_utf8_lossy(p))).collect();
                    Some(text.join(" ")).filter(|t| !t.trim().is_empty())
                }
                _ => None,
            })
        };
        if let Some(value) = ascii(exif::Tag::Software, exif::In::PRIMARY) {
            facts.traces.push(SoftwareTrace { source: "exif.Software", value });
        }
        // ProcessingSoftware (0x000B) has no constant in kamadak-exif.
        if let Some(value) = ascii(exif::Tag(exif::Context::Tiff, 0x000B), exif::In::PRIMARY) {
            facts.traces.push(SoftwareTrace { source: "exif.ProcessingSoftware", value });
        }
        facts.date_time_original = ascii(exif::Tag::DateTimeOriginal, exif::In::PRIMARY);
        facts.date_time = ascii(exif::Tag::DateTime, exif::In::PRIMARY);
        facts.camera_make = ascii(exif::Tag::Make, exif::In::PRIMARY);
        facts.user_comment =
            exif.get_field(exif::Tag::UserComment, exif::In::PRIMARY).and_then(|field| match &field.value {
                exif::Value::Undefined(bytes, _) => user_comment_text(bytes),
                _ => None,
            });
        let dimension = |tag| exif.get_field(tag, exif::In::PRIMARY).and_then(|f| f.value.get_uint(0));
        if let (Some(width), Some(height)) =
            (dimension(exif::Tag::PixelXDimension), dimension(exif::Tag::PixelYDimension))
        {
            facts.exif_dimensions = Some((width, height));
        }
    }
    if let Some(xmp) = &container.xmp {
        let xmp = String::from_utf8_lossy(xmp);
        for value in xmp_values(&xmp, "CreatorTool") {
            facts.traces.push(SoftwareTrace { source: "xmp.CreatorTool", value });
        }
        for value in xmp_values(&xmp, "softwareAgent") {
            facts.traces.push(SoftwareTrace { source: "xmp.History.softwareAgent", value });
        }
        facts.digital_source_types.extend(xmp_values(&xmp, "DigitalSourceType"));
        facts.history_events = xmp_values(&xmp, "action").len();
        if let Some(log) = photoshop_history(&xmp) {
            // Its lines are newline- and tab-separated, often as character references.
            let log =
                log.replace("&#xA;", "\n").replace("&#10;", "\n").replace("&#x9;", " ").replace("&#9;", " ");
            facts.photoshop_history_entries =
                log.lines().filter(|line| !line.trim().is_empty()).count().max(1);
            // Only Photoshop writes this log: it names the editor even when no other field does.
            let value = clean(&format!("Adobe Photoshop history log: {}", log.trim()));
            facts.traces.push(SoftwareTrace { source: "xmp.photoshop.History", value });
        }
        facts.derived_from = xmp.contains("MM:DerivedFrom");
        facts.document_ancestors = xmp_element(&xmp, "DocumentAncestors")
            .map_or(0, |inner| inner.matches("<rdf:li").count().max(usize::from(!inner.trim().is_empty())));
    }
    for (keyword, text) in &container.png_text {
        if keyword == "XML:com.adobe.xmp" {
            facts.digital_source_types.extend(xmp_values(text, "DigitalSourceType"));
        }
        let source = match keyword.to_ascii_lowercase().as_str() {
            "software" => "png.Software",
            "comment" => "png.Comment",
            _ => continue,
        };
        facts.traces.push(SoftwareTrace { source, value: clean(text) });
    }
    if let Some(jpeg) = &container.jpeg {
        for segment in &jpeg.segments {
            match segment.marker {
                0xFE => {
                    let value = clean(&String::from_utf8_lossy(&segment.data));
                    if !value.is_empty() {
                        facts.traces.push(SoftwareTrace { source: "jpeg.COM", value });
                    }
                }
                0xED => read_photoshop_resources(&segment.data, &mut facts),
                _ => {}
            }
        }
    }
    facts
}

/// Longest UserComment kept, in bytes of its encoding.
const MAX_USER_COMMENT_BYTES: usize = 8192;

/// An EXIF UserComment's text: an 8-byte character-code prefix (`ASCII`, `UNICODE`, or none) then
/// the text; `UNICODE` is UTF-16, big-endian as piexif writes it unless the bytes say otherwise.
fn user_comment_text(bytes: &[u8]) -> Option<String> {
    let (code, text) = (bytes.get(..8)?, &bytes[8..bytes.len().min(8 + MAX_USER_COMMENT_BYTES)]);
    let text = if code.starts_with(b"UNICODE") {
        let big_endian = text.iter().step_by(2).filter(|&&b| b == 0).count()
            >= text.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
        let units = text.chunks_exact(2).map(|pair| {
            if big_endian {
                u16::from_be_bytes([pair[0], pair[1]])
            } else {
                u16::from_le_bytes([pair[0], pair[1]])
            }
        });
        char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
    } else {
        String::from_utf8_lossy(text).into_owned()
    };
    let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_owned();
    (!text.is_empty()).then_some(text)
}

/// Values of an XMP property, by local name under any namespace prefix (`xmp:CreatorTool`, or
/// `xap:CreatorTool` in pre-2004 packets), written as attributes or as simple elements.
fn xmp_values(xmp: &str, local_name: &str) -> Vec<String> {
    let mut values = Vec::new();
    for quote in ['"', '\''] {
        let needle = format!(":{local_name}={quote}");
        let mut rest = xmp;
        while let Some(start) = rest.find(&needle) {
            rest = &rest[start + needle.len()..];
            if let Some(end) = rest.find(quote) {
                values.push(clean(&rest[..end]));
                rest = &rest[end..];
            }
        }
    }
    let needle = format!(":{local_name}>");
    let mut offset = 0;
    while let Some(found) = xmp[offset..].find(&needle) {
        let position = offset + found;
        offset = position + needle.len();
        // An opening tag: the nearest '<' before the name is not "</".
        let is_open = xmp[..position].rfind('<').is_some_and(|lt| !xmp[lt..].starts_with("</"));
        if let (true, Some(end)) = (is_open, xmp[offset..].find("</")) {
            values.push(clean(&xmp[offset..offset + end]));
        }
    }
    values.retain(|value| !value.is_empty());
    values
}

/// Photoshop's history log (`photoshop:History`, an attribute or a simple element; not the
/// `xmpMM:History` event list), when present and not empty.
fn photoshop_history(xmp: &str) -> Option<String> {
    for quote in ['"', '\''] {
        let needle = format!("photoshop:History={quote}");
        if let Some(start) = xmp.find(&needle) {
            let rest = &xmp[start + needle.len()..];
            let text = &rest[..rest.find(quote)?];
            return Some(text.to_owned()).filter(|text| !text.trim().is_empty());
        }
    }
    let start = xmp.find("<photoshop:History>")? + "<photoshop:History>".len();
    let end = start + xmp[start..].find("</photoshop:History>")?;
    Some(xmp[start..end].to_owned()).filter(|text| !text.trim().is_empty())
}

/// The inner text of the first element with this local name, under any prefix.
fn xmp_element<'a>(xmp: &'a str, local_name: &str) -> Option<&'a str> {
    let needle = format!(":{local_name}");
    let mut offset = 0;
    while let Some(found) = xmp[offset..].find(&needle) {
        let position = offset + found;
        offset = position + needle.len();
        let Some(lt) = xmp[..position].rfind('<') else { continue };
        let prefix = &xmp[lt + 1..position];
        if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_alphanumeric()) {
            continue; // an attribute, a closing tag or text
        }
        let after_open = offset + xmp[offset..].find('>')? + 1;
        let close = format!("</{prefix}:{local_name}>");
        let end = after_open + xmp[after_open..].find(&close)?;
        return Some(&xmp[after_open..end]);
    }
    None
}

/// Walks "Photoshop 3.0" image-resource blocks: `8BIM`, id (u16), Pascal name padded to even
/// length, size (u32), data padded to even length.
fn read_photoshop_resources(segment: &[u8], facts: &mut MetadataFacts) {
    let Some(mut rest) = segment.strip_prefix(b"Photoshop 3.0\0") else { return };
    while rest.len() >= 12 && rest.starts_with(b"8BIM") {
        let id = u16::from_be_bytes([rest[4], rest[5]]);
        let name_len = usize::from(rest[6]);
        let name_field = (1 + name_len).next_multiple_of(2);
        let Some(size_bytes) = rest.get(6 + name_field..10 + name_field) else { return };
        let size = u32::from_be_bytes([size_bytes[0], size_bytes[1], size_bytes[2], size_bytes[3]]) as usize;
        let data_start = 10 + name_field;
        let Some(data) = rest.get(data_start..data_start.saturating_add(size)) else { return };
        facts.photoshop_resources.push(id);
        match id {
            // Version info: u32 version, bool, then the writer's name as a Unicode string.
            0x0421 => {
                if let Some(writer) = unicode_string(data.get(5..).unwrap_or_default()) {
                    facts.traces.push(SoftwareTrace { source: "photoshop.VersionInfo", value: writer });
                }
            }
            // JPEG quality of Photoshop's "Save As" dialog: written by Photoshop alone.
            0x0406 if data.len() >= 2 => {
                let quality = i16::from_be_bytes([data[0], data[1]]);
                facts.traces.push(SoftwareTrace {
                    source: "photoshop.SaveQuality",
                    value: format!("Photoshop Save As quality {quality}"),
                });
            }
            _ => {}
        }
        rest = rest.get(data_start + size.next_multiple_of(2)..).unwrap_or_default();
    }
}

/// A Photoshop Unicode string: u32 length in UTF-16 code units, then big-endian UTF-16.
fn unicode_string(data: &[u8]) -> Option<String> {
    let length = u32::from_be_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let units: Vec<u16> = data
        .get(4..4 + length.min(MAX_VALUE_CHARS) * 2)?
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    Some(clean(&String::from_utf16_lossy(&units))).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn readers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), text in ".{0,300}") {
            let mut segment = b"Photoshop 3.0\0".to_vec();
            segment.extend(&bytes);
            read_photoshop_resources(&segment, &mut MetadataFacts::default());
            let _ = unicode_string(&bytes);
            let _ = xmp_values(&text, "CreatorTool");
            let _ = xmp_element(&text, "DocumentAncestors");
            let _ = photoshop_history(&text);
        }
    }

    #[test]
    fn reads_xmp_attributes_and_elements() {
        let xmp = r#"<rdf:Description xmp:CreatorTool="Adobe Photoshop CS6 (Windows)">
            <xmpMM:History><rdf:Seq>
              <rdf:li stEvt:action="created" stEvt:softwareAgent="Adobe Photoshop CS6 (Windows)"/>
              <rdf:li><stEvt:action>saved</stEvt:action><stEvt:softwareAgent>GIMP 2.10</stEvt:softwareAgent></rdf:li>
            </rdf:Seq></xmpMM:History>
            <xmpMM:DerivedFrom stRef:instanceID="xmp.iid:1"/>
            <photoshop:DocumentAncestors><rdf:Bag><rdf:li>xmp.did:a</rdf:li><rdf:li>xmp.did:b</rdf:li></rdf:Bag></photoshop:DocumentAncestors>
          </rdf:Description>"#;
        assert_eq!(xmp_values(xmp, "CreatorTool"), ["Adobe Photoshop CS6 (Windows)"]);
        assert_eq!(xmp_values(xmp, "softwareAgent"), ["Adobe Photoshop CS6 (Windows)", "GIMP 2.10"]);
        assert_eq!(xmp_values(xmp, "action"), ["created", "saved"], "attribute and element forms, once each");
        assert_eq!(xmp_element(xmp, "DocumentAncestors").unwrap().matches("<rdf:li").count(), 2);
        assert_eq!(
            xmp_values(r#"<x xap:CreatorTool="Adobe Photoshop Elements 7.0"/>"#, "CreatorTool").len(),
            1
        );
        assert!(xmp_values("<x:xmpmeta", "CreatorTool").is_empty());
        assert!(xmp_values("xmp:CreatorTool=\"unterminated", "CreatorTool").is_empty());
        assert!(xmp_values("<xmp:CreatorTool>unterminated", "CreatorTool").is_empty());
    }

    #[test]
    fn photoshop_history_log_is_read_and_names_photoshop() {
        let element = "<rdf:Description><xmpMM:History><rdf:Seq/></xmpMM:History>\
            <photoshop:History>2024-03-01T10:02:11+09:00&#x9;File scan.jpg opened&#xA;2024-03-01T10:04:40+09:00&#x9;File scan.jpg saved\n2024-03-01 Type layer edited\n</photoshop:History></rdf:Description>";
        assert!(photoshop_history(element).unwrap().contains("scan.jpg opened"));
        assert_eq!(
            photoshop_history("<x photoshop:History='File a.jpg opened'/>").as_deref(),
            Some("File a.jpg opened")
        );
        assert_eq!(photoshop_history("<photoshop:History> </photoshop:History>"), None);
        assert_eq!(photoshop_history("<xmpMM:History><rdf:Seq/></xmpMM:History>"), None);
        let container =
            ContainerFacts { xmp: Some(element.as_bytes().to_vec()), ..ContainerFacts::default() };
        let facts = read_metadata_facts(&container);
        assert_eq!(facts.photoshop_history_entries, 3);
        assert_eq!(facts.traces.len(), 1);
        assert_eq!(facts.traces[0].source, "xmp.photoshop.History");
        assert!(facts.traces[0].value.starts_with("Adobe Photoshop history log: 2024-03-01"));
    }

    fn resource(id: u16, data: &[u8]) -> Vec<u8> {
        let mut out = b"8BIM".to_vec();
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&[0, 0]); // empty Pascal name, padded
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(0);
        }
        out
    }

    #[test]
    fn reads_photoshop_resources() {
        let mut segment = b"Photoshop 3.0\0".to_vec();
        segment.extend(resource(0x0404, b"iptc"));
        segment.extend(resource(0x0406, &[0, 8, 0, 1]));
        let mut version = vec![0, 0, 0, 1, 1];
        let writer: Vec<u16> = "Adobe Photoshop".encode_utf16().collect();
        version.extend_from_slice(&(writer.len() as u32).to_be_bytes());
        version.extend(writer.iter().flat_map(|unit| unit.to_be_bytes()));
        segment.extend(resource(0x0421, &version));
        let mut facts = MetadataFacts::default();
        read_photoshop_resources(&segment, &mut facts);
        assert_eq!(facts.photoshop_resources, [0x0404, 0x0406, 0x0421]);
        let values: Vec<&str> = facts.traces.iter().map(|t| t.value.as_str()).collect();
        assert_eq!(values, ["Photoshop Save As quality 8", "Adobe Photoshop"]);
    }

    #[test]
    fn truncated_resources_stop_quietly() {
        let mut segment = b"Photoshop 3.0\0".to_vec();
        segment.extend(resource(0x0406, &[0, 8, 0, 1]));
        for end in 0..segment.len() {
            let mut facts = MetadataFacts::default();
            read_photoshop_resources(&segment[..end], &mut facts);
        }
    }
}
