//! The locator: finds the card's four corners in the working planes (colour regions, edges, the
//! largest card-shaped contour, sides refitted to the edges), or gives up so the whole frame is read.

use super::*;

/// The card's four corners, the most plausible framing first, or `None` when no outline covers
/// enough of the frame.
pub(super) fn locate_card(rgb: &RgbImage, layout: &DocumentLayout) -> Option<Vec<(Framing, Quad)>> {
    let (width, height) = rgb.dimensions();
    let scale = (width.max(height) as f32 / layout.locate_long_side as f32).max(1.0);
    let small = if scale > 1.0 {
        let (w, h) = ((width as f32 / scale).round() as u32, (height as f32 / scale).round() as u32);
        resize_triangle(rgb, w.max(1), h.max(1))
    } else {
        rgb.clone()
    };
    let (small_width, small_height) = small.dimensions();
    if small_width < 16 || small_height < 16 {
        return None;
    }
    let luma = GrayImage::from_fn(small_width, small_height, |x, y| {
        let [r, g, b] = small.get_pixel(x, y).0;
        Luma([luma_of(r, g, b)])
    });
    let tuning = &layout.locator;
    let edges = dilate(&colour_edges(&small, &luma, tuning), Norm::LInf, 1);
    let print = print_edges(&luma, layout.min_print_gradient);
    let frame_area = f64::from(small_width) * f64::from(small_height);
    // Every closed border (outer, or a hole inside a larger edge region as happens on a textured
    // table) is a candidate; the largest whose four sides lie on edges is the card. A flat scan has
    // no edge along the frame, so nothing qualifies and the frame is the document.
    let best = find_contours::<i32>(&edges)
        .into_iter()
        .filter(|contour| contour.points.len() >= 8)
        .map(|contour| convex_hull(contour.points))
        .chain(colour_regions(&small, layout.region_tolerance, tuning).into_iter().map(convex_hull))
        .map(|hull| (contour_area(&hull), hull))
        .filter(|(area, _)| *area >= layout.min_card_area * frame_area)
        .flat_map(|(area, hull)| [(area, four_corners(&hull)), (area, min_area_rect(&hull))])
        .filter(|(_, quad)| {
            card_shaped(quad, layout)
                && with_lost_bands(quad, layout)
                    .iter()
                    .any(|quad| print_inside(&print, quad) >= layout.min_print_inside)
                && sides_with_contrast(&small, quad, layout.min_side_contrast) >= 3
        })
        .map(|(area, quad)| (area, edge_support(&edges, &quad), quad))
        .filter(|(_, support, _)| *support >= layout.min_edge_support)
        .max_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)))?;
    let outline = landscape_order(refine_corners(&edges, &best.2, tuning).map(|(x, y)| (x as f32, y as f32)));
    let framings =
        std::iter::once((Framing::Outline, outline)).chain(banded_extensions(&small, &outline, layout));
    Some(framings.map(|(framing, quad)| (framing, quad.map(|(x, y)| (x * scale, y * scale)))).collect())
}

