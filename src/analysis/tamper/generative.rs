//! What a file's own metadata says about generative models: an IPTC Digital Source Type in XMP
//! (the vocabulary C2PA also uses), the text image-generation tools write (PNG text chunks, the EXIF
//! UserComment), and generators named as the writing software. Signatures live in
//! `models/generators.toml`, each with its source.
//!
//! This reads statements, not pixels: a file without them says nothing either way, and a statement
//! is evidence a reviewer can read back.

use serde::Deserialize;

use crate::analysis::decode::ContainerFacts;
use crate::analysis::tamper::metadata::{MetadataFacts, SoftwareTrace};
use crate::domain::findings::{Evidence, Finding, ReasonCode};

/// What a signature says about the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// A model made the picture: `tamper.ai_generated`.
    Generated,
    /// A model made part of it: `tamper.ai_edited`.
    Edited,
}

/// An IPTC Digital Source Type term.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceTypeSignature {
    /// The term (`trainedAlgorithmicMedia`).
    pub term: String,
    /// What it says.
    pub verdict: Verdict,
    /// Where the meaning comes from.
    pub source: String,
}

/// Text a generator writes into a field.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextSignature {
    /// The tool.
    pub tool: String,
    /// `png.<keyword>` or `exif.UserComment`.
    pub field: String,
    /// Strings the text must all contain.
    pub contains: Vec<String>,
    /// What it says.
    pub verdict: Verdict,
    /// Where the signature comes from.
    pub source: String,
}

/// A generator named as the writing software.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorSoftware {
    /// The generator.
    pub name: String,
    /// Lowercase substrings of the software name.
    pub patterns: Vec<String>,
    /// What it says.
    pub verdict: Verdict,
    /// Where the signature comes from.
    pub source: String,
}

/// `models/generators.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorSignatures {
    /// The file's version.
    pub version: String,
    /// Digital Source Type terms.
    pub source_types: Vec<SourceTypeSignature>,
    /// Generators' text.
    pub texts: Vec<TextSignature>,
    /// Generators' software names.
    pub software: Vec<GeneratorSoftware>,
}

impl GeneratorSignatures {
    /// The generator a software name names, if any.
    pub fn generator(&self, software: &str) -> Option<&GeneratorSoftware> {
        let software = software.to_lowercase();
        self.software
            .iter()
            .find(|generator| generator.patterns.iter().any(|p| software.contains(p.as_str())))
    }
}

/// Longest piece of a field's text quoted as evidence.
const QUOTED_CHARS: usize = 160;

/// One statement found: the field, its value, the tool or term and the verdict.
struct Statement {
    field: String,
    value: String,
    label: String,
    verdict: Verdict,
}

/// Every statement of generation the file makes.
fn statements(
    container: &ContainerFacts,
    facts: &MetadataFacts,
    signatures: &GeneratorSignatures,
) -> Vec<Statement> {
    let mut found = Vec::new();
    for value in &facts.digital_source_types {
        let term = value.rsplit('/').next().unwrap_or(value);
        if let Some(signature) = signatures.source_types.iter().find(|s| s.term.eq_ignore_ascii_case(term)) {
            let label = signature.term.clone();
            found.push(Statement {
                field: "xmp.DigitalSourceType".into(),
                value: value.clone(),
                label,
                verdict: signature.verdict,
            });
        }
    }
    let fields = container
        .png_text
        .iter()
        .map(|(keyword, text)| (format!("png.{keyword}"), text.clone()))
        .chain(facts.user_comment.iter().map(|text| ("exif.UserComment".to_owned(), text.clone())));
    for (field, text) in fields {
        let matching = signatures.texts.iter().find(|signature| {
            signature.field == field && signature.contains.iter().all(|needle| text.contains(needle.as_str()))
        });
        if let Some(signature) = matching {
            let value = text.chars().filter(|c| !c.is_control()).take(QUOTED_CHARS).collect();
            found.push(Statement { field, value, label: signature.tool.clone(), verdict: signature.verdict });
        }
    }
    for SoftwareTrace { source, value } in &facts.traces {
        if let Some(generator) = signatures.generator(value) {
            let label = generator.name.clone();
            found.push(Statement {
                field: (*source).into(),
                value: value.clone(),
                label,
                verdict: generator.verdict,
            });
        }
    }
    found
}

