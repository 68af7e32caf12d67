//! `idforensics eval-mrz`: the MRZ reader on captured documents it was not tuned on.
//!
//! Generated TD1 card backs and TD3 passport pages, each zone valid or with one digit altered,
//! are captured by a phone or a scanner (the shared capture chain: perspective, blur, noise,
//! sharpening, the device's JPEG) and analysed as uploads. Reported: the read rate (every character
//! right), how many valid zones were fully validated, altered zones flagged, valid zones falsely
//! flagged, and zones found on generated cards that carry none. For the document-number match: each
//! valid zone is captured a second time on another card (another holder's face and data), and
//! reported are the pairs whose two readings give one number (linked), validated readings whose
//! number is not the printed one, and readings of different documents that give one number (false
//! links).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::analysis::decode::planes::working_planes;
use crate::analysis::decode::{DecodeLimits, decode};
use crate::analysis::fingerprint::document::DocumentLocation;
use crate::analysis::mrz::text::{MrzFormat, MrzText};
use crate::analysis::mrz::{MrzReport, assess_mrz};
use crate::domain::findings::ReasonCode;
use crate::engine::Models;
use crate::eval::synthetic::capture::{CaptureSettings, Device, capture};
use crate::eval::synthetic::cards::Template;
use crate::eval::synthetic::mrz_documents::{alter_one_digit, random_zone, td1_card, td3_page};
use crate::eval::synthetic::ocr_b::OcrB;

/// What to generate.
#[derive(Debug, Clone)]
pub struct MrzEvalConfig {
    /// Documents per format and device.
    pub documents: usize,
    /// Random seed.
    pub seed: u64,
}

/// Counts for one format captured by one device.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MrzRow {
    /// `td1 phone`, `td3 scanner`, ...
    pub case: String,
    /// Documents with a valid zone.
    pub valid: usize,
    /// ... read exactly, every character.
    pub read_exactly: usize,
    /// ... read and every check digit judged and passing.
    pub validated: usize,
    /// ... flagged `tamper.mrz_check_digit` (false flags).
    pub falsely_flagged: usize,
    /// Documents with one digit altered.
    pub altered: usize,
    /// ... flagged `tamper.mrz_check_digit`.
    pub altered_flagged: usize,
    /// Documents of either kind whose zone was found but judged inconclusive.
    pub inconclusive: usize,
    /// Valid documents whose second capture, on another card, gives the same document number key
    /// (both readings fully valid, one issuing state and number).
    pub linked: usize,
    /// Fully valid readings (of either capture) whose issuing state or number is not the printed one.
    pub wrong_number: usize,
}

/// The evaluation's result.
#[derive(Debug, Clone, Serialize)]
pub struct MrzEvaluation {
    /// The seed.
    pub seed: u64,
    /// One row per format and device.
    pub rows: Vec<MrzRow>,
    /// Captured cards without a zone.
    pub cards_without_zone: usize,
    /// ... on which a zone was read.
    pub zones_found_without_one: usize,
    /// ... flagged `tamper.mrz_check_digit`.
    pub flagged_without_one: usize,
    /// Fully valid readings of documents with different printed numbers that give one number.
    pub false_links: usize,
    /// Fully valid readings compared for it.
    pub keyed_readings: usize,
}

