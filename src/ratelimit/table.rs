//! A bounded, sharded hash table keyed by 64-bit keyed hashes of rate-limit keys. The key
//! material itself (an IP, a cookie, an API key) is never stored. Each shard has its own
//! lock, so threads rarely contend; each shard has a capacity, and a full shard first drops
//! idle entries and then the entry that loses the least enforcement, so memory stays bounded
//! whatever an attacker sends.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;

const SHARDS: usize = 64;

/// An entry's value.
pub trait Slot: Default {
    /// Whether the entry holds no state worth keeping at `now`.
    fn is_idle(&self, now: u64) -> bool;
    /// How much enforcement is lost if this entry is evicted (the least is evicted first).
    fn weight(&self, now: u64) -> u64;
}

/// The table.
pub struct Table<V> {
    shards: Box<[Mutex<HashMap<u64, V, PassThrough>>]>,
    capacity_per_shard: usize,
    hasher: std::collections::hash_map::RandomState,
}

impl<V: Slot> Table<V> {
    /// A table holding at most about `max_keys` entries.
    pub fn new(max_keys: usize) -> Self {
        let capacity_per_shard = (max_keys / SHARDS).max(1);
        Self {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(HashMap::with_hasher(PassThrough)))
                .collect(),
            capacity_per_shard,
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// The keyed hash of `key` (random per process, so collisions cannot be planned).
    pub fn hash(&self, key: &[u8]) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write(key);
        h.finish()
    }

    /// Runs `f` on the entry for `hash`, creating it if needed.
    pub fn with<R>(&self, hash: u64, now: u64, f: impl FnOnce(&mut V) -> R) -> R {
        let shard = &self.shards[(hash as usize) % SHARDS];
        let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
        if !map.contains_key(&hash) && map.len() >= self.capacity_per_shard {
            make_room(&mut map, now);
        }
        f(map.entry(hash).or_default())
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    /// Whether the table holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn make_room<V: Slot>(map: &mut HashMap<u64, V, PassThrough>, now: u64) {
    let before = map.len();
    map.retain(|_, v| !v.is_idle(now));
    if map.len() < before {
        return;
    }
    if let Some(victim) = map
        .iter()
        .min_by_key(|(_, v)| v.weight(now))
        .map(|(k, _)| *k)
    {
        map.remove(&victim);
    }
}

/// The keys are already keyed hashes: hashing them again is wasted work.
#[derive(Default, Clone)]
struct PassThrough;

impl BuildHasher for PassThrough {
    type Hasher = PassThroughHasher;
    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Counter(u64);
    impl Slot for Counter {
        fn is_idle(&self, now: u64) -> bool {
            self.0 <= now
        }
        fn weight(&self, _now: u64) -> u64 {
            self.0
        }
    }

    #[test]
    fn stays_bounded_under_a_flood_of_keys() {
        let t: Table<Counter> = Table::new(640);
        for i in 0..100_000u64 {
            let h = t.hash(&i.to_le_bytes());
            t.with(h, 0, |c| c.0 = 1_000 + i);
        }
        assert!(t.len() <= 640, "{}", t.len());
    }

    #[test]
    fn idle_entries_go_first() {
        let t: Table<Counter> = Table::new(64); // one slot per shard
        let a = t.hash(b"a");
        t.with(a, 0, |c| c.0 = 5);
        // Any new key landing in a's shard evicts it only when it is idle or lighter.
        t.with(a, 0, |c| assert_eq!(c.0, 5));
        assert_eq!(t.hash(b"a"), a, "hashes are stable within a process");
    }
}
