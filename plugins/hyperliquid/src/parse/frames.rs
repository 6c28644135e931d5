//! WebSocket frames: `{"channel": …, "data": …}` → events.

use plugin_api::{Event, Event_NE, PluginError, Response};
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{book_scan, convert, model};

/// A frame: `{"channel": …, "data": …}`, read in one pass.
///
/// The market channels are the hot path, so their data is parsed into its
/// typed shape while the envelope is read, when the channel comes first
/// (Hyperliquid always sends it first); otherwise — and for every other
/// channel — the data is kept as raw text and parsed by its handler.
struct Frame<'a> {
    channel: &'a str,
    data: Option<Data<'a>>,
}

/// A frame's data.
enum Data<'a> {
    Book(model::WireBook<'a>),
    Trades(Vec<model::WireTrade<'a>>),
    Bbo(model::WireBbo<'a>),
    Raw(&'a RawValue),
}

/// Parses a frame's data as its channel says.
struct DataSeed<'c>(Option<&'c str>);

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = Data<'de>;

    fn deserialize<D: Deserializer<'de>>(self, data: D) -> Result<Data<'de>, D::Error> {
        fn typed<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
            channel: &str,
            data: D,
        ) -> Result<T, D::Error> {
            T::deserialize(data)
                .map_err(|error| de::Error::custom(format!("{channel} data: {error}")))
        }
        match self.0 {
            Some(channel @ "l2Book") => typed(channel, data).map(Data::Book),
            Some(channel @ "trades") => typed(channel, data).map(Data::Trades),
            Some(channel @ "bbo") => typed(channel, data).map(Data::Bbo),
            _ => <&RawValue>::deserialize(data).map(Data::Raw),
        }
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum FrameKey {
    Channel,
    Data,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for Frame<'de> {
    fn deserialize<D: Deserializer<'de>>(frame: D) -> Result<Frame<'de>, D::Error> {
        struct FrameVisitor;

        impl<'de> Visitor<'de> for FrameVisitor {
            type Value = Frame<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a channel message")
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Frame<'de>, M::Error> {
                let mut channel: Option<&'de str> = None;
                let mut data = None;
                while let Some(key) = map.next_key()? {
                    match key {
                        FrameKey::Channel => channel = Some(map.next_value()?),
                        FrameKey::Data => data = Some(map.next_value_seed(DataSeed(channel))?),
                        FrameKey::Other => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                let channel = channel.ok_or_else(|| de::Error::missing_field("channel"))?;
                // Data that came before its channel is parsed now.
                if let Some(Data::Raw(raw)) = data {
                    let mut text = serde_json::Deserializer::from_str(raw.get());
                    data = Some(
                        DataSeed(Some(channel))
                            .deserialize(&mut text)
                            .map_err(de::Error::custom)?,
                    );
                }
                Ok(Frame { channel, data })
            }
        }

        frame.deserialize_map(FrameVisitor)
    }
}

#[derive(Deserialize)]
struct PostData<'a> {
    id: u64,
    #[serde(borrow)]
    response: PostResponse<'a>,
}

#[derive(Deserialize)]
struct PostResponse<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow)]
    payload: &'a RawValue,
}

fn without_data(channel: &str) -> PluginError {
    PluginError::malformed(format!("{channel} frame without data"))
}

/// The data of a frame whose channel has no typed fast path.
fn data<'a, T: Deserialize<'a>>(
    channel: &str,
    raw: Option<&'a RawValue>,
) -> Result<T, PluginError> {
    let raw = raw.ok_or_else(|| without_data(channel))?;
    serde_json::from_str(raw.get())
        .map_err(|error| PluginError::malformed(format!("{channel} data: {error}")))
}

/// What a frame holds.
#[derive(Debug)]
pub enum Parsed {
    /// Events (possibly none).
    Events(Vec<Event_NE>),
    /// The answer to a `post` request: its id, and the answer in the shape
    /// of the matching HTTP response.
    Post {
        /// The request's id.
        id: u64,
        /// The answer.
        response: Response,
    },
}

/// Parses one text frame: an l2Book frame in Hyperliquid's exact compact
/// shape by the book scanner, everything else by the general parser.
pub fn parse(frame: &str, now_ms: u64) -> Result<Parsed, PluginError> {
    match book_scan::l2book(frame) {
        Some(book) => Ok(Parsed::Events(vec![Event_NE::new(Event::Book(book))])),
        None => parse_general(frame, now_ms),
    }
}

