//! An exact Hamming-radius index over 256-bit hashes in memory: multi-index hashing (Norouzi,
//! Punjani and Fleet, "Fast Search in Hamming Space with Multi-Index Hashing", CVPR 2012).
//!
//! The hash is cut into substrings, each with its own table keyed by the substring's value: 16 of 16
//! bits, or 12 of 21–22 bits for a large frozen layer ([`frozen_tables`]). Two hashes within distance
//! `r` are close on at least one substring ([`table_radius`], the pigeonhole principle as the paper
//! refines it), so probing every key within that many bits of each query substring finds every hash
//! within `r`: the search is exact, not approximate. At radius 31 that is 17 keys in each of 16
//! tables, or 232–254 keys in each of 8 tables (2 bits) and 22–23 in each of the other 4 (1 bit).
//!
//! Two layers, as in a log-structured store:
//! - **frozen**: each table one flat array sorted by key (compressed rows, built by a counting sort),
//!   so a probe is one read of a directory and one contiguous run of entries. A table's directory
//!   rows are all requested from memory before any is read, then all their entries: the processor
//!   waits for many cache misses at once instead of one after another.
//! - **recent**: what was registered since the frozen layer was built, in buckets that grow one entry
//!   at a time. When it outgrows an eighth of the frozen layer the two are merged into a new frozen
//!   layer (amortised: each document is copied a bounded number of times). The merge is built on a
//!   background thread from the shared, read-only hashes, while searches read the old frozen layer,
//!   the recent layer being folded in and a fresh recent layer taking new registrations; the next
//!   registration after it finishes swaps it in. Registrations never wait for a rebuild.
//!
//! Every entry carries 128 bits of the hash outside its substring, so chance collisions are rejected
//! from the table itself (those bits alone are a lower bound of the distance) without a random read
//! of the full hash. Hand-written: the Rust crates for Hamming search are approximate (HNSW and LSH)
//! or brute force, and this service promises every match within the radius.
//!
//! Measured (`cargo bench --bench index`, eight radius-31 searches at 10 M): 12 substrings read 5×
//! fewer entries than 16 through 7× more probes, and were 1.8× slower until the probes' cache lines
//! were requested ahead (prefetch), which made them the faster layout for large layers.

use std::sync::Arc;

use crate::analysis::fingerprint::pdq::Pdq;

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

/// `bits` bits of the hash from bit `start`: one table's key.
#[derive(Debug, Clone, Copy)]
struct Substring {
    start: u32,
    bits: u32,
}

impl Substring {
    fn key(self, hash: &Words) -> u32 {
        let (word, shift) = ((self.start / 64) as usize, self.start % 64);
        let mut value = hash[word] >> shift;
        if shift + self.bits > 64 {
            value |= hash[word + 1] << (64 - shift);
        }
        (value & ((1u64 << self.bits) - 1)) as u32
    }

    /// Two words the substring does not touch: their distance is a lower bound of the whole.
    fn filter(self, hash: &Words) -> [u64; 2] {
        let (first, last) = ((self.start / 64) as usize, ((self.start + self.bits - 1) / 64) as usize);
        let mut others = (0..4).filter(|&w| w != first && w != last);
        let (a, b) = (others.next().unwrap_or(0), others.next().unwrap_or(1));
        [hash[a], hash[b]]
    }
}

/// `count` consecutive substrings covering the hash, the first `256 % count` of them a bit longer.
fn substrings(count: usize) -> Vec<Substring> {
    let mut start = 0;
    (0..count)
        .map(|index| {
            let bits = (256 / count + usize::from(index < 256 % count)) as u32;
            start += bits;
            Substring { start: start - bits, bits }
        })
        .collect()
}

/// Tables of a frozen layer of `len` documents: 16 substrings of 16 bits, or from
/// [`LARGE_FROZEN`] documents on, 12 of 21–22 bits. Large tables of short keys hold long runs per
/// key (about 150 entries per 16-bit key at 10 million), and then fewer entries through more
/// probes are faster: at 1 million the 12 tables were 1.3× slower, at 10 million 1.9× faster
/// (`cargo bench --bench index`).
fn frozen_tables(len: usize) -> usize {
    if len >= LARGE_FROZEN { 12 } else { 16 }
}

/// Documents from which a frozen layer takes 12 tables: where a 22-bit key's directory has a row per
/// key.
const LARGE_FROZEN: usize = 1 << 22;