/// Regions of one colour that hold a seed point of the middle of the frame, as the points along
/// their left and right borders (which have the region's convex hull). A card on a striped or busy
/// table can have no closed edge of its own: the table's edges run into the card's, and print joins
/// its border to the inside. Its plain background is still one colour the table is not, so it is
/// taken by filling outward from a seed while the colour stays within `tolerance` (in every channel,
/// 0..255) of the seed's. Read at half the plane's size, which blurs away speckle and fine
/// guilloche. A header band of another colour stays outside the region, which the banded
/// extensions then look for. Hand-written: imageproc's flood fill paints a canvas from one seed by
/// exact colour; this needs a tolerance and the region's extent.
pub(super) fn colour_regions(rgb: &RgbImage, tolerance: u8, tuning: &LocatorTuning) -> Vec<Vec<Point<i32>>> {
    let seeds_per_axis = tuning.region_seeds_per_axis.max(2);
    let (width, height) = ((rgb.width() / 2).max(1), (rgb.height() / 2).max(1));
    let half = resize_triangle(rgb, width, height);
    let (w, h) = (width as usize, height as usize);
    // Seeds over the middle 60 % of each axis, where a photographed card lies.
    let at = |step: u32, size: usize| {
        (size as f32 * (0.2 + 0.6 * step as f32 / (seeds_per_axis - 1) as f32)) as usize
    };
    let mut taken = vec![false; w * h];
    let mut regions = Vec::new();
    let mut queue = Vec::new();
    for j in 0..seeds_per_axis {
        for i in 0..seeds_per_axis {
            let (x, y) = (at(i, w).min(w - 1), at(j, h).min(h - 1));
            if taken[y * w + x] {
                continue;
            }
            let seed = half.get_pixel(x as u32, y as u32).0;
            let similar = |pixel: [u8; 3]| pixel.iter().zip(seed).all(|(&c, s)| c.abs_diff(s) <= tolerance);
            // Per row, the leftmost and rightmost pixel of the region.
            let mut extent = vec![(usize::MAX, 0usize); h];
            taken[y * w + x] = true;
            queue.push((x, y));
            while let Some((x, y)) = queue.pop() {
                let row = &mut extent[y];
                *row = (row.0.min(x), row.1.max(x));
                let neighbours = [(x.wrapping_sub(1), y), (x + 1, y), (x, y.wrapping_sub(1)), (x, y + 1)];
                for (nx, ny) in neighbours {
                    if nx < w
                        && ny < h
                        && !taken[ny * w + nx]
                        && similar(half.get_pixel(nx as u32, ny as u32).0)
                    {
                        taken[ny * w + nx] = true;
                        queue.push((nx, ny));
                    }
                }
            }
            let border: Vec<Point<i32>> = extent
                .iter()
                .enumerate()
                .filter(|(_, (left, _))| *left != usize::MAX)
                .flat_map(|(y, &(left, right))| {
                    // Back to the plane's pixels: a half-size pixel covers two.
                    let (y, left, right) = (2 * y as i32, 2 * left as i32, 2 * right as i32 + 1);
                    [
                        Point::new(left, y),
                        Point::new(left, y + 1),
                        Point::new(right, y),
                        Point::new(right, y + 1),
                    ]
                })
                .collect();
            regions.push(border);
        }
    }
    regions.into_iter().filter(|border| border.len() >= 8).collect()
}

/// When the outline (landscape-ordered) is longer than a document, the outline extended along its
/// short sides, above and below, by the band that brings it to the rectified card's proportions.
/// Perspective is kept: the extension is made in the outline's own projective frame. Perspective
/// also makes the width estimate rough, so the band's far edge is placed at the outermost clear
/// colour change between 0.4 and 2.2 times that width.
/// Which side lost the band cannot be told reliably (its edge is the faint one), so both are
/// searched and neither is stored.
pub(super) fn banded_extensions(
    rgb: &RgbImage,
    outline: &[(f32, f32); 4],
    layout: &DocumentLayout,
) -> Vec<(Framing, Quad)> {
    let Some(to_outline) = from_unit_square(outline) else {
        return Vec::new();
    };
    // The outline's proportions at its centre, where perspective distorts them least: the lengths
    // its frame's unit steps across and down map to there.
    let step = |from: (f32, f32), to: (f32, f32)| {
        let (a, b) = (to_outline * from, to_outline * to);
        f64::from((a.0 - b.0).hypot(a.1 - b.1))
    };
    let aspect = step((0.45, 0.5), (0.55, 0.5)) / step((0.5, 0.45), (0.5, 0.55)).max(1e-6);
    let Some(band) = lost_band(aspect, layout) else { return Vec::new() };
    let band = band as f32;
    let centre = to_outline * (0.5, 0.5);
    // The band's far side, above (`toward` < 0) or below the outline, as a line of the outline's
    // frame (0 is its top, 1 its bottom).
    let far_side = |toward: f32| {
        let side_at = |offset: f32| {
            let v = if toward < 0.0 { -offset } else { 1.0 + offset };
            (to_outline * (0.0, v), to_outline * (1.0, v))
        };
        let steps = 48;
        let (from, span) = (layout.locator.band_search_from, layout.locator.band_search_span);
        let offsets: Vec<f32> =
            (0..=steps).map(|step| band * (from + span * step as f32 / steps as f32)).collect();
        let contrasts: Vec<f64> = offsets
            .iter()
            .map(|&offset| {
                let (a, b) = side_at(offset);
                side_contrast(rgb, a, b, centre).unwrap_or(0.0)
            })
            .collect();
        // The outermost clear colour change: rows of text inside the band also change colour, but
        // the band ends at its outer edge.
        (1..steps)
            .rev()
            .find(|&i| {
                contrasts[i] >= layout.min_side_contrast
                    && contrasts[i] >= contrasts[i - 1]
                    && contrasts[i] >= contrasts[i + 1]
            })
            .map_or_else(|| side_at(band), |i| side_at(offsets[i]))
    };
    let (top_left, top_right) = far_side(-1.0);
    let (bottom_left, bottom_right) = far_side(1.0);
    vec![
        (Framing::ExtendedUp, [top_left, top_right, outline[2], outline[3]]),
        (Framing::ExtendedDown, [outline[0], outline[1], bottom_right, bottom_left]),
    ]
}