/// Runs the evaluation; fails when the OCR-B font is missing.
pub fn evaluate_mrz(config: &MrzEvalConfig, models: &Models) -> Result<MrzEvaluation, String> {
    let font = OcrB::system()?;
    let mut rows = Vec::new();
    // (printed, read) issuing state and number of every fully valid reading.
    let mut keyed: Vec<(String, String)> = Vec::new();
    for format in [MrzFormat::Td1, MrzFormat::Td3] {
        for device in [Device::Phone, Device::Scanner] {
            let mut row = MrzRow {
                case: format!("{} {device:?}", format.as_str()).to_lowercase(),
                ..MrzRow::default()
            };
            for index in 0..config.documents {
                let mut rng = StdRng::seed_from_u64(
                    config.seed * 1_000_003
                        + index as u64 * 7
                        + row.case.len() as u64
                        + device as u64 * 101
                        + format as u64 * 1009,
                );
                let mut lines = random_zone(format, &mut rng);
                let altered = rng.random_bool(0.5).then(|| alter_one_digit(&mut lines, format, &mut rng));
                let card = |rng: &mut StdRng| match format {
                    MrzFormat::Td1 => td1_card(&font, &Template::new(rng.random_range(0..1000)), &lines, rng),
                    _ => td3_page(&font, &lines, rng),
                };
                let captured = |rng: &mut StdRng| {
                    let image = card(rng);
                    analyse(&capture(&image, &CaptureSettings::draw(device, rng), rng).jpeg, models)
                };
                let report = captured(&mut rng);
                let flagged = report.findings.iter().any(|f| f.code == ReasonCode::TamperMrzCheckDigit);
                row.inconclusive += usize::from(!report.inconclusive.is_empty());
                if altered.is_some() {
                    row.altered += 1;
                    row.altered_flagged += usize::from(flagged);
                } else {
                    row.valid += 1;
                    row.falsely_flagged += usize::from(flagged);
                    let reading = report.reading.as_ref();
                    row.read_exactly += usize::from(reading.is_some_and(|r| r.text.lines == lines));
                    row.validated += usize::from(reading.is_some_and(|r| r.fully_valid()));
                    let printed = MrzText::parse(&lines.join("\n")).map_err(|e| e.to_string())?;
                    let printed = number_of(&printed);
                    let second = captured(&mut rng);
                    let numbers: Vec<String> = [reading, second.reading.as_ref()]
                        .into_iter()
                        .flatten()
                        .filter(|r| r.fully_valid())
                        .map(|r| number_of(&r.text))
                        .collect();
                    row.linked += usize::from(numbers.len() == 2 && numbers[0] == numbers[1]);
                    row.wrong_number += numbers.iter().filter(|number| **number != printed).count();
                    keyed.extend(numbers.into_iter().map(|number| (printed.clone(), number)));
                }
            }
            rows.push(row);
        }
    }
    let (mut found, mut flagged) = (0, 0);
    let cards_without_zone = config.documents * 2;
    for index in 0..cards_without_zone {
        let mut rng = StdRng::seed_from_u64(config.seed * 7_000_003 + index as u64);
        let template = Template::new(rng.random_range(0..1000));
        let card = template.render(&template.holder(&mut rng));
        let device = if index % 2 == 0 { Device::Phone } else { Device::Scanner };
        let report =
            analyse(&capture(&card, &CaptureSettings::draw(device, &mut rng), &mut rng).jpeg, models);
        found += usize::from(report.reading.is_some());
        flagged += usize::from(report.findings.iter().any(|f| f.code == ReasonCode::TamperMrzCheckDigit));
    }
    let mut false_links = 0;
    for (index, (printed, read)) in keyed.iter().enumerate() {
        false_links += keyed[index + 1..]
            .iter()
            .filter(|(other_printed, other_read)| other_read == read && other_printed != printed)
            .count();
    }
    Ok(MrzEvaluation {
        seed: config.seed,
        rows,
        cards_without_zone,
        zones_found_without_one: found,
        flagged_without_one: flagged,
        false_links,
        keyed_readings: keyed.len(),
    })
}

/// What the document-number key is made of: issuing state and number.
fn number_of(text: &MrzText) -> String {
    format!("{}/{}", text.issuing_state(), text.document_number())
}

/// The MRZ analysis of one upload, as the engine runs it.
fn analyse(jpeg: &[u8], models: &Models) -> MrzReport {
    let document = decode(jpeg, &DecodeLimits::default()).expect("generated captures decode");
    let planes = working_planes(&document.rgb, models.quality.working_long_side);
    let location = DocumentLocation::find(&planes, &models.reuse.layout);
    assess_mrz(&document.rgb, &planes, location.outline(), &models.mrz)
}

