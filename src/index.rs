//! An exact Hamming-radius index over 256-bit hashes in memory: multi-index hashing (Norouzi,
//! Punjani and Fleet, "Fast Search in Hamming Space with Multi-Index Hashing", CVPR 2012).
//!
//! The hash is cut into 16 substrings of 16 bits, each with its own table of 65,536 buckets. Two
//! hashes within distance `r` agree to within `r / 16` bits on at least one substring (pigeonhole), so
//! probing every bucket within that many bits of each query substring finds every hash within `r`:
//! the search is exact, not approximate. At radius 31 that is 17 buckets per table.
//!
//! Each bucket entry carries the half of the hash its substring is not in, so most chance collisions
//! are rejected from the bucket itself (a half further than `r` cannot be within `r`) without a
//! random read of the full hash. Hand-written: the Rust crates for Hamming search are approximate
//! (HNSW and LSH) or brute force, and this service promises every match within the radius.

use crate::fingerprint::pdq::Pdq;

/// Substrings (and tables) per hash.
const TABLES: usize = 16;
/// Buckets per table: one per 16-bit substring value.
const BUCKETS: usize = 1 << 16;

/// A 256-bit hash as four words, for popcount arithmetic.
type Words = [u64; 4];

fn words(hash: &Pdq) -> Words {
    let mut out = [0u64; 4];
    for (index, word) in hash.0.iter().enumerate() {
        out[index / 4] |= u64::from(*word) << (16 * (index % 4));
    }
    out
}

fn distance(a: &Words, b: &Words) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

/// The two words of the half of the hash that substring `table` is not in.
fn other_half(hash: &Words, table: usize) -> [u64; 2] {
    if table < TABLES / 2 { [hash[2], hash[3]] } else { [hash[0], hash[1]] }
}

/// One bucket entry: 20 bytes.
#[derive(Clone, Copy)]
#[repr(C, packed(4))]
struct Entry {
    half: [u64; 2],
    slot: u32,
}

/// A hit of a search: the stored value and its distance to the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit<'a, V> {
    /// The value stored with the hash.
    pub value: &'a V,
    /// Hamming distance to the query.
    pub distance: u32,
}

/// The index: hashes with a value each (the same hash may be stored under several values).
pub struct HammingIndex<V> {
    hashes: Vec<Words>,
    values: Vec<Option<V>>,
    free: Vec<u32>,
    buckets: Vec<Vec<Entry>>,
    len: usize,
}

impl<V> std::fmt::Debug for HammingIndex<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HammingIndex").field("len", &self.len).finish_non_exhaustive()
    }
}

impl<V> Default for HammingIndex<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> HammingIndex<V> {
    /// An empty index.
    pub fn new() -> Self {
        HammingIndex {
            hashes: Vec::new(),
            values: Vec::new(),
            free: Vec::new(),
            buckets: (0..TABLES * BUCKETS).map(|_| Vec::new()).collect(),
            len: 0,
        }
    }

    /// Number of stored hashes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Nothing stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores `hash` with `value`.
    pub fn insert(&mut self, hash: &Pdq, value: V) {
        let hash_words = words(hash);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.hashes[slot as usize] = hash_words;
                self.values[slot as usize] = Some(value);
                slot
            }
            None => {
                self.hashes.push(hash_words);
                self.values.push(Some(value));
                u32::try_from(self.hashes.len() - 1).expect("at most 2^32 hashes in one index")
            }
        };
        for table in 0..TABLES {
            let entry = Entry { half: other_half(&hash_words, table), slot };
            self.buckets[table * BUCKETS + usize::from(hash.0[table])].push(entry);
        }
        self.len += 1;
    }

    /// Removes the entries of `hash` whose value satisfies `matches`; returns how many.
    pub fn remove(&mut self, hash: &Pdq, mut matches: impl FnMut(&V) -> bool) -> usize {
        let hash_words = words(hash);
        let slots: Vec<u32> = self.buckets[usize::from(hash.0[0])]
            .iter()
            .map(|entry| entry.slot)
            .filter(|&slot| {
                self.hashes[slot as usize] == hash_words
                    && self.values[slot as usize].as_ref().is_some_and(&mut matches)
            })
            .collect();
        for &slot in &slots {
            for table in 0..TABLES {
                let bucket = &mut self.buckets[table * BUCKETS + usize::from(hash.0[table])];
                if let Some(position) = bucket.iter().position(|entry| entry.slot == slot) {
                    bucket.swap_remove(position);
                }
            }
            self.values[slot as usize] = None;
            self.free.push(slot);
        }
        self.len -= slots.len();
        slots.len()
    }

    /// Every stored hash within `radius` (at most 47) of `query`, nearest first.
    pub fn search(&self, query: &Pdq, radius: u32) -> Vec<Hit<'_, V>> {
        let query_words = words(query);
        let substring_radius = radius / TABLES as u32;
        let mut found: Vec<(u32, u32)> = Vec::new();
        let mut keys = Vec::new();
        for table in 0..TABLES {
            let half = other_half(&query_words, table);
            keys.clear();
            keys_within(query.0[table], substring_radius, &mut keys);
            for &key in &keys {
                for entry in &self.buckets[table * BUCKETS + usize::from(key)] {
                    let entry_half = entry.half;
                    let half_distance =
                        (entry_half[0] ^ half[0]).count_ones() + (entry_half[1] ^ half[1]).count_ones();
                    if half_distance > radius {
                        continue;
                    }
                    let slot = entry.slot;
                    let full = distance(&self.hashes[slot as usize], &query_words);
                    if full <= radius {
                        found.push((full, slot));
                    }
                }
            }
        }
        found.sort_unstable();
        found.dedup();
        self.hits(found)
    }

    /// The same answer as [`HammingIndex::search`] by comparing every stored hash: the baseline the
    /// index is measured against, and the oracle of its tests.
    pub fn scan(&self, query: &Pdq, radius: u32) -> Vec<Hit<'_, V>> {
        let query_words = words(query);
        let mut found: Vec<(u32, u32)> = self
            .hashes
            .iter()
            .enumerate()
            .filter(|(slot, _)| self.values[*slot].is_some())
            .map(|(slot, hash)| (distance(hash, &query_words), slot as u32))
            .filter(|(full, _)| *full <= radius)
            .collect();
        found.sort_unstable();
        self.hits(found)
    }

    fn hits(&self, found: Vec<(u32, u32)>) -> Vec<Hit<'_, V>> {
        found
            .into_iter()
            .filter_map(|(distance, slot)| {
                self.values[slot as usize].as_ref().map(|value| Hit { value, distance })
            })
            .collect()
    }

    /// Bytes held, for the memory-per-document figure: hashes, values' inline size and bucket
    /// entries (allocated capacity), not what the values point to.
    pub fn heap_bytes(&self) -> usize {
        self.hashes.capacity() * size_of::<Words>()
            + self.values.capacity() * size_of::<Option<V>>()
            + self.free.capacity() * size_of::<u32>()
            + self.buckets.capacity() * size_of::<Vec<Entry>>()
            + self.buckets.iter().map(|bucket| bucket.capacity() * size_of::<Entry>()).sum::<usize>()
    }

    /// Releases spare capacity after a bulk load.
    pub fn shrink_to_fit(&mut self) {
        self.hashes.shrink_to_fit();
        self.values.shrink_to_fit();
        self.buckets.iter_mut().for_each(Vec::shrink_to_fit);
    }
}