/// A line as a point on it and a unit direction.
type Line = ((f64, f64), (f64, f64));

/// Sharpens the corners: each side becomes the line fitted (total least squares) to the edge pixels
/// along it, and each corner the crossing of its two sides. Hull vertices sit on the outside of the
/// dilated edge and on rounded corners; a few pixels of error there move the zone hashes by tens
/// of bits. A side with too few edge pixels keeps its corners, and so does one whose fitted line
/// lies on edges along less of its length than the hull's side did (by more than
/// `support_slack`): the line then followed other print, such as a header's title just inside
/// the card's edge.
pub(super) fn refine_corners(
    edges: &GrayImage,
    quad: &[Point<i32>; 4],
    tuning: &LocatorTuning,
) -> [(f64, f64); 4] {
    let original = quad.map(|p| (f64::from(p.x), f64::from(p.y)));
    let support = |a: (f64, f64), b: (f64, f64)| {
        side_support(edges, (a.0 as f32, a.1 as f32), (b.0 as f32, b.1 as f32))
    };
    let lines: Vec<Option<Line>> = (0..4)
        .map(|side| {
            let (a, b) = (original[side], original[(side + 1) % 4]);
            fit_side(edges, a, b, tuning).filter(|&line| {
                support(project_onto(line, a), project_onto(line, b)) + tuning.support_slack >= support(a, b)
            })
        })
        .collect();
    corners_of_sides(&lines, original, tuning.refine_max_move)
}

/// The point of `line` nearest to `p`.
pub(super) fn project_onto(((cx, cy), (dx, dy)): Line, p: (f64, f64)) -> (f64, f64) {
    let along = (p.0 - cx) * dx + (p.1 - cy) * dy;
    (cx + along * dx, cy + along * dy)
}

/// Each corner where its two fitted sides cross (side `i` runs from corner `i` to corner `i + 1`);
/// a corner keeps its `original` place when a side is missing or the crossing would move it by
/// more than `max_move` of the quad's diagonal.
pub(super) fn corners_of_sides(
    lines: &[Option<Line>],
    original: [(f64, f64); 4],
    max_move: f64,
) -> [(f64, f64); 4] {
    let diagonal = (original[0].0 - original[2].0).hypot(original[0].1 - original[2].1);
    std::array::from_fn(|corner| match (lines[(corner + 3) % 4], lines[corner]) {
        (Some(before), Some(after)) => intersect(before, after)
            .filter(|p| (p.0 - original[corner].0).hypot(p.1 - original[corner].1) < max_move * diagonal)
            .unwrap_or(original[corner]),
        _ => original[corner],
    })
}

