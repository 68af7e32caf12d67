//! Photo substitution: a local-manipulation region that lies on the document's portrait zone.
//!
//! The schemes the advisories describe put another person's photo on a real person's card. The local
//! maps (error level, compression, noise) find regions that disagree with the rest of the image;
//! alone such a region only adds risk, since content makes some. A region on the portrait zone of the
//! located document is the edit that matters most, and on `eval-tamper` none fell there on an
//! unedited card (see `portrait_min_overlap` in `models/tamper.toml`).

use crate::analysis::fingerprint::document::{ZoneBox, from_unit_square};
use crate::domain::findings::{Evidence, Finding, ReasonCode, Region};
use crate::domain::report::DocumentOutline;

/// The local findings whose regions can show a replaced portrait.
const LOCAL_REGION_CODES: [ReasonCode; 3] = [
    ReasonCode::TamperErrorLevelAnomaly,
    ReasonCode::TamperDoubleCompressionLocal,
    ReasonCode::TamperNoiseInconsistency,
];

/// `tamper.portrait_anomaly` when at least `min_overlap` of a local finding's region lies on the
/// portrait zone (`zone`, card fractions) of `outline`, the card either way up: the strongest such
/// region, with the zone it lies on.
pub fn portrait_finding(
    findings: &[Finding],
    outline: &DocumentOutline,
    zone: ZoneBox,
    min_overlap: f64,
) -> Option<Finding> {
    let turned = [1.0 - zone[2], 1.0 - zone[3], 1.0 - zone[0], 1.0 - zone[1]];
    let zones = [("upright", zone_in_image(outline, zone)?), ("turned", zone_in_image(outline, turned)?)];
    let (source, region, (way_up, zone_box), overlap) = findings
        .iter()
        .filter(|finding| LOCAL_REGION_CODES.contains(&finding.code))
        .flat_map(|finding| finding.regions.iter().map(move |region| (finding, region)))
        .flat_map(|(finding, region)| zones.map(|zone| (finding, region, zone, share_inside(region, zone.1))))
        .filter(|&(.., overlap)| overlap >= min_overlap)
        .max_by(|a, b| a.0.score.total_cmp(&b.0.score).then(a.3.total_cmp(&b.3)))?;
    let evidence = vec![
        Evidence::text("local_finding", source.code.as_str()),
        Evidence::text("map", region.label.clone()),
        Evidence::number("share_on_portrait", (overlap * 100.0).round() / 100.0),
        Evidence::number("min_share_on_portrait", min_overlap),
        Evidence::text("card_way_up", way_up),
    ];
    let mut finding = Finding::new(
        ReasonCode::TamperPortraitAnomaly,
        source.score,
        "a region that differs from the rest of the image lies on the document's portrait",
        evidence,
    );
    let (x, y, width, height) = zone_box;
    finding.regions = vec![region.clone(), Region { x, y, width, height, label: "portrait_zone".to_owned() }];
    Some(finding)
}

/// Bounding box (x, y, width, height, image pixels) of `zone` mapped through the outline's corners
/// (clockwise from the landscape top-left), as the fingerprints rectify the card; `None` when the
/// corners are degenerate.
fn zone_in_image(outline: &DocumentOutline, zone: ZoneBox) -> Option<(u32, u32, u32, u32)> {
    let to_image = from_unit_square(&outline.corners)?;
    let points = [(zone[0], zone[1]), (zone[2], zone[1]), (zone[2], zone[3]), (zone[0], zone[3])]
        .map(|corner| to_image * corner);
    let (x0, x1) = points.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| (lo.min(p.0), hi.max(p.0)));
    let (y0, y1) = points.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let (x0, y0, x1, y1) = (x0.max(0.0).round(), y0.max(0.0).round(), x1.round(), y1.round());
    Some((x0 as u32, y0 as u32, (x1 - x0).max(0.0) as u32, (y1 - y0).max(0.0) as u32))
}

/// The share of `region`'s area inside `zone` (x, y, width, height).
fn share_inside(region: &Region, zone: (u32, u32, u32, u32)) -> f64 {
    let across = (region.x + region.width).min(zone.0 + zone.2).saturating_sub(region.x.max(zone.0));
    let down = (region.y + region.height).min(zone.1 + zone.3).saturating_sub(region.y.max(zone.1));
    let area = f64::from(region.width) * f64::from(region.height);
    if area == 0.0 { 0.0 } else { f64::from(across) * f64::from(down) / area }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outline(corners: [(f32, f32); 4]) -> DocumentOutline {
        DocumentOutline { located: true, corners }
    }

    fn noise_finding(x: u32, y: u32, width: u32, height: u32) -> Finding {
        let mut finding = Finding::new(ReasonCode::TamperNoiseInconsistency, 0.7, "noise", Vec::new());
        finding.regions = vec![Region { x, y, width, height, label: "noise".to_owned() }];
        finding
    }

    const PORTRAIT: ZoneBox = [0.0, 0.15, 0.34, 1.0];

    #[test]
    fn a_region_on_the_portrait_either_way_up_is_a_portrait_anomaly() {
        // A flat 1000 x 600 card: the portrait zone is x 0..340, y 90..600 upright; x 660..1000,
        // y 0..510 turned.
        let card = outline([(0.0, 0.0), (1000.0, 0.0), (1000.0, 600.0), (0.0, 600.0)]);
        let found = portrait_finding(&[noise_finding(40, 200, 200, 300)], &card, PORTRAIT, 0.5).unwrap();
        assert_eq!(found.code, ReasonCode::TamperPortraitAnomaly);
        assert_eq!(
            found.regions[1],
            Region { x: 0, y: 90, width: 340, height: 510, label: "portrait_zone".into() }
        );
        assert!(found.evidence.contains(&Evidence::text("card_way_up", "upright")));
        let turned = portrait_finding(&[noise_finding(700, 100, 200, 300)], &card, PORTRAIT, 0.5).unwrap();
        assert_eq!((turned.regions[1].x, turned.regions[1].y), (660, 0));

        assert!(
            portrait_finding(&[noise_finding(420, 100, 200, 300)], &card, PORTRAIT, 0.5).is_none(),
            "data"
        );
        let half_on = noise_finding(240, 200, 200, 300);
        assert!(portrait_finding(std::slice::from_ref(&half_on), &card, PORTRAIT, 0.5).is_some());
        assert!(portrait_finding(&[half_on], &card, PORTRAIT, 0.6).is_none(), "half of it is under 0.6");
    }

    #[test]
    fn the_zone_follows_a_tilted_outline_and_other_findings_do_not_count() {
        // The card photographed smaller, shifted and tilted: the zone moves with it.
        let card = outline([(210.0, 120.0), (710.0, 150.0), (690.0, 450.0), (190.0, 420.0)]);
        let (x, y, width, height) = zone_in_image(&card, PORTRAIT).unwrap();
        assert!((190..=200).contains(&x) && (160..=170).contains(&y), "{x} {y}");
        assert!((185..=195).contains(&width) && (250..=275).contains(&height), "{width} {height}");
        assert!(portrait_finding(&[noise_finding(200, 200, 150, 200)], &card, PORTRAIT, 0.5).is_some());
        let mut copy_move = noise_finding(200, 200, 150, 200);
        copy_move.code = ReasonCode::TamperCopyMove;
        assert!(
            portrait_finding(&[copy_move], &card, PORTRAIT, 0.5).is_none(),
            "copy-move reviews on its own"
        );
    }
}