impl MrzEvaluation {
    /// The Markdown report.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("# MRZ evaluation (seed {})\n\n", self.seed);
        out.push_str("| case | valid | read exactly | validated | falsely flagged | altered | altered flagged | inconclusive | linked to a 2nd capture | wrong number |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for row in &self.rows {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                row.case,
                row.valid,
                row.read_exactly,
                row.validated,
                row.falsely_flagged,
                row.altered,
                row.altered_flagged,
                row.inconclusive,
                row.linked,
                row.wrong_number
            ));
        }
        out.push_str(&format!(
            "\nCards without a zone: {}; a zone read on {}, flagged {}.\n",
            self.cards_without_zone, self.zones_found_without_one, self.flagged_without_one
        ));
        out.push_str(&format!(
            "Document numbers: {} fully valid readings, {} pairs of different documents giving one number.\n",
            self.keyed_readings, self.false_links
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use image::RgbImage;

    use super::*;
    use crate::eval::synthetic::ocr_b::font_for_tests;

    const ICAO_TD1: [&str; 3] = [
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    ];
    const ICAO_TD3: [&str; 2] =
        ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"];

    /// The MRZ analysis of `document` captured by `device`, as the engine runs it.
    fn captured(document: &RgbImage, device: Device, seed: u64) -> MrzReport {
        let mut rng = StdRng::seed_from_u64(seed);
        analyse(
            &capture(document, &CaptureSettings::draw(device, &mut rng), &mut rng).jpeg,
            &Models::embedded(),
        )
    }

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn the_icao_specimens_are_read_and_validated_on_a_captured_card_and_page() {
        let Some(font) = font_for_tests() else { return };
        let mut rng = StdRng::seed_from_u64(0x4D52_5A01);
        let card = td1_card(&font, &Template::new(901), &lines(&ICAO_TD1), &mut rng);
        let page = td3_page(&font, &lines(&ICAO_TD3), &mut rng);
        for (document, expected, device) in
            [(card, &ICAO_TD1[..], Device::Phone), (page, &ICAO_TD3[..], Device::Scanner)]
        {
            let report = captured(&document, device, 0x4D52_5A02);
            let reading = report.reading.as_ref().expect("the zone is read");
            assert_eq!(reading.text.lines, expected);
            assert!(reading.fully_valid(), "{reading:?}");
            assert!(report.findings.is_empty() && report.inconclusive.is_empty(), "{report:?}");
        }
    }

    #[test]
    fn one_altered_digit_is_flagged_with_the_field_it_breaks() {
        let Some(font) = font_for_tests() else { return };
        for seed in 0..4 {
            let mut rng = StdRng::seed_from_u64(0x4D52_5A03 + seed);
            let mut zone = random_zone(MrzFormat::Td1, &mut rng);
            let field = alter_one_digit(&mut zone, MrzFormat::Td1, &mut rng);
            let card = td1_card(&font, &Template::new(902), &zone, &mut rng);
            let report = captured(&card, Device::Phone, 0x4D52_5A30 + seed);
            let Some(finding) = report.findings.first() else {
                // A document number may hold a letter the reader cannot tell from its lookalike
                // digit (`O`/`0`): a broken number is then inconclusive, never a claim.
                assert!(
                    field == "document_number"
                        && report.inconclusive.iter().any(|i| i.reason.contains(field)),
                    "the altered {field} is neither flagged nor inconclusive: {report:?}"
                );
                continue;
            };
            assert_eq!(finding.code, ReasonCode::TamperMrzCheckDigit);
            let fields = finding.evidence.iter().find(|e| e.name == "fields").unwrap();
            assert_eq!(
                fields.value,
                crate::domain::findings::EvidenceValue::Text(format!("{field},composite"))
            );
            assert_eq!(finding.regions[0].label, "mrz");
        }
    }

    #[test]
    fn a_card_without_a_zone_gives_no_reading_and_no_finding() {
        let template = Template::new(903);
        let mut rng = StdRng::seed_from_u64(0x4D52_5A05);
        let card = template.render(&template.holder(&mut rng));
        let report = captured(&card, Device::Phone, 0x4D52_5A06);
        assert!(report.reading.is_none() && report.findings.is_empty(), "{report:?}");
    }

    #[test]
    fn generated_td3_pages_pass_every_check_digit_as_read() {
        let Some(font) = font_for_tests() else { return };
        for seed in 0..3 {
            let mut rng = StdRng::seed_from_u64(0x4D52_5A10 + seed);
            let zone = random_zone(MrzFormat::Td3, &mut rng);
            let report = captured(&td3_page(&font, &zone, &mut rng), Device::Phone, 0x4D52_5A20 + seed);
            assert_eq!(report.reading.map(|r| r.text.lines), Some(zone));
        }
    }
}