/// The line (a point and a unit direction) through the edge pixels within `side_band` px of the
/// segment `a`–`b`, leaving out its first and last tenth (the corners' rounding). When fewer than
/// `side_clean_share` of those pixels lie on one line, the band has crossed other print (a corner
/// placed several pixels off, as when the frame cuts it and no edge is found there, tilts it across
/// a header's title): the side is then looked for within `side_wide_band` px, nearest the segment's
/// middle among the lines that most pixels lie on, and fitted again within `side_band` px of itself.
pub(super) fn fit_side(
    edges: &GrayImage,
    a: (f64, f64),
    b: (f64, f64),
    tuning: &LocatorTuning,
) -> Option<Line> {
    let length = (b.0 - a.0).hypot(b.1 - a.1);
    if length < tuning.min_side_length {
        return None;
    }
    let near = band_points(edges, a, b, tuning.side_band);
    let (line, inliers) = dominant_line(&near, length, None, tuning)?;
    if inliers as f64 >= tuning.side_clean_share * near.len() as f64 {
        return Some(line);
    }
    let (wide, _) = dominant_line(
        &band_points(edges, a, b, tuning.side_wide_band),
        length,
        Some(((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0)),
        tuning,
    )?;
    // The wide line's points nearest to `a` and `b`: the same stretch of the side, laid along it.
    let (a, b) = (project_onto(wide, a), project_onto(wide, b));
    dominant_line(&band_points(edges, a, b, tuning.side_band), length, None, tuning).map(|(line, _)| line)
}

/// The edge pixels within `band` px of the segment `a`–`b`, leaving out its first and last tenth.
pub(super) fn band_points(edges: &GrayImage, a: (f64, f64), b: (f64, f64), band: f64) -> Vec<(f64, f64)> {
    let length = (b.0 - a.0).hypot(b.1 - a.1);
    let direction = ((b.0 - a.0) / length, (b.1 - a.1) / length);
    let (x0, x1) = (a.0.min(b.0) - band, a.0.max(b.0) + band);
    let (y0, y1) = (a.1.min(b.1) - band, a.1.max(b.1) + band);
    let mut points = Vec::new();
    for y in (y0.max(0.0) as u32)..=(y1.min(f64::from(edges.height()) - 1.0).max(0.0) as u32) {
        for x in (x0.max(0.0) as u32)..=(x1.min(f64::from(edges.width()) - 1.0).max(0.0) as u32) {
            if edges.get_pixel(x, y).0[0] == 0 {
                continue;
            }
            let (dx, dy) = (f64::from(x) - a.0, f64::from(y) - a.1);
            let along = dx * direction.0 + dy * direction.1;
            let across = dy * direction.0 - dx * direction.1;
            if across.abs() <= band && along > 0.1 * length && along < 0.9 * length {
                points.push((f64::from(x), f64::from(y)));
            }
        }
    }
    points
}

/// The total-least-squares line through the points within 1.5 px of the line that most of them lie
/// near (lines through pairs of points spread along the side, a deterministic RANSAC), and how many
/// points that is; `None` when the side has fewer edge pixels than 30 % of its `length`. With
/// `prefer_near`, of the lines holding at least 60 % as many points as the best one, the one passing
/// closest to that point: a wide band can hold inner print parallel to the side (a portrait's frame)
/// with more edge pixels than the card's own edge against the table. Edge pixels come from a dilated
/// edge map, so a true side is a strip about 3 px wide.
pub(super) fn dominant_line(
    points: &[(f64, f64)],
    length: f64,
    prefer_near: Option<(f64, f64)>,
    tuning: &LocatorTuning,
) -> Option<(Line, usize)> {
    const TRIES_PER_HALF: usize = 8;
    if points.len() < (length * tuning.line_min_points_per_px) as usize || points.len() < 2 {
        return None;
    }
    let offset = |((cx, cy), (dx, dy)): Line, p: (f64, f64)| ((p.1 - cy) * dx - (p.0 - cx) * dy).abs();
    let whole = fit_line(points);
    let mut sorted = points.to_vec();
    let along = |p: &(f64, f64)| (p.0 - whole.0.0) * whole.1.0 + (p.1 - whole.0.1) * whole.1.1;
    sorted.sort_by(|p, q| along(p).total_cmp(&along(q)));
    let half = sorted.len() / 2;
    let mut candidates = Vec::with_capacity(TRIES_PER_HALF * TRIES_PER_HALF);
    for i in 0..TRIES_PER_HALF {
        for j in 0..TRIES_PER_HALF {
            let p = sorted[i * half / TRIES_PER_HALF];
            let q = sorted[half + j * (sorted.len() - half) / TRIES_PER_HALF];
            let span = (q.0 - p.0).hypot(q.1 - p.1);
            if span < 1.0 {
                continue;
            }
            let line: Line = (p, ((q.0 - p.0) / span, (q.1 - p.1) / span));
            let support = sorted.iter().filter(|&&point| offset(line, point) <= tuning.line_inlier).count();
            candidates.push((support, prefer_near.map_or(0.0, |point| offset(line, point)), line));
        }
    }
    let most = candidates.iter().map(|c| c.0).max()?;
    let least_support =
        if prefer_near.is_some() { (tuning.line_strong_share * most as f64).ceil() as usize } else { most };
    let (_, _, chosen) =
        candidates.into_iter().filter(|c| c.0 >= least_support).min_by(|x, y| x.1.total_cmp(&y.1))?;
    let inliers: Vec<(f64, f64)> =
        sorted.into_iter().filter(|&point| offset(chosen, point) <= tuning.line_inlier).collect();
    (inliers.len() >= 2).then(|| (fit_line(&inliers), inliers.len()))
}

/// The total-least-squares line through `points` (at least two).
pub(super) fn fit_line(points: &[(f64, f64)]) -> Line {
    let n = points.len() as f64;
    let mean = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let (mut sxx, mut sxy, mut syy) = (0f64, 0f64, 0f64);
    for p in points {
        let (dx, dy) = (p.0 - mean.0, p.1 - mean.1);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    // Principal axis of the scatter: the fitted line's direction.
    let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    (mean, (angle.cos(), angle.sin()))
}

/// Moves each side of a located outline onto the steepest colour change across it in the working
/// plane, to a fraction of a pixel: the locator's plane is up to half as sharp, and at the size a
/// card has on a table one of its pixels moves the zone hashes by about ten bits. Each side is the
/// line fitted to the steepest points found within a few pixels along its normals; a side with too
/// few clear points, or a corner that would move far, stays as it was.
pub(super) fn sharpen_outline(
    rgb: &RgbImage,
    corners: &[(f32, f32); 4],
    tuning: &LocatorTuning,
) -> [(f32, f32); 4] {
    const SAMPLES: usize = 48;
    let (reach, min_step) = (tuning.sharpen_reach, tuning.sharpen_min_step);
    let colour_at = |x: f32, y: f32| -> Option<[f32; 3]> {
        let (x0, y0) = (x.floor(), y.floor());
        if x0 < 0.0 || y0 < 0.0 || x0 + 1.0 >= rgb.width() as f32 || y0 + 1.0 >= rgb.height() as f32 {
            return None;
        }
        let (fx, fy) = (x - x0, y - y0);
        let pixel = |dx: u32, dy: u32| rgb.get_pixel(x0 as u32 + dx, y0 as u32 + dy).0;
        Some(std::array::from_fn(|c| {
            let top = f32::from(pixel(0, 0)[c]) * (1.0 - fx) + f32::from(pixel(1, 0)[c]) * fx;
            let bottom = f32::from(pixel(0, 1)[c]) * (1.0 - fx) + f32::from(pixel(1, 1)[c]) * fx;
            top * (1.0 - fy) + bottom * fy
        }))
    };
    let lines: Vec<Option<Line>> = (0..4)
        .map(|side| {
            let (a, b) = (corners[side], corners[(side + 1) % 4]);
            let length = (b.0 - a.0).hypot(b.1 - a.1);
            if length < tuning.sharpen_min_side_length {
                return None;
            }
            let normal = ((a.1 - b.1) / length, (b.0 - a.0) / length);
            let mut points = Vec::new();
            for step in 0..SAMPLES {
                let t = 0.1 + 0.8 * (step as f32 + 0.5) / SAMPLES as f32;
                let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
                let profile: Option<Vec<[f32; 3]>> = (-reach - 1..=reach + 1)
                    .map(|s| colour_at(x + s as f32 * normal.0, y + s as f32 * normal.1))
                    .collect();
                let Some(profile) = profile else { continue };
                // Steepness at offset i: the largest channel change across it.
                let steep: Vec<f32> = (1..profile.len() - 1)
                    .map(|i| {
                        (0..3).map(|c| (profile[i + 1][c] - profile[i - 1][c]).abs()).fold(0.0, f32::max)
                    })
                    .collect();
                let (best, &peak) =
                    steep.iter().enumerate().max_by(|x, y| x.1.total_cmp(y.1)).expect("non-empty profile");
                if peak < min_step || best == 0 || best == steep.len() - 1 {
                    continue;
                }
                // Parabola through the peak and its neighbours: the sub-pixel offset of the edge.
                let (left, right) = (steep[best - 1], steep[best + 1]);
                let curvature = left - 2.0 * peak + right;
                let shift = if curvature < 0.0 { 0.5 * (left - right) / curvature } else { 0.0 };
                let offset = best as f32 - reach as f32 + shift;
                points.push((f64::from(x + offset * normal.0), f64::from(y + offset * normal.1)));
            }
            (points.len() >= SAMPLES / 3).then(|| fit_line(&points))
        })
        .collect();
    corners_of_sides(&lines, corners.map(|(x, y)| (f64::from(x), f64::from(y))), tuning.sharpen_max_move)
        .map(|(x, y)| (x as f32, y as f32))
}

/// Where two lines (point, direction) cross; `None` when nearly parallel.
pub(super) fn intersect(first: Line, second: Line) -> Option<(f64, f64)> {
    let ((p, d), (q, e)) = (first, second);
    let denominator = d.0 * e.1 - d.1 * e.0;
    if denominator.abs() < 1e-6 {
        return None;
    }
    let t = ((q.0 - p.0) * e.1 - (q.1 - p.1) * e.0) / denominator;
    Some((p.0 + t * d.0, p.1 + t * d.1))
}

/// Canny edges of luma, with those of the two colour-difference planes added: a dark blue header
/// band on a dark table has hardly any luma edge but a clear colour edge. Canny smooths the plane
/// itself; the colour planes are read at half resolution (colour edges are the fallback, luma gives
/// the precise outline), which keeps the three passes under half the cost of full-size ones.
pub(super) fn colour_edges(rgb: &RgbImage, luma: &GrayImage, tuning: &LocatorTuning) -> GrayImage {
    let plane = |source: &RgbImage, f: &dyn Fn([u8; 3]) -> u8| {
        GrayImage::from_fn(source.width(), source.height(), |x, y| Luma([f(source.get_pixel(x, y).0)]))
    };
    let (low, high) = (tuning.canny_low, tuning.canny_high);
    let mut edges = canny(luma, low, high);
    let (width, height) = rgb.dimensions();
    let half = resize_triangle(rgb, (width / 2).max(1), (height / 2).max(1));
    let colour_difference = |weight: [i32; 3]| {
        canny(
            &plane(&half, &|[r, g, b]| {
                let luma = i32::from(luma_of(r, g, b));
                let channel = weight[0] * i32::from(r) + weight[1] * i32::from(g) + weight[2] * i32::from(b);
                (128 + (channel - luma) / 2).clamp(0, 255) as u8
            }),
            low,
            high,
        )
    };
    for colour in [colour_difference([0, 0, 1]), colour_difference([1, 0, 0])] {
        for (x, y, pixel) in colour.enumerate_pixels() {
            if pixel.0[0] > 0 {
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let (px, py) = (2 * x + dx, 2 * y + dy);
                    if px < width && py < height {
                        edges.put_pixel(px, py, Luma([255]));
                    }
                }
            }
        }
    }
    edges
}

/// The quad's proportions (mean long side over mean short side) are a document's.
pub(super) fn card_shaped(quad: &[Point<i32>; 4], layout: &DocumentLayout) -> bool {
    let side = |a: Point<i32>, b: Point<i32>| f64::from(a.x - b.x).hypot(f64::from(a.y - b.y));
    let first = side(quad[0], quad[1]) + side(quad[2], quad[3]);
    let second = side(quad[1], quad[2]) + side(quad[3], quad[0]);
    let aspect = first.max(second) / first.min(second).max(1.0);
    (layout.aspect_range[0]..=layout.aspect_range[1]).contains(&aspect)
}

/// For an outline of proportions `aspect` (long over short) longer than a document (above
/// [`DocumentLayout::banded_aspect_above`]), the band it probably lost along a long side, as a
/// fraction of its short side: what brings it back to the rectified card's proportions.
pub(super) fn lost_band(aspect: f64, layout: &DocumentLayout) -> Option<f64> {
    (aspect > layout.banded_aspect_above)
        .then(|| aspect * f64::from(layout.card_height) / f64::from(layout.card_width) - 1.0)
}

/// The quad, and when it is longer than a document (see [`DocumentLayout::banded_aspect_above`]),
/// also the quad extended across either long side by the band that brings it to the card's
/// proportions: where the header band that the outline lost holds print too.
pub(super) fn with_lost_bands(quad: &[Point<i32>; 4], layout: &DocumentLayout) -> Vec<[Point<i32>; 4]> {
    let corner = |i: usize| (f64::from(quad[i % 4].x), f64::from(quad[i % 4].y));
    let length = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).hypot(a.1 - b.1);
    // Rotated so that sides 0–1 and 2–3 are the long ones.
    let first = length(corner(0), corner(1)) + length(corner(2), corner(3));
    let second = length(corner(1), corner(2)) + length(corner(3), corner(0));
    let turn = usize::from(second > first);
    let [a, b, c, d] = std::array::from_fn(|i| corner(i + turn));
    let aspect = first.max(second) / first.min(second).max(1.0);
    let mut readings = vec![*quad];
    if let Some(band) = lost_band(aspect, layout) {
        let beyond = |from: (f64, f64), away: (f64, f64)| {
            Point::new(
                (from.0 + band * (from.0 - away.0)).round() as i32,
                (from.1 + band * (from.1 - away.1)).round() as i32,
            )
        };
        let point = |p: (f64, f64)| Point::new(p.0.round() as i32, p.1.round() as i32);
        readings.push([beyond(a, d), beyond(b, c), point(c), point(d)]);
        readings.push([point(a), point(b), beyond(c, b), beyond(d, a)]);
    }
    readings
}