/// Tables of the recent layer: 16 substrings of 16 bits, one bucket per key.
const RECENT_TABLES: usize = 16;

/// How many bits of table `table`'s key (of `tables`) a search at `radius` probes around the
/// query's, or `None` when the table need not be read. With `radius = tables · q + a`
/// (`a < tables`), a hash within `radius` differs by at most `q` bits on one of the first `a + 1`
/// substrings or by at most `q - 1` on one of the others: otherwise it would differ by at least
/// `(a + 1)(q + 1) + (tables - a - 1) q = radius + 1` bits.
fn table_radius(table: usize, tables: usize, radius: u32) -> Option<u32> {
    let (q, a) = (radius / tables as u32, radius % tables as u32);
    if table as u32 <= a { Some(q) } else { q.checked_sub(1) }
}

/// The recent layer is merged into the frozen one when it holds more than this many documents and
/// more than an eighth of the frozen layer's.
const RECENT_MIN: usize = 1 << 16;

/// Cache lines of each probed row requested before the rows are read.
const PREFETCH_LINES: usize = 12;

/// Asks the processor to start loading `value`'s cache line.
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch only hints the cache; it never faults and reads nothing into the program
    // (and `value` is a live reference anyway). SSE is part of every x86-64 processor.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>((value as *const T).cast());
    }
}

/// Asks the processor to start loading the first [`PREFETCH_LINES`] cache lines of `run`.
fn prefetch_run<T>(run: &[T]) {
    let per_line = (CACHE_LINE / size_of::<T>()).max(1);
    for value in run.iter().step_by(per_line).take(PREFETCH_LINES) {
        prefetch(value);
    }
}

/// Bytes in a cache line.
const CACHE_LINE: usize = 64;

/// Does a table entry's filter rule it out at `radius`?
fn filtered_out(entry: &[u64; 2], query: &[u64; 2], radius: u32) -> bool {
    (entry[0] ^ query[0]).count_ones() + (entry[1] ^ query[1]).count_ones() > radius
}

/// Every key within `radius` bits of `key` in a `bits`-bit space.
fn keys_within(key: u32, bits: u32, radius: u32, out: &mut Vec<u32>) {
    flips_from(key, 0, bits, radius, out);
}

/// `key` and every key made from it by flipping up to `radius` of the bits from `first` on.
fn flips_from(key: u32, first: u32, bits: u32, radius: u32, out: &mut Vec<u32>) {
    out.push(key);
    if radius > 0 {
        for bit in first..bits {
            flips_from(key ^ (1 << bit), bit + 1, bits, radius - 1, out);
        }
    }
}

/// The frozen layer: per substring, one flat table sorted by key.
#[derive(Default)]
struct Frozen {
    tables: Vec<FrozenTable>,
    len: usize,
}

/// One frozen table. Directory row `key >> shift` holds entries `offsets[row]..offsets[row + 1]`;
/// the directory has about one row per document (at most one per key), so a small index does not
/// pay for a table sized for ten million.
struct FrozenTable {
    substring: Substring,
    shift: u32,
    offsets: Vec<u32>,
    keys: Vec<u32>,
    filters: Vec<[u64; 2]>,
    slots: Vec<u32>,
}

impl Frozen {
    /// `tables` tables over the hashes of `slots` (a counting sort per table).
    fn build(hashes: &[Words], slots: &[u32], tables: usize) -> Self {
        let directory_bits = (usize::BITS - slots.len().leading_zeros()).max(8);
        let tables = substrings(tables)
            .into_iter()
            .map(|substring| {
                let shift = substring.bits.saturating_sub(directory_bits);
                let keys_of: Vec<u32> =
                    slots.iter().map(|&slot| substring.key(&hashes[slot as usize])).collect();
                let mut offsets = vec![0u32; (1usize << (substring.bits - shift)) + 1];
                for &key in &keys_of {
                    offsets[(key >> shift) as usize + 1] += 1;
                }
                for row in 1..offsets.len() {
                    offsets[row] += offsets[row - 1];
                }
                let mut cursor = offsets.clone();
                // Keys are kept only when a directory row holds several keys.
                let mut keys = vec![0; if shift > 0 { slots.len() } else { 0 }];
                let (mut filters, mut table_slots) = (vec![[0; 2]; slots.len()], vec![0; slots.len()]);
                for (&key, &slot) in keys_of.iter().zip(slots) {
                    let at = &mut cursor[(key >> shift) as usize];
                    let position = *at as usize;
                    *at += 1;
                    if shift > 0 {
                        keys[position] = key;
                    }
                    filters[position] = substring.filter(&hashes[slot as usize]);
                    table_slots[position] = slot;
                }
                FrozenTable { substring, shift, offsets, keys, filters, slots: table_slots }
            })
            .collect();
        Frozen { tables, len: slots.len() }
    }