/// `tamper.ai_generated` and `tamper.ai_edited`, one finding each at most, with every statement
/// behind it as evidence (field → value).
pub fn generative_findings(
    container: &ContainerFacts,
    facts: &MetadataFacts,
    signatures: &GeneratorSignatures,
) -> Vec<Finding> {
    let found = statements(container, facts, signatures);
    [(Verdict::Generated, ReasonCode::TamperAiGenerated), (Verdict::Edited, ReasonCode::TamperAiEdited)]
        .into_iter()
        .filter_map(|(verdict, code)| {
            let mine: Vec<&Statement> = found.iter().filter(|s| s.verdict == verdict).collect();
            let first = mine.first()?;
            let mut evidence = vec![Evidence::text("stated_by", first.label.clone())];
            for statement in &mine {
                // Evidence names are keys: the first value of each field.
                if !evidence.iter().any(|e| e.name == statement.field) {
                    evidence.push(Evidence::text(statement.field.clone(), statement.value.clone()));
                }
            }
            let message = match verdict {
                Verdict::Generated => {
                    format!("the file's metadata states it was generated by a model ({})", first.label)
                }
                Verdict::Edited => {
                    format!("the file's metadata states part of it was made by a model ({})", first.label)
                }
            };
            Some(Finding::new(code, 1.0, message, evidence))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ascii, codes_of, jpeg_with_exif, with_xmp};
    use crate::domain::findings::ReasonCode::{
        self, TamperAiEdited, TamperAiGenerated, TamperEditingSoftware,
    };

    fn xmp(attributes: &str) -> String {
        format!(
            r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" {attributes}/></rdf:RDF></x:xmpmeta>"#
        )
    }

    fn camera_jpeg() -> Vec<u8> {
        jpeg_with_exif(64, 48, &[ascii(exif::Tag::DateTimeOriginal, "2025:05:01 10:00:00")])
    }

    #[test]
    fn each_digital_source_type_in_xmp() {
        let stated = |term: &str| {
            let value = format!("http://cv.iptc.org/newscodes/digitalsourcetype/{term}");
            codes_of(&with_xmp(&camera_jpeg(), &xmp(&format!("Iptc4xmpExt:DigitalSourceType=\"{value}\""))))
        };
        assert_eq!(stated("trainedAlgorithmicMedia"), [TamperAiGenerated]);
        assert_eq!(stated("algorithmicMedia"), [TamperAiGenerated]);
        assert_eq!(stated("compositeWithTrainedAlgorithmicMedia"), [TamperAiEdited]);
        assert_eq!(stated("compositeSynthetic"), [TamperAiEdited]);
        assert!(stated("digitalCapture").is_empty(), "a camera's own statement");
        // The element form, as some toolkits write it.
        let element = "<x:xmpmeta><rdf:RDF><rdf:Description><Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType></rdf:Description></rdf:RDF></x:xmpmeta>";
        assert_eq!(codes_of(&with_xmp(&camera_jpeg(), element)), [TamperAiGenerated]);
    }

    #[test]
    fn an_editor_with_a_generative_edit_is_both_and_a_generator_is_only_itself() {
        let filled = xmp("xmp:CreatorTool=\"Adobe Photoshop 25.0 (Windows)\" \
             Iptc4xmpExt:DigitalSourceType=\"http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia\"");
        assert_eq!(codes_of(&with_xmp(&camera_jpeg(), &filled)), [TamperEditingSoftware, TamperAiEdited]);
        for generator in ["NovelAI", "Adobe Firefly Image 3"] {
            let file = jpeg_with_exif(64, 48, &[ascii(exif::Tag::Software, generator)]);
            assert_eq!(codes_of(&file), [TamperAiGenerated], "{generator}");
        }
    }

    /// The UserComment as piexif writes it: `UNICODE\0` and UTF-16 big-endian.
    fn user_comment(text: &str) -> exif::Field {
        let mut bytes = b"UNICODE\0".to_vec();
        bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        exif::Field {
            tag: exif::Tag::UserComment,
            ifd_num: exif::In::PRIMARY,
            value: exif::Value::Undefined(bytes, 0),
        }
    }

    #[test]
    fn stable_diffusion_parameters_in_a_jpeg_user_comment() {
        let parameters = "portrait photo of a man, ID card\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1234, Size: 512x512";
        let generated = jpeg_with_exif(64, 48, &[user_comment(parameters)]);
        assert_eq!(codes_of(&generated), [TamperAiGenerated]);
        assert!(
            codes_of(&jpeg_with_exif(64, 48, &[user_comment("holiday in Kyoto, Seed: none")])).is_empty()
        );
    }

    /// A PNG text chunk: (kind, keyword, text).
    type TextChunk = (&'static str, &'static str, &'static str);

    /// A real PNG (the `png` crate's encoder) with text chunks.
    fn png_with_text(chunks: &[TextChunk]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, 32, 24);
            encoder.set_color(png::ColorType::Rgb);
            for &(kind, keyword, text) in chunks {
                let (keyword, text) = (keyword.to_owned(), text.to_owned());
                match kind {
                    "tEXt" => encoder.add_text_chunk(keyword, text).unwrap(),
                    "zTXt" => encoder.add_ztxt_chunk(keyword, text).unwrap(),
                    _ => encoder.add_itxt_chunk(keyword, text).unwrap(),
                }
            }
            let mut writer = encoder.write_header().unwrap();
            let pixels: Vec<u8> = (0..32 * 24 * 3).map(|i| (i * 7 % 251) as u8).collect();
            writer.write_image_data(&pixels).unwrap();
        }
        out
    }

    #[test]
    fn png_text_as_generators_write_it() {
        let automatic1111 =
            "a passport photo\nSteps: 30, Sampler: DPM++ 2M, CFG scale: 6, Seed: 42, Model: sdxl";
        let comfy_prompt = r#"{"3": {"inputs": {"seed": 42, "steps": 20}, "class_type": "KSampler"}}"#;
        let comfy_workflow = r#"{"last_node_id": 9, "nodes": [{"id": 3, "type": "KSampler"}]}"#;
        let cases: [(&[TextChunk], &[ReasonCode]); 6] = [
            (&[("tEXt", "parameters", automatic1111)], &[TamperAiGenerated]),
            (&[("zTXt", "parameters", automatic1111)], &[TamperAiGenerated]),
            (&[("tEXt", "prompt", comfy_prompt), ("tEXt", "workflow", comfy_workflow)], &[TamperAiGenerated]),
            (&[("iTXt", "invokeai_metadata", r#"{"generation_mode": "txt2img"}"#)], &[TamperAiGenerated]),
            (
                &[("tEXt", "Software", "NovelAI"), ("tEXt", "Source", "Stable Diffusion XL")],
                &[TamperAiGenerated],
            ),
            (&[("tEXt", "parameters", "exported by a scanner app"), ("tEXt", "prompt", "say cheese")], &[]),
        ];
        for (chunks, expected) in cases {
            assert_eq!(codes_of(&png_with_text(chunks)), expected, "{chunks:?}");
        }
    }
}