/// Pixels of `luma` whose Sobel gradient is at least `min_gradient`: the steep edges of print (text,
/// portrait, emblem), which a table's grain, however busy, does not reach.
pub(super) fn print_edges(luma: &GrayImage, min_gradient: u16) -> GrayImage {
    let gradients = sobel_magnitudes(luma);
    GrayImage::from_fn(luma.width(), luma.height(), |x, y| {
        Luma([if gradients.get_pixel(x, y).0[0] >= min_gradient { 255 } else { 0 }])
    })
}

/// Share of the print's edge pixels that lie inside the quad: a card holds the print; a box on a
/// card (the portrait frame of a flat scan) leaves most of it outside.
pub(super) fn print_inside(edges: &GrayImage, quad: &[Point<i32>; 4]) -> f64 {
    // Inside a convex quad, the point lies on the same side of all four sides, whichever way round
    // the corners run.
    let inside = |x: f64, y: f64| {
        let crosses: [f64; 4] = std::array::from_fn(|side| {
            let (a, b) = (quad[side], quad[(side + 1) % 4]);
            f64::from(b.x - a.x) * (y - f64::from(a.y)) - f64::from(b.y - a.y) * (x - f64::from(a.x))
        });
        crosses.iter().all(|&c| c >= 0.0) || crosses.iter().all(|&c| c <= 0.0)
    };
    let (mut total, mut within) = (0usize, 0usize);
    for (x, y, pixel) in edges.enumerate_pixels() {
        if pixel.0[0] > 0 {
            total += 1;
            within += usize::from(inside(f64::from(x), f64::from(y)));
        }
    }
    if total == 0 { 0.0 } else { within as f64 / total as f64 }
}

