//! Book levels read straight from a venue's frame.
//!
//! Bybit and Binance write a book side as `[["price","size"], …]`, the
//! numbers as strings. [`PriceSizeLevels`] deserializes such a side into
//! the [`Level`]s a [`BookUpdate`](crate::BookUpdate) carries, in one pass:
//! no intermediate strings, no vector of pairs grown and copied on the way
//! (the book's hot path, see `docs/benchmarks.md`).

use std::fmt;

use abi_stable::std_types::RVec;
use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};

use crate::{Dec, Level};

/// A book side written as `[["price","size"], …]`; each level's order
/// count is zero (such venues do not say). A text that is not a decimal,
/// or a level of other than two elements, fails the whole side.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceSizeLevels(pub RVec<Level>);

/// Room reserved for a side before its first level: enough for a usual
/// delta without growing.
const USUAL_LEVELS: usize = 32;

impl<'de> Deserialize<'de> for PriceSizeLevels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(SideVisitor)
    }
}

struct SideVisitor;

impl<'de> Visitor<'de> for SideVisitor {
    type Value = PriceSizeLevels;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a list of [price, size] pairs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PriceSizeLevels, A::Error> {
        let mut levels = RVec::with_capacity(seq.size_hint().unwrap_or(USUAL_LEVELS));
        while let Some(PairLevel(level)) = seq.next_element()? {
            levels.push(level);
        }
        Ok(PriceSizeLevels(levels))
    }
}

/// One `["price","size"]` pair.
struct PairLevel(Level);

impl<'de> Deserialize<'de> for PairLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(PairVisitor)
    }
}

struct PairVisitor;

impl<'de> Visitor<'de> for PairVisitor {
    type Value = PairLevel;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a [price, size] pair of decimal strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PairLevel, A::Error> {
        let DecText(price) = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let DecText(size) = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(3, &self));
        }
        Ok(PairLevel(Level {
            price,
            size,
            orders: 0,
        }))
    }
}

/// A decimal written as a string, read without copying it.
struct DecText(Dec);

impl<'de> Deserialize<'de> for DecText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(DecTextVisitor)
    }
}

struct DecTextVisitor;

impl Visitor<'_> for DecTextVisitor {
    type Value = DecText;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a decimal string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<DecText, E> {
        Dec::parse(text).map(DecText).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(json: &str) -> Result<PriceSizeLevels, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn a_side_reads_as_its_levels_in_order() {
        let levels = side(r#"[["65000.5","1.20"],["64999","0"]]"#).unwrap();
        assert_eq!(
            levels.0.as_slice(),
            [
                Level {
                    price: Dec::new(650005, 1),
                    size: Dec::new(120, 2),
                    orders: 0
                },
                Level {
                    price: Dec::new(64999, 0),
                    size: Dec::ZERO,
                    orders: 0
                },
            ]
        );
        assert!(side("[]").unwrap().0.is_empty());
    }

    #[test]
    fn a_side_is_read_from_a_json_value_too() {
        let value = serde_json::json!([["1.5", "2"]]);
        let levels: PriceSizeLevels = serde_json::from_value(value).unwrap();
        assert_eq!(levels.0[0].price, Dec::new(15, 1));
    }

    #[test]
    fn a_bad_level_fails_the_side_and_says_why() {
        for (json, why) in [
            (r#"[["1.5x","2"]]"#, "is not a decimal number"),
            (r#"[["1.5"]]"#, "invalid length 1"),
            (r#"[["1.5","2","3"]]"#, "invalid length 3"),
            (r#"[[1.5,"2"]]"#, "expected a decimal string"),
            (r#"{"b":1}"#, "expected a list of [price, size] pairs"),
        ] {
            let error = side(json).unwrap_err().to_string();
            assert!(error.contains(why), "{json}: {error}");
        }
    }
}
