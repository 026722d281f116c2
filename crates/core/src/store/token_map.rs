//! A map keyed by token hash that grows without stalling.
//!
//! A hash table doubles when it fills, and moves every entry it holds
//! while it does; the memory store does that under its lock, so every
//! mint and every console open waits for it: at 900,000 records one
//! doubling took about a quarter of a second on the development VM. A [`TokenMap`] starts as one
//! table and, once it holds [`SPREAD_AT`] entries, spreads them over
//! [`SHARDS`] tables chosen by the hash, each of which then grows on its
//! own: a doubling moves a sixty-fourth of the entries.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::token::TokenHash;

/// How many tables a spread map holds.
const SHARDS: usize = 64;

/// The entries one table takes before the map spreads; spreading moves
/// these once.
const SPREAD_AT: usize = 4096;

/// Hashes a [`TokenHash`] by folding its bytes: they are already SHA-256
/// output, so hashing them again (SipHash, three times per mint and once
/// per record each time a table grows) bought nothing. Only our own
/// minted tokens are ever inserted, so no caller can choose keys that
/// collide.
#[derive(Default)]
struct TokenHashHasher(u64);

impl Hasher for TokenHashHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // `TokenHash` hashes as one 32-byte slice (its `[u8; 32]` writes
        // no length); fold anything else in too, should it ever come.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
        }
    }
}

type Table<V> = HashMap<TokenHash, V, BuildHasherDefault<TokenHashHasher>>;

/// A map from token hash to `V`, one table while small and
/// [`SHARDS`] once large.
pub(super) struct TokenMap<V> {
    tables: Tables<V>,
    len: usize,
}

enum Tables<V> {
    One(Table<V>),
    Spread(Box<[Table<V>; SHARDS]>),
}

impl<V> Default for TokenMap<V> {
    fn default() -> Self {
        TokenMap {
            tables: Tables::One(Table::default()),
            len: 0,
        }
    }
}

/// The table of `hash` in a spread map: a byte of the hash, which is
/// uniform (SHA-256 output).
fn shard(hash: &TokenHash) -> usize {
    usize::from(hash.as_bytes()[31]) % SHARDS
}

impl<V> TokenMap<V> {
    /// How many entries it holds.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds none.
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn table(&self, hash: &TokenHash) -> &Table<V> {
        match &self.tables {
            Tables::One(table) => table,
            Tables::Spread(tables) => &tables[shard(hash)],
        }
    }

    fn table_mut(&mut self, hash: &TokenHash) -> &mut Table<V> {
        match &mut self.tables {
            Tables::One(table) => table,
            Tables::Spread(tables) => &mut tables[shard(hash)],
        }
    }

    /// The value of `hash`, if held.
    pub(super) fn get(&self, hash: &TokenHash) -> Option<&V> {
        self.table(hash).get(hash)
    }

    /// Holds `value` for `hash`; returns the value it replaces.
    pub(super) fn insert(&mut self, hash: TokenHash, value: V) -> Option<V> {
        if let Tables::One(table) = &mut self.tables {
            if table.len() >= SPREAD_AT {
                let mut tables: Box<[Table<V>; SHARDS]> =
                    Box::new(std::array::from_fn(|_| Table::default()));
                for (held, v) in table.drain() {
                    tables[shard(&held)].insert(held, v);
                }
                self.tables = Tables::Spread(tables);
            }
        }
        let replaced = self.table_mut(&hash).insert(hash, value);
        if replaced.is_none() {
            self.len += 1;
        }
        replaced
    }

    /// Takes the value of `hash` out, if held.
    pub(super) fn remove(&mut self, hash: &TokenHash) -> Option<V> {
        let removed = self.table_mut(hash).remove(hash);
        if removed.is_some() {
            self.len -= 1;
        }
        removed
    }

    /// Every hash held, in no order.
    pub(super) fn keys(&self) -> impl Iterator<Item = &TokenHash> {
        let tables: &[Table<V>] = match &self.tables {
            Tables::One(table) => std::slice::from_ref(table),
            Tables::Spread(tables) => &tables[..],
        };
        tables.iter().flat_map(HashMap::keys)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::token::Token;

    fn hash(n: usize) -> TokenHash {
        Token::new(format!("map-{n}")).hash()
    }

    #[test]
    fn holds_the_same_before_and_after_spreading() {
        let mut map = TokenMap::default();
        assert!(map.is_empty());
        let n = SPREAD_AT * 3;
        for i in 0..n {
            assert_eq!(map.insert(hash(i), i), None);
            if i == SPREAD_AT - 1 {
                assert!(matches!(map.tables, Tables::One(_)));
            }
        }
        assert!(matches!(map.tables, Tables::Spread(_)));
        assert_eq!(map.len(), n);
        assert_eq!(map.keys().count(), n);
        let keys: HashSet<_> = map.keys().copied().collect();
        assert_eq!(keys.len(), n);
        for i in 0..n {
            assert_eq!(map.get(&hash(i)), Some(&i), "{i}");
        }
        // Replacing keeps the count; removing takes one off, once.
        assert_eq!(map.insert(hash(7), 70), Some(7));
        assert_eq!(map.len(), n);
        assert_eq!(map.remove(&hash(7)), Some(70));
        assert_eq!(map.remove(&hash(7)), None);
        assert_eq!(map.get(&hash(7)), None);
        assert_eq!(map.len(), n - 1);
        for i in 0..n {
            map.remove(&hash(i));
        }
        assert!(map.is_empty());
        assert_eq!(map.keys().count(), 0);
    }

    #[test]
    fn a_spread_map_uses_every_table() {
        let mut map = TokenMap::default();
        for i in 0..SPREAD_AT * 2 {
            map.insert(hash(i), ());
        }
        let Tables::Spread(tables) = &map.tables else {
            panic!("not spread");
        };
        // 128 entries a table on average; none is left empty or takes a
        // large share.
        for table in tables.iter() {
            assert!((32..512).contains(&table.len()), "{}", table.len());
        }
    }
}