/// How many of the quad's sides separate two different colours (see [`side_contrast`]) by at
/// least `min_contrast`.
pub(super) fn sides_with_contrast(rgb: &RgbImage, quad: &[Point<i32>; 4], min_contrast: f64) -> usize {
    let corner = |p: Point<i32>| (p.x as f32, p.y as f32);
    let centre = (
        quad.iter().map(|p| p.x as f32).sum::<f32>() / 4.0,
        quad.iter().map(|p| p.y as f32).sum::<f32>() / 4.0,
    );
    (0..4)
        .filter(|&side| {
            side_contrast(rgb, corner(quad[side]), corner(quad[(side + 1) % 4]), centre)
                .is_some_and(|contrast| contrast >= min_contrast)
        })
        .count()
}

/// The largest difference, over the three channels, between the mean colours of a strip 2–4 px on
/// the `inside` point's side of the segment `a`–`b` and a strip 2–4 px on the other side; `None`
/// when one strip lies wholly outside the image (a side on the frame's border separates nothing).
/// Averaging along the side first cancels a textured table's grain.
pub(super) fn side_contrast(rgb: &RgbImage, a: (f32, f32), b: (f32, f32), inside: (f32, f32)) -> Option<f64> {
    const SAMPLES: usize = 40;
    let (width, height) = (rgb.width() as f32, rgb.height() as f32);
    let length = (b.0 - a.0).hypot(b.1 - a.1).max(1.0);
    let mut normal = ((a.1 - b.1) / length, (b.0 - a.0) / length);
    let middle = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    if (inside.0 - middle.0) * normal.0 + (inside.1 - middle.1) * normal.1 < 0.0 {
        normal = (-normal.0, -normal.1);
    }
    let mut sums = [[0f64; 3]; 2];
    let mut counts = [0usize; 2];
    for step in 0..SAMPLES {
        let t = 0.1 + 0.8 * (step as f32 + 0.5) / SAMPLES as f32;
        let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
        for offset in [2.0, 3.0, 4.0] {
            for (strip, sign) in [(0, 1.0), (1, -1.0)] {
                let (px, py) = (x + sign * offset * normal.0, y + sign * offset * normal.1);
                if px >= 0.0 && py >= 0.0 && px < width && py < height {
                    let pixel = rgb.get_pixel(px as u32, py as u32).0;
                    for channel in 0..3 {
                        sums[strip][channel] += f64::from(pixel[channel]);
                    }
                    counts[strip] += 1;
                }
            }
        }
    }
    if counts[0] == 0 || counts[1] == 0 {
        return None;
    }
    let mean = |strip: usize, channel: usize| sums[strip][channel] / counts[strip] as f64;
    Some((0..3).map(|channel| (mean(0, channel) - mean(1, channel)).abs()).fold(0.0, f64::max))
}

