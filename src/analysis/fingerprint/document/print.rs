//! What a document print stores: zone hashes, zone colours, inner-zone hashes and a crop print, each
//! with its byte format (the store's rows).

use super::*;

/// The hashes of one rectified card in one orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ZoneHashes {
    /// PDQ of the whole rectified card.
    pub card: Pdq,
    /// PDQ of the portrait zone.
    pub portrait: Pdq,
    /// PDQ of the personal-data zone.
    pub data: Pdq,
    /// PDQ quality of the portrait zone (0..=100): flat zones hash unreliably.
    pub portrait_quality: u32,
    /// PDQ quality of the personal-data zone.
    pub data_quality: u32,
    /// Colour of the portrait zone; `None` in documents stored before it was taken. Not part of
    /// the reported fingerprints (the API reports hashes); matches report its distance.
    #[serde(skip)]
    pub portrait_colour: Option<ZoneColour>,
    /// Colour of the personal-data zone; `None` likewise.
    #[serde(skip)]
    pub data_colour: Option<ZoneColour>,
}

impl ZoneHashes {
    /// Length of [`ZoneHashes::to_bytes`] without the zone colours (documents stored before them).
    const BYTES_WITHOUT_COLOURS: usize = 98;

    /// Length of [`ZoneHashes::to_bytes`].
    pub const BYTES: usize = Self::BYTES_WITHOUT_COLOURS + 2 * ZoneColour::BYTES;

    /// Storage form: the three hashes (32 bytes each), the two zone qualities and, when taken, the
    /// two zone colours.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(Self::BYTES);
        bytes.extend_from_slice(&self.card.to_bytes());
        bytes.extend_from_slice(&self.portrait.to_bytes());
        bytes.extend_from_slice(&self.data.to_bytes());
        bytes.push(self.portrait_quality.min(100) as u8);
        bytes.push(self.data_quality.min(100) as u8);
        if let (Some(portrait), Some(data)) = (self.portrait_colour, self.data_colour) {
            bytes.extend(portrait.0.iter().chain(&data.0).map(|&value| value as u8));
        }
        bytes
    }

    /// Parses the storage form, with or without the zone colours; `None` for any other length.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (base, colours) = match bytes.len() {
            Self::BYTES_WITHOUT_COLOURS => (bytes, None),
            Self::BYTES => {
                let (base, colours) = bytes.split_at(Self::BYTES_WITHOUT_COLOURS);
                let (portrait, data) = colours.split_at(ZoneColour::BYTES);
                let colour = |part: &[u8]| ZoneColour(std::array::from_fn(|i| part[i] as i8));
                (base, Some((colour(portrait), colour(data))))
            }
            _ => return None,
        };
        let hash = |range: std::ops::Range<usize>| Pdq::from_bytes(base[range].try_into().expect("32 bytes"));
        Some(ZoneHashes {
            card: hash(0..32),
            portrait: hash(32..64),
            data: hash(64..96),
            portrait_quality: u32::from(base[96]),
            data_quality: u32::from(base[97]),
            portrait_colour: colours.map(|(portrait, _)| portrait),
            data_colour: colours.map(|(_, data)| data),
        })
    }
}

/// The colour of a zone: the mean chroma (Cb, Cr, BT.601, 0 for grey) of each of its quarters, left
/// to right and top to bottom. PDQ reads luma only, so two different photos of alike shape can hash
/// within a few bits of each other (a green backdrop and a pink one, a red shirt and a black one);
/// their colours tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoneColour(pub [i8; 8]);

impl ZoneColour {
    /// Length of the storage form.
    const BYTES: usize = 8;

    /// The largest difference of one quarter's chroma between the two (|ΔCb| + |ΔCr|).
    pub fn distance(&self, other: &ZoneColour) -> u32 {
        self.0
            .chunks_exact(2)
            .zip(other.0.chunks_exact(2))
            .map(|(a, b)| a[0].abs_diff(b[0]) as u32 + a[1].abs_diff(b[1]) as u32)
            .max()
            .unwrap_or(0)
    }
}

/// The hashes of the inner zones of a card, which a crop keeps in view (see [`CropPrint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InnerHashes {
    /// PDQ of the inner portrait zone.
    pub portrait: Pdq,
    /// PDQ of the inner personal-data zone.
    pub data: Pdq,
    /// PDQ quality of the inner portrait zone.
    pub portrait_quality: u32,
    /// PDQ quality of the inner personal-data zone.
    pub data_quality: u32,
}

/// What finds a cropped capture of a card: the hashes of its inner zones and, for a card whose
/// layout the index did not know yet, its keypoints (from which a crop's frame is fitted).
#[derive(Debug, Clone, PartialEq)]
pub struct CropPrint {
    /// Inner-zone hashes of the card upright.
    pub inner: InnerHashes,
    /// Its keypoints (empty when another stored card already gives its layout).
    pub keypoints: Vec<Keypoint>,
}