/// Parses one text frame of any channel and any valid JSON shape.
pub(super) fn parse_general(frame: &str, now_ms: u64) -> Result<Parsed, PluginError> {
    let mut post = None;
    let events = general_events(frame, now_ms, &mut post)?;
    Ok(post.unwrap_or(Parsed::Events(events)))
}

/// The events of a frame; a `post` answer goes to `post` instead.
fn general_events(
    frame: &str,
    now_ms: u64,
    post: &mut Option<Parsed>,
) -> Result<Vec<Event_NE>, PluginError> {
    if !frame.starts_with('{') {
        // The greeting "Websocket connection established." and any other
        // plain text carry nothing.
        return Ok(Vec::new());
    }
    let Frame {
        channel,
        data: parsed,
    } = serde_json::from_str(frame).map_err(|error| {
        PluginError::malformed(format!("frame is not a channel message: {error}"))
    })?;
    let raw = match parsed {
        Some(Data::Book(book)) => return Ok(vec![convert::book(&book)?]),
        Some(Data::Trades(trades)) => return trades.iter().map(convert::trade).collect(),
        Some(Data::Bbo(bbo)) => return Ok(vec![convert::bbo(&bbo)?]),
        Some(Data::Raw(raw)) => Some(raw),
        None => None,
    };
    match channel {
        "l2Book" | "trades" | "bbo" => Err(without_data(channel)),
        "activeAssetCtx" => Ok(vec![convert::funding(
            &data::<model::WireAssetCtx<'_>>(channel, raw)?,
            now_ms,
        )?]),
        "orderUpdates" => data::<Vec<model::WireOrderStatus<'_>>>(channel, raw)?
            .iter()
            .map(|order| convert::order(order, false))
            .collect(),
        "userFills" => {
            let fills: model::WireUserFills<'_> = data(channel, raw)?;
            fills
                .fills
                .iter()
                .map(|fill| convert::fill(fill, fills.is_snapshot))
                .collect()
        }
        "user" => user_event(data(channel, raw)?, now_ms),
        "pong" => Ok(vec![Event_NE::new(Event::Pong)]),
        "subscriptionResponse" => Ok(vec![Event_NE::new(Event::Subscribed(
            raw.map(|raw| raw.get()).unwrap_or_default().into(),
        ))]),
        "post" => {
            let answer: PostData<'_> = data(channel, raw)?;
            *post = Some(post_reply(&answer));
            Ok(Vec::new())
        }
        "error" => Ok(vec![Event_NE::new(Event::Notice {
            text: format!(
                "exchange error: {}",
                raw.map(|raw| raw.get()).unwrap_or("(no text)")
            )
            .into(),
            fatal: false,
        })]),
        // allMids, notification and other channels the host did not ask
        // for carry nothing it uses.
        _ => Ok(Vec::new()),
    }
}

fn user_event(event: model::WireUserEvent<'_>, now_ms: u64) -> Result<Vec<Event_NE>, PluginError> {
    let mut events = Vec::new();
    for fill in event.fills.iter().flatten() {
        events.push(convert::fill(fill, false)?);
    }
    for cancel in event.non_user_cancel.iter().flatten() {
        events.push(convert::non_user_cancel(cancel, now_ms));
    }
    if let Some(liquidation) = event.liquidation {
        events.push(Event_NE::new(Event::Notice {
            text: format!("liquidation: {}", liquidation.get()).into(),
            fatal: false,
        }));
    }
    Ok(events)
}

/// A `post` answer in the shape of the matching HTTP response: `action` and
/// `info` payloads are the HTTP body; an `error` payload is an HTTP-style
/// error text.
fn post_reply(post: &PostData<'_>) -> Parsed {
    let (status, body) = match post.response.kind {
        "error" => {
            let text: String = serde_json::from_str(post.response.payload.get())
                .unwrap_or_else(|_| post.response.payload.get().to_owned());
            (520, text)
        }
        _ => (200, post.response.payload.get().to_owned()),
    };
    Parsed::Post {
        id: post.id,
        response: Response {
            status,
            body: body.into(),
            headers: Default::default(),
        },
    }
}