/// Share of points along the quad's sides that have an edge pixel within 2 px.
pub(super) fn edge_support(edges: &GrayImage, quad: &[Point<i32>; 4]) -> f64 {
    let corner = |p: Point<i32>| (p.x as f32, p.y as f32);
    (0..4).map(|side| side_support(edges, corner(quad[side]), corner(quad[(side + 1) % 4]))).sum::<f64>()
        / 4.0
}

/// Share of points along the segment `a`–`b` that have an edge pixel within 2 px.
pub(super) fn side_support(edges: &GrayImage, a: (f32, f32), b: (f32, f32)) -> f64 {
    const SAMPLES: usize = 40;
    let (width, height) = (edges.width() as i32, edges.height() as i32);
    let supported = (0..SAMPLES)
        .filter(|&step| {
            let t = (step as f32 + 0.5) / SAMPLES as f32;
            let x = (a.0 + t * (b.0 - a.0)).round() as i32;
            let y = (a.1 + t * (b.1 - a.1)).round() as i32;
            (-2..=2).any(|dy| {
                (-2..=2).any(|dx| {
                    let (px, py) = (x + dx, y + dy);
                    px >= 0
                        && py >= 0
                        && px < width
                        && py < height
                        && edges.get_pixel(px as u32, py as u32).0[0] > 0
                })
            })
        })
        .count();
    supported as f64 / SAMPLES as f64
}

