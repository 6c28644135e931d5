//! The l2Book fast path: a frame in the exact compact shape Hyperliquid
//! sends is read by a scanner made for it, without a general JSON parser.
//!
//! ```text
//! {"channel":"l2Book","data":{"coin":"BTC","time":1700000000000,
//!  "levels":[[{"px":"100000.0","sz":"0.1","n":1},…],[…]]}}
//! ```
//!
//! Anything else — other key order, whitespace, escapes, extra fields, a
//! number the decimal type refuses — gives `None`, and the frame goes
//! through the general parser, which reads every valid shape and words the
//! errors. So the scanner only decides how fast a frame is read, never
//! what it means: whatever it accepts, the general parser reads the same
//! (a property test holds it to that).

use abi_stable::std_types::RVec;
use plugin_api::{BookUpdate, Dec, Level};

/// Reads `frame` if it is an l2Book frame in the exact compact shape.
pub fn l2book(frame: &str) -> Option<BookUpdate> {
    let mut scan = Scanner {
        rest: frame.as_bytes(),
    };
    scan.literal(br#"{"channel":"l2Book","data":{"coin":""#)?;
    let coin = scan.plain_string()?;
    scan.literal(br#","time":"#)?;
    let time_ms = scan.unsigned()?;
    scan.literal(br#","levels":["#)?;
    let bids = scan.levels()?;
    scan.literal(b",")?;
    let asks = scan.levels()?;
    scan.literal(b"]}}")?;
    if !scan.rest.is_empty() {
        return None;
    }
    Some(BookUpdate {
        market: coin.into(),
        is_snapshot: true,
        bids,
        asks,
        seq: 0,
        time_ms,
    })
}

/// The unread rest of a frame.
struct Scanner<'a> {
    rest: &'a [u8],
}

impl<'a> Scanner<'a> {
    fn literal(&mut self, expected: &[u8]) -> Option<()> {
        self.rest = self.rest.strip_prefix(expected)?;
        Some(())
    }

    fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The text up to the next `"` (consumed), when it has no escapes or
    /// control characters.
    fn plain_string(&mut self) -> Option<&'a str> {
        let end = self.rest.iter().position(|&byte| byte == b'"')?;
        let (text, rest) = self.rest.split_at(end);
        if text.iter().any(|&byte| byte == b'\\' || byte < 0x20) {
            return None;
        }
        self.rest = &rest[1..];
        std::str::from_utf8(text).ok()
    }

    /// A JSON unsigned integer that fits `u64` (no leading zeros).
    fn unsigned(&mut self) -> Option<u64> {
        let digits = self.rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let (text, rest) = self.rest.split_at(digits);
        if digits == 0 || (digits > 1 && text[0] == b'0') {
            return None;
        }
        let mut value: u64 = 0;
        for &digit in text {
            value = value
                .checked_mul(10)?
                .checked_add(u64::from(digit - b'0'))?;
        }
        self.rest = rest;
        Some(value)
    }

    /// A quoted decimal, as the plugin API's decimal type reads it.
    fn decimal(&mut self) -> Option<Dec> {
        self.literal(b"\"")?;
        Dec::parse(self.plain_string()?).ok()
    }

    /// `[{"px":"…","sz":"…","n":…},…]`
    fn levels(&mut self) -> Option<RVec<Level>> {
        self.literal(b"[")?;
        let mut levels = RVec::with_capacity(20);
        if self.peek() == Some(b']') {
            self.rest = &self.rest[1..];
            return Some(levels);
        }
        loop {
            self.literal(br#"{"px":"#)?;
            let price = self.decimal()?;
            self.literal(br#","sz":"#)?;
            let size = self.decimal()?;
            self.literal(br#","n":"#)?;
            let orders = u32::try_from(self.unsigned()?).ok()?;
            self.literal(b"}")?;
            levels.push(Level {
                price,
                size,
                orders,
            });
            match self.peek()? {
                b',' => self.rest = &self.rest[1..],
                b']' => {
                    self.rest = &self.rest[1..];
                    return Some(levels);
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use plugin_api::Event;
    use proptest::prelude::*;

    use super::*;
    use crate::parse::frames::{Parsed, parse_general};

    /// What the general parser makes of `frame`: the book, or None for an
    /// error.
    fn general(frame: &str) -> Option<BookUpdate> {
        let Parsed::Events(mut events) = parse_general(frame, 0).ok()? else {
            panic!("not events");
        };
        assert_eq!(events.len(), 1);
        match events.pop()?.into_enum() {
            Ok(Event::Book(book)) => Some(book),
            other => panic!("not a book: {other:?}"),
        }
    }

    const FRAME: &str = r#"{"channel":"l2Book","data":{"coin":"BTC","time":1700000000123,"levels":[[{"px":"65000.5","sz":"1.2","n":3},{"px":"65000","sz":"0.5","n":1}],[{"px":"65001","sz":"2","n":2}]]}}"#;

    #[test]
    fn reads_the_compact_shape_as_the_general_parser_does() {
        let book = l2book(FRAME).expect("compact frame");
        assert_eq!(Some(book.clone()), general(FRAME));
        assert_eq!(book.bids.len(), 2);
        assert_eq!(book.asks[0].price, Dec::new(65001, 0));
        let empty = r#"{"channel":"l2Book","data":{"coin":"@107","time":5,"levels":[[],[]]}}"#;
        assert_eq!(l2book(empty), general(empty));
    }

    #[test]
    fn leaves_every_other_shape_to_the_general_parser() {
        for frame in [
            // Whitespace, key order, an extra field, an escape: valid, but
            // not the compact shape.
            FRAME.replace(r#""time":"#, r#""time": "#),
            FRAME.replace(
                r#"{"px":"65001","sz":"2","n":2}"#,
                r#"{"sz":"2","px":"65001","n":2}"#,
            ),
            FRAME.replace(r#""n":3}"#, r#""n":3,"x":1}"#),
            FRAME.replace(r#""coin":"BTC""#, r#""coin":"B\u0054C""#),
            // Invalid: the general parser words the error.
            FRAME.replace("65000.5", "6.5e4"),
            FRAME.replace(r#""n":3"#, r#""n":03"#),
            FRAME.replace(r#""n":3"#, r#""n":4294967296"#),
            FRAME.replace("]]}}", "]]}}x"),
            FRAME.replace(r#"[{"px":"65001","sz":"2","n":2}]"#, ""),
        ] {
            assert_eq!(l2book(&frame), None, "{frame}");
        }
    }

    fn decimal() -> impl Strategy<Value = String> {
        (any::<u32>(), 0u32..9)
            .prop_map(|(mantissa, scale)| Dec::new(i64::from(mantissa), scale).to_string())
    }

    fn levels() -> impl Strategy<Value = String> {
        prop::collection::vec((decimal(), decimal(), 0u32..100), 0..25).prop_map(|levels| {
            let levels: Vec<String> = levels
                .iter()
                .map(|(px, sz, n)| format!(r#"{{"px":"{px}","sz":"{sz}","n":{n}}}"#))
                .collect();
            format!("[{}]", levels.join(","))
        })
    }

    proptest! {
        /// Whatever the scanner accepts, the general parser reads the same.
        #[test]
        fn agrees_with_the_general_parser(
            coin in "[A-Z@0-9]{1,8}",
            time in any::<u64>(),
            bids in levels(),
            asks in levels(),
        ) {
            let frame = format!(
                r#"{{"channel":"l2Book","data":{{"coin":"{coin}","time":{time},"levels":[{bids},{asks}]}}}}"#
            );
            let fast = l2book(&frame);
            prop_assert!(fast.is_some(), "{}", frame);
            prop_assert_eq!(fast, general(&frame));
        }

        /// A frame damaged anywhere is either left to the general parser or
        /// read exactly as the general parser reads it.
        #[test]
        fn damaged_frames_are_declined_or_read_alike(at in 0..FRAME.len(), byte in 0x20u8..0x7f) {
            let mut frame = FRAME.as_bytes().to_vec();
            frame[at] = byte;
            let frame = String::from_utf8(frame).unwrap();
            if let Some(book) = l2book(&frame) {
                prop_assert_eq!(Some(book), general(&frame), "{}", frame);
            }
        }
    }
}