impl CropPrint {
    const INNER_BYTES: usize = 66;

    /// Storage form: the two hashes, the two qualities, then each keypoint.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(Self::INNER_BYTES + self.keypoints.len() * Keypoint::BYTES);
        bytes.extend_from_slice(&self.inner.portrait.to_bytes());
        bytes.extend_from_slice(&self.inner.data.to_bytes());
        bytes.push(self.inner.portrait_quality.min(100) as u8);
        bytes.push(self.inner.data_quality.min(100) as u8);
        for keypoint in &self.keypoints {
            bytes.extend_from_slice(&keypoint.to_bytes());
        }
        bytes
    }

    /// Parses the storage form; `None` when the length does not fit it.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < Self::INNER_BYTES
            || !(bytes.len() - Self::INNER_BYTES).is_multiple_of(Keypoint::BYTES)
        {
            return None;
        }
        let hash = |at: usize| Pdq::from_bytes(bytes[at..at + 32].try_into().expect("32 bytes"));
        let inner = InnerHashes {
            portrait: hash(0),
            data: hash(32),
            portrait_quality: u32::from(bytes[64]),
            data_quality: u32::from(bytes[65]),
        };
        let keypoints = bytes[Self::INNER_BYTES..]
            .chunks_exact(Keypoint::BYTES)
            .map(|chunk| Keypoint::from_bytes(chunk.try_into().expect("a keypoint's bytes")))
            .collect();
        Some(CropPrint { inner, keypoints })
    }
}

/// Where a crop lies on a stored card: an affine map from the stored card's pixel (x, y) to the
/// query card's pixel showing it, (`scale_x` x + `shear_x` y + `shift_x`, `shear_y` x + `scale_y` y +
/// `shift_y`). A crop stretched back to the card shape scales each axis by itself; an outline found
/// a little askew adds a small rotation (the shears).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CropFrame {
    /// Horizontal scale.
    pub scale_x: f32,
    /// How much the stored y moves the query x.
    pub shear_x: f32,
    /// Horizontal shift in query pixels.
    pub shift_x: f32,
    /// How much the stored x moves the query y.
    pub shear_y: f32,
    /// Vertical scale.
    pub scale_y: f32,
    /// Vertical shift in query pixels.
    pub shift_y: f32,
}

impl CropFrame {
    /// A frame that scales and shifts each axis by itself.
    pub fn axis_aligned(scale_x: f32, scale_y: f32, shift_x: f32, shift_y: f32) -> Self {
        CropFrame { scale_x, shear_x: 0.0, shift_x, shear_y: 0.0, scale_y, shift_y }
    }

    /// The query pixel showing the stored card's pixel (x, y).
    pub fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        (
            self.scale_x * x + self.shear_x * y + self.shift_x,
            self.shear_y * x + self.scale_y * y + self.shift_y,
        )
    }

    /// The stored card's pixel a query pixel shows, when the map can be undone.
    pub(super) fn unapply(&self, x: f32, y: f32) -> Option<(f32, f32)> {
        let determinant = self.scale_x * self.scale_y - self.shear_x * self.shear_y;
        if determinant.abs() < 1e-6 {
            return None;
        }
        let (dx, dy) = (x - self.shift_x, y - self.shift_y);
        Some((
            (self.scale_y * dx - self.shear_x * dy) / determinant,
            (self.scale_x * dy - self.shear_y * dx) / determinant,
        ))
    }

    /// Moves no corner of a card of `layout`'s size (and so, being affine, no pixel) by a pixel or
    /// more: the card is framed as the stored one.
    pub fn in_place(&self, layout: &DocumentLayout) -> bool {
        corners((layout.card_width, layout.card_height)).iter().all(|&(x, y)| {
            let (u, v) = self.apply(x, y);
            (u - x).abs() < 1.0 && (v - y).abs() < 1.0
        })
    }

    /// Shows a part of a card of size `card` (width, height) cut from the stored one, its outline
    /// within `margin` pixels: every corner of the query falls on the stored card, or within
    /// `margin` of it. A frame that leaves a wider band of the query outside the stored card is no
    /// crop of it: another layout whose print is a few pixels away, or a repeated pattern a period
    /// away.
    pub fn is_crop(&self, card: (u32, u32), margin: f32) -> bool {
        let (width, height) = (card.0 as f32, card.1 as f32);
        corners(card).iter().all(|&(x, y)| {
            self.unapply(x, y).is_some_and(|(u, v)| {
                (-margin..=width + margin).contains(&u) && (-margin..=height + margin).contains(&v)
            })
        })
    }
}

/// The corners of a card of `size`.
fn corners(size: (u32, u32)) -> [(f32, f32); 4] {
    let (width, height) = (size.0 as f32, size.1 as f32);
    [(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)]
}