/// Four corners of a convex hull: the largest quadrilateral on its vertices, which lands on the
/// card's corners even when they are rounded or the view is in perspective. The hull is first
/// simplified to at most 32 vertices (Douglas-Peucker) so the exhaustive search stays small.
pub(super) fn four_corners(hull: &[Point<i32>]) -> [Point<i32>; 4] {
    const MAX_VERTICES: usize = 32;
    let perimeter: f64 = hull
        .iter()
        .zip(hull.iter().cycle().skip(1))
        .map(|(a, b)| f64::from(a.x - b.x).hypot(f64::from(a.y - b.y)))
        .sum();
    let mut vertices = hull.to_vec();
    let mut tolerance = 0.002;
    while vertices.len() > MAX_VERTICES {
        vertices = approximate_polygon_dp(hull, tolerance * perimeter, true);
        tolerance *= 1.5;
    }
    if vertices.len() < 4 {
        return min_area_rect(hull);
    }
    let n = vertices.len();
    let mut best = (f64::MIN, [vertices[0]; 4]);
    for i in 0..n {
        for j in i + 1..n {
            for k in j + 1..n {
                for l in k + 1..n {
                    let quad = [vertices[i], vertices[j], vertices[k], vertices[l]];
                    let area = contour_area(&quad);
                    if area > best.0 {
                        best = (area, quad);
                    }
                }
            }
        }
    }
    best.1
}

/// Orders corners clockwise from the top-left of a landscape reading: the long edges become top and
/// bottom, and of the two landscape readings the one whose top edge is higher in the frame is chosen.
pub(super) fn landscape_order(corners: [(f32, f32); 4]) -> [(f32, f32); 4] {
    let centre_x = corners.iter().map(|c| c.0).sum::<f32>() / 4.0;
    let centre_y = corners.iter().map(|c| c.1).sum::<f32>() / 4.0;
    let mut sorted = corners;
    // Image y grows downwards, so increasing angle runs clockwise on screen.
    sorted.sort_by(|a, b| {
        (a.1 - centre_y).atan2(a.0 - centre_x).total_cmp(&(b.1 - centre_y).atan2(b.0 - centre_x))
    });
    let length = |a: (f32, f32), b: (f32, f32)| (a.0 - b.0).hypot(a.1 - b.1);
    let start = if length(sorted[0], sorted[1]) >= length(sorted[1], sorted[2]) { 0 } else { 1 };
    // `start` and `start + 2` both read landscape; take the one with the higher top edge.
    let top_y = |s: usize| sorted[s % 4].1 + sorted[(s + 1) % 4].1;
    let start = if top_y(start) <= top_y(start + 2) { start } else { start + 2 };
    std::array::from_fn(|i| sorted[(start + i) % 4])
}