/// Every 16-bit value within `radius` bits of `key` (radius ≤ 2 covers searches up to 47 bits).
fn keys_within(key: u16, radius: u32, out: &mut Vec<u16>) {
    assert!(radius <= 2, "a search radius above 47 bits is not a reuse search");
    out.push(key);
    if radius >= 1 {
        for i in 0..16 {
            let one = key ^ (1 << i);
            out.push(one);
            if radius >= 2 {
                for j in i + 1..16 {
                    out.push(one ^ (1 << j));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn flip(hash: &Pdq, bits: &[usize]) -> Pdq {
        let mut out = *hash;
        for &bit in bits {
            out.0[bit / 16] ^= 1 << (bit % 16);
        }
        out
    }

    fn hash_from(seed: u64) -> Pdq {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut words = [0u16; 16];
        for word in &mut words {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *word = state as u16;
        }
        Pdq(words)
    }

    #[test]
    fn finds_exactly_the_hashes_within_the_radius() {
        let base = hash_from(7);
        let mut index = HammingIndex::new();
        // Flips spread over all substrings: the worst case for the pigeonhole probe.
        let near: Vec<usize> = (0..31).map(|i| i * 8 + i % 8).collect();
        index.insert(&flip(&base, &near), "31 bits away");
        index.insert(
            &flip(
                &base,
                &[
                    0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220, 240, 255, 1, 2, 3, 4, 5, 6, 7, 8,
                    9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
                ],
            ),
            "32 bits away",
        );
        index.insert(&base, "identical");
        let hits = index.search(&base, 31);
        let values: Vec<_> = hits.iter().map(|hit| (*hit.value, hit.distance)).collect();
        assert_eq!(values, vec![("identical", 0), ("31 bits away", 31)]);
    }

    #[test]
    fn removal_frees_the_slot_and_keeps_other_values_of_the_same_hash() {
        let hash = hash_from(3);
        let mut index = HammingIndex::new();
        index.insert(&hash, 1);
        index.insert(&hash, 2);
        assert_eq!(index.remove(&hash, |value| *value == 1), 1);
        assert_eq!(index.len(), 1);
        assert_eq!(index.search(&hash, 0).iter().map(|hit| *hit.value).collect::<Vec<_>>(), vec![2]);
        index.insert(&hash_from(4), 3);
        assert_eq!(index.hashes.len(), 2, "the freed slot is reused");
        assert_eq!(index.remove(&hash, |_| true), 1);
        assert!(index.search(&hash, 0).is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The index answers exactly what a full scan answers, for clustered data.
        #[test]
        fn search_equals_scan(seed in any::<u64>(), flips in prop::collection::vec(prop::collection::vec(0usize..256, 0..48), 1..60), radius in 0u32..=47) {
            let centre = hash_from(seed);
            let mut index = HammingIndex::new();
            for (value, bits) in flips.iter().enumerate() {
                index.insert(&flip(&centre, bits), value);
            }
            let query = flip(&centre, &flips[0][..flips[0].len() / 2]);
            let from_index: Vec<_> = index.search(&query, radius).iter().map(|h| (h.distance, *h.value)).collect();
            let from_scan: Vec<_> = index.scan(&query, radius).iter().map(|h| (h.distance, *h.value)).collect();
            prop_assert_eq!(from_index, from_scan);
        }
    }
}