    /// Slots that may lie within `radius` of `query` (each at most once per table).
    fn candidates(&self, query: &Words, radius: u32, out: &mut Vec<u32>) {
        if self.len == 0 {
            return;
        }
        let (mut probes, mut rows) = (Vec::new(), Vec::new());
        for (index, table) in self.tables.iter().enumerate() {
            let Some(table_radius) = table_radius(index, self.tables.len(), radius) else { continue };
            let filter = table.substring.filter(query);
            probes.clear();
            keys_within(table.substring.key(query), table.substring.bits, table_radius, &mut probes);
            // Every probe's directory row is requested, then read; then every row's first entries
            // are requested, then read (four filters to a cache line).
            for &key in &probes {
                prefetch(&table.offsets[(key >> table.shift) as usize]);
            }
            rows.clear();
            rows.extend(probes.iter().map(|&key| {
                let row = (key >> table.shift) as usize;
                (key, table.offsets[row] as usize, table.offsets[row + 1] as usize)
            }));
            for &(_, start, end) in &rows {
                prefetch_run(&table.filters[start..end]);
            }
            for &(key, start, end) in &rows {
                for at in start..end {
                    let same_key = table.shift == 0 || table.keys[at] == key;
                    if same_key && !filtered_out(&table.filters[at], &filter, radius) {
                        out.push(table.slots[at]);
                    }
                }
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        self.tables
            .iter()
            .map(|t| {
                t.offsets.capacity() * 4
                    + t.keys.capacity() * 4
                    + t.filters.capacity() * 16
                    + t.slots.capacity() * 4
            })
            .sum()
    }
}

/// One recent entry: the filter words and the slot (20 bytes).
#[derive(Clone, Copy)]
#[repr(C, packed(4))]
struct Entry {
    filter: [u64; 2],
    slot: u32,
}

/// The recent layer: [`RECENT_TABLES`] tables of 65,536 growable buckets, one per key.
struct Recent {
    substrings: Vec<Substring>,
    buckets: Vec<Vec<Entry>>,
    len: usize,
}

impl Recent {
    fn new() -> Self {
        let substrings = substrings(RECENT_TABLES);
        Recent { substrings, buckets: (0..RECENT_TABLES << 16).map(|_| Vec::new()).collect(), len: 0 }
    }

    /// The bucket of `key` in table `table`.
    fn bucket(table: usize, key: u32) -> usize {
        (table << 16) | key as usize
    }

    fn insert(&mut self, hash: &Words, slot: u32) {
        for (table, substring) in self.substrings.iter().enumerate() {
            self.buckets[Self::bucket(table, substring.key(hash))]
                .push(Entry { filter: substring.filter(hash), slot });
        }
        self.len += 1;
    }

    /// Removes `slot` (stored under `hash`); false when it is not in this layer.
    fn remove(&mut self, hash: &Words, slot: u32) -> bool {
        let mut found = false;
        for (table, substring) in self.substrings.iter().enumerate() {
            let bucket = &mut self.buckets[Self::bucket(table, substring.key(hash))];
            if let Some(position) = bucket.iter().position(|entry| entry.slot == slot) {
                bucket.swap_remove(position);
                found = true;
            }
        }
        self.len -= usize::from(found);
        found
    }

    fn candidates(&self, query: &Words, radius: u32, out: &mut Vec<u32>) {
        if self.len == 0 {
            return;
        }
        let (mut probes, mut buckets) = (Vec::new(), Vec::new());
        for (table, substring) in self.substrings.iter().enumerate() {
            let Some(table_radius) = table_radius(table, RECENT_TABLES, radius) else { continue };
            let filter = substring.filter(query);
            probes.clear();
            keys_within(substring.key(query), substring.bits, table_radius, &mut probes);
            // As in the frozen layer: every bucket's first entries requested, then read.
            buckets.clear();
            buckets.extend(probes.iter().map(|&key| self.buckets[Self::bucket(table, key)].as_slice()));
            for bucket in &buckets {
                prefetch_run(bucket);
            }
            for entry in buckets.iter().flat_map(|bucket| bucket.iter()) {
                if !filtered_out(&{ entry.filter }, &filter, radius) {
                    out.push(entry.slot);
                }
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * size_of::<Vec<Entry>>()
            + self.buckets.iter().map(|bucket| bucket.capacity() * size_of::<Entry>()).sum::<usize>()
    }
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
    /// Hashes by slot, for slots below its length: shared, read-only, with a running merge.
    base: Arc<Vec<Words>>,
    /// Hashes of the slots stored while a merge runs; folded into `base` when it ends.
    tail: Vec<Words>,
    values: Vec<Option<V>>,
    /// Slots free for reuse (not while a merge runs: its builder reads their hashes).
    free: Vec<u32>,
    /// Removed slots a frozen layer (built or being built) still lists: free once it is rebuilt.
    stale: Vec<u32>,
    frozen: Frozen,
    /// The merge being built in the background, if any.
    merge: Option<Merge>,
    recent: Recent,
    len: usize,
}

/// A merge of the layers in progress: a thread builds the next frozen layer over every slot that
/// was live when it began, while the recent layer it folds in stays searchable here.
struct Merge {
    /// The recent layer as it was when the merge began.
    folding: Recent,
    /// Slots that only the current frozen layer lists: free once the new one replaces it.
    freed_by_swap: Vec<u32>,
    builder: std::thread::JoinHandle<Frozen>,
}

impl<V> std::fmt::Debug for HammingIndex<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HammingIndex")
            .field("len", &self.len)
            .field("frozen", &self.frozen.len)
            .field("recent", &self.recent.len)
            .field("merging", &self.merge.is_some())
            .finish_non_exhaustive()
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
            base: Arc::new(Vec::new()),
            tail: Vec::new(),
            values: Vec::new(),
            free: Vec::new(),
            stale: Vec::new(),
            frozen: Frozen::default(),
            merge: None,
            recent: Recent::new(),
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

    /// A merge of the layers is being built in the background.
    pub fn merging(&self) -> bool {
        self.merge.is_some()
    }

    fn hash_of(&self, slot: u32) -> &Words {
        let slot = slot as usize;
        self.base.get(slot).unwrap_or_else(|| &self.tail[slot - self.base.len()])
    }

    fn store(&mut self, hash: Words, value: V) -> u32 {
        self.len += 1;
        if self.merge.is_none() {
            // No builder shares the hashes, so `make_mut` does not copy them.
            let base = Arc::make_mut(&mut self.base);
            if let Some(slot) = self.free.pop() {
                base[slot as usize] = hash;
                self.values[slot as usize] = Some(value);
                return slot;
            }
            base.push(hash);
        } else {
            self.tail.push(hash);
        }
        self.values.push(Some(value));
        u32::try_from(self.values.len() - 1).expect("at most 2^32 hashes in one index")
    }

    /// Stores `hash` with `value`. When the recent layer has outgrown its share, a merge of the
    /// layers starts on a background thread; a finished one is swapped in here.
    pub fn insert(&mut self, hash: &Pdq, value: V) {
        let hash = words(hash);
        let slot = self.store(hash, value);
        self.recent.insert(&hash, slot);
        if self.merge_built() {
            self.wait_for_merge();
        }
        if self.recent.len > RECENT_MIN.max(self.frozen.len / 8) {
            self.start_merge();
        }
    }

    /// Stores many hashes at once straight into a rebuilt frozen layer (start-up from the store).
    pub fn extend(&mut self, items: impl IntoIterator<Item = (Pdq, V)>) {
        for (hash, value) in items {
            self.store(words(&hash), value);
        }
        self.compact();
    }

    /// Slots holding a value.
    fn live_slots(&self) -> Vec<u32> {
        (0..self.values.len()).filter(|&slot| self.values[slot].is_some()).map(|slot| slot as u32).collect()
    }

    /// Starts building, on another thread, a frozen layer over every stored hash (unless a merge is
    /// already running); the recent layer moves aside (still searched) and a new one takes
    /// registrations meanwhile. Where no thread can be started the merge is done here and now.
    pub fn start_merge(&mut self) {
        if self.merge.is_some() {
            return;
        }
        self.start_merge_after(|| ());
    }

    /// [`HammingIndex::start_merge`], the builder first running `before_build` (tests hold it there).
    fn start_merge_after(&mut self, before_build: impl FnOnce() + Send + 'static) {
        // Allocated before the builder starts: once it is faulting in gigabytes of tables, every
        // large allocation here waits on the kernel's memory-map lock.
        let fresh = Recent::new();
        let live = self.live_slots();
        let hashes = Arc::clone(&self.base);
        let spawned = std::thread::Builder::new().name("index-merge".into()).spawn(move || {
            before_build();
            Frozen::build(&hashes, &live, frozen_tables(live.len()))
        });
        match spawned {
            Ok(builder) => {
                self.merge = Some(Merge {
                    folding: std::mem::replace(&mut self.recent, fresh),
                    freed_by_swap: std::mem::take(&mut self.stale),
                    builder,
                });
            }
            Err(error) => {
                tracing::warn!(%error, "cannot start a background merge of the index; merging in place");
                self.compact();
            }
        }
    }

    /// A merge is running and its frozen layer is built: the next registration swaps it in.
    pub fn merge_built(&self) -> bool {
        self.merge.as_ref().is_some_and(|merge| merge.builder.is_finished())
    }

    /// Waits for a running merge and swaps its frozen layer in.
    pub fn wait_for_merge(&mut self) {
        let Some(merge) = self.merge.take() else { return };
        let built = merge.builder.join();
        Arc::make_mut(&mut self.base).append(&mut self.tail);
        match built {
            Ok(frozen) => {
                let replaced = (std::mem::replace(&mut self.frozen, frozen), merge.folding);
                // Freeing gigabytes of tables takes a while: another thread does it.
                if let Err(error) =
                    std::thread::Builder::new().name("index-free".into()).spawn(move || drop(replaced))
                {
                    tracing::warn!(%error, "cannot free the replaced index layers on another thread");
                }
                self.free.extend(merge.freed_by_swap);
            }
            Err(_) => {
                // The builder panicked: rebuild here, with the folded layer's slots still live.
                tracing::error!("the background merge of the index failed; merging in place");
                self.stale.extend(merge.freed_by_swap);
                self.compact();
            }
        }
    }

    /// Rebuilds the frozen layer over every stored hash, here and now, and empties the recent one.
    pub fn compact(&mut self) {
        self.wait_for_merge();
        let live = self.live_slots();
        self.frozen = Frozen::build(&self.base, &live, frozen_tables(live.len()));
        if self.recent.len > 0 {
            self.recent = Recent::new();
        }
        self.free.append(&mut self.stale);
        Arc::make_mut(&mut self.base).shrink_to_fit();
        self.values.shrink_to_fit();
    }

    /// Removes the entries of `hash` whose value satisfies `matches`; returns how many.
    pub fn remove(&mut self, hash: &Pdq, mut matches: impl FnMut(&V) -> bool) -> usize {
        let hash = words(hash);
        let mut slots = self.candidates(&hash, 0);
        slots.retain(|&slot| {
            *self.hash_of(slot) == hash && self.values[slot as usize].as_ref().is_some_and(&mut matches)
        });
        for &slot in &slots {
            self.values[slot as usize] = None;
            // Only the newest layer lets go of a slot at once; a frozen layer, built or being
            // built, lists it until the next one replaces it.
            if self.recent.remove(&hash, slot) {
                self.free.push(slot);
            } else {
                self.stale.push(slot);
            }
        }
        self.len -= slots.len();
        slots.len()
    }

    /// Slots of every layer that may lie within `radius`, each once.
    fn candidates(&self, query: &Words, radius: u32) -> Vec<u32> {
        assert!(radius <= 47, "a search radius above 47 bits is not a reuse search");
        let mut slots = Vec::new();
        self.frozen.candidates(query, radius, &mut slots);
        if let Some(merge) = &self.merge {
            merge.folding.candidates(query, radius, &mut slots);
        }
        self.recent.candidates(query, radius, &mut slots);
        slots.sort_unstable();
        slots.dedup();
        slots
    }

    /// Every stored hash within `radius` (at most 47) of `query`, nearest first.
    pub fn search(&self, query: &Pdq, radius: u32) -> Vec<Hit<'_, V>> {
        let query = words(query);
        let mut found: Vec<(u32, u32)> = self
            .candidates(&query, radius)
            .into_iter()
            .map(|slot| (distance(self.hash_of(slot), &query), slot))
            .filter(|&(full, _)| full <= radius)
            .collect();
        found.sort_unstable();
        self.hits(found)
    }

    /// The same answer as [`HammingIndex::search`] by comparing every stored hash: the baseline the
    /// index is measured against, and the oracle of its tests.
    pub fn scan(&self, query: &Pdq, radius: u32) -> Vec<Hit<'_, V>> {
        let query_words = words(query);
        let mut found: Vec<(u32, u32)> = self
            .base
            .iter()
            .chain(&self.tail)
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

    /// Bytes held, for the memory-per-document figure: hashes, values' inline size and the layers'
    /// tables (allocated capacity), not what the values point to.
    pub fn heap_bytes(&self) -> usize {
        (self.base.capacity() + self.tail.capacity()) * size_of::<Words>()
            + self.values.capacity() * size_of::<Option<V>>()
            + (self.free.capacity() + self.stale.capacity()) * size_of::<u32>()
            + self.frozen.heap_bytes()
            + self.merge.as_ref().map_or(0, |merge| merge.folding.heap_bytes())
            + self.recent.heap_bytes()
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
        assert_eq!(index.values.len(), 2, "the freed slot is reused");
        assert_eq!(index.remove(&hash, |_| true), 1);
        assert!(index.search(&hash, 0).is_empty());
    }

    #[test]
    fn a_removed_frozen_slot_is_reused_only_after_the_layers_merge() {
        let mut index = HammingIndex::new();
        index.extend((0..100).map(|seed| (hash_from(seed), seed)));
        assert_eq!(index.remove(&hash_from(5), |_| true), 1);
        assert!(index.search(&hash_from(5), 0).is_empty());
        index.insert(&hash_from(500), 500);
        assert_eq!(index.values.len(), 101, "the frozen layer still lists slot 5");
        index.compact();
        index.insert(&hash_from(501), 501);
        assert_eq!(index.values.len(), 101, "after the merge slot 5 is reused");
        assert_eq!(index.search(&hash_from(501), 0)[0].value, &501);
        assert_eq!(index.search(&hash_from(500), 0)[0].value, &500);
        assert_eq!(index.len(), 101);
    }

    #[test]
    fn a_background_merge_keeps_every_answer_and_frees_slots_only_when_swapped_in() {
        let mut index = HammingIndex::new();
        index.extend((0..300).map(|seed| (hash_from(seed), seed)));
        for seed in 300..400 {
            index.insert(&hash_from(seed), seed);
        }
        assert_eq!(index.remove(&hash_from(7), |_| true), 1);
        // The builder waits for the test's word, so the merge is surely still running below.
        let (release, hold) = std::sync::mpsc::channel::<()>();
        index.start_merge_after(move || {
            let _ = hold.recv();
        });
        assert!(index.merging());
        for seed in 400..450 {
            index.insert(&hash_from(seed), seed);
        }
        // One of each layer: frozen, being folded in, newly recent.
        for seed in [5, 350, 420] {
            assert_eq!(index.remove(&hash_from(seed), |_| true), 1);
        }
        let slots = index.values.len();
        index.insert(&hash_from(1000), 1000);
        assert_eq!(index.values.len(), slots + 1, "no slot is reused while the builder reads hashes");
        let found = |index: &HammingIndex<u64>, seed: u64| -> Vec<u64> {
            index.search(&hash_from(seed), 0).iter().map(|hit| *hit.value).collect()
        };
        let removed = [5, 7, 350, 420];
        for seed in (0..450).chain([1000]) {
            let expected = if removed.contains(&seed) { vec![] } else { vec![seed] };
            assert_eq!(found(&index, seed), expected, "seed {seed} during the merge");
        }
        assert!(index.merging());
        release.send(()).expect("the builder waits");
        index.wait_for_merge();
        assert!(!index.merging());
        for seed in (0..450).chain([1000]) {
            let expected = if removed.contains(&seed) { vec![] } else { vec![seed] };
            assert_eq!(found(&index, seed), expected, "seed {seed} after the merge");
        }
        // Free now: slot 420 (it was only in the new recent layer) and slot 7 (removed before the
        // merge began, so only the old frozen layer listed it). Slots 5 and 350 were live when the
        // merge began: the new frozen layer lists them until the next merge.
        let slots = index.values.len();
        for seed in 2000..2002 {
            index.insert(&hash_from(seed), seed);
        }
        assert_eq!(index.values.len(), slots, "two freed slots are reused");
        index.insert(&hash_from(2002), 2002);
        assert_eq!(index.values.len(), slots + 1, "slots the new frozen layer lists are not");
        assert_eq!(index.len(), 450 - 4 + 4);
    }

    #[test]
    fn probes_cover_exactly_the_keys_within_the_radius() {
        for radius in 0..=3 {
            let mut keys = Vec::new();
            keys_within(0b1011, 10, radius, &mut keys);
            let expected: Vec<u32> =
                (0..1 << 10).filter(|k: &u32| (k ^ 0b1011).count_ones() <= radius).collect();
            keys.sort_unstable();
            assert_eq!(keys, expected, "radius {radius}");
        }
        for count in [12, 16] {
            let substrings = substrings(count);
            assert_eq!(substrings.iter().map(|s| s.bits).sum::<u32>(), 256);
            assert!(substrings.windows(2).all(|w| w[0].start + w[0].bits == w[1].start));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The index answers exactly what a full scan answers, for clustered data.
        #[test]
        fn search_equals_scan(
            seed in any::<u64>(),
            flips in prop::collection::vec(prop::collection::vec(0usize..256, 0..48), 1..60),
            radius in 0u32..=47,
            frozen_share in 0usize..=60,
            merge_after in prop::option::of(0usize..=60),
            removed in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let centre = hash_from(seed);
            let hashes: Vec<Pdq> = flips.iter().map(|bits| flip(&centre, bits)).collect();
            // Some in the frozen layer, the rest recent (perhaps with a merge started part way, so
            // some are in the layer being folded and some in the new recent one), some of any
            // layer removed, and the query asked during the merge and after it.
            let mut index = HammingIndex::new();
            let frozen = frozen_share.min(hashes.len());
            index.extend(hashes[..frozen].iter().copied().zip(0..));
            for (value, hash) in hashes.iter().enumerate().skip(frozen) {
                if merge_after == Some(value - frozen) {
                    index.start_merge();
                }
                index.insert(hash, value);
            }
            for pick in &removed {
                let value = pick.index(hashes.len());
                index.remove(&hashes[value], |v| *v == value);
            }
            let query = flip(&centre, &flips[0][..flips[0].len() / 2]);
            let answers = |index: &HammingIndex<usize>| {
                let from_index: Vec<_> = index.search(&query, radius).iter().map(|h| (h.distance, *h.value)).collect();
                let from_scan: Vec<_> = index.scan(&query, radius).iter().map(|h| (h.distance, *h.value)).collect();
                (from_index, from_scan)
            };
            let (during, expected) = answers(&index);
            prop_assert_eq!(&during, &expected);
            index.wait_for_merge();
            let (after, scanned) = answers(&index);
            prop_assert_eq!(&after, &scanned);
            prop_assert_eq!(after, expected);
            prop_assert_eq!(index.len(), hashes.len() - index.values.iter().filter(|v| v.is_none()).count());
        }

        /// Both frozen layouts (16 and 12 tables) list every hash within the radius.
        #[test]
        fn both_frozen_layouts_find_every_hash_within_the_radius(
            seed in any::<u64>(),
            flips in prop::collection::vec(prop::collection::vec(0usize..256, 0..48), 1..200),
            radius in 0u32..=47,
        ) {
            let centre = hash_from(seed);
            let hashes: Vec<Words> = flips.iter().map(|bits| words(&flip(&centre, bits))).collect();
            let slots: Vec<u32> = (0..hashes.len() as u32).collect();
            let query = words(&flip(&centre, &flips[0][..flips[0].len() / 2]));
            let within = |slot: &u32| distance(&hashes[*slot as usize], &query) <= radius;
            let expected: Vec<u32> = slots.iter().copied().filter(within).collect();
            for tables in [12, 16] {
                let mut found = Vec::new();
                Frozen::build(&hashes, &slots, tables).candidates(&query, radius, &mut found);
                found.retain(within);
                found.sort_unstable();
                found.dedup();
                prop_assert_eq!(&found, &expected, "{} tables", tables);
            }
        }
    }
}
