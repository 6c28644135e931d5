//! WebSocket frames: `{"channel": …, "data": …}` → events.

use plugin_api::{Event, Event_NE, PluginError, SocketReply};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{convert, model};

#[derive(Deserialize)]
struct Envelope<'a> {
    channel: &'a str,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
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

fn data<'a, T: Deserialize<'a>>(
    channel: &str,
    raw: Option<&'a RawValue>,
) -> Result<T, PluginError> {
    let raw = raw.ok_or_else(|| PluginError::malformed(format!("{channel} frame without data")))?;
    serde_json::from_str(raw.get())
        .map_err(|error| PluginError::malformed(format!("{channel} data: {error}")))
}

/// Parses one text frame.
pub fn parse(frame: &str, now_ms: u64) -> Result<Vec<Event_NE>, PluginError> {
    if !frame.starts_with('{') {
        // The greeting "Websocket connection established." and any other
        // plain text carry nothing.
        return Ok(Vec::new());
    }
    let envelope: Envelope<'_> = serde_json::from_str(frame).map_err(|error| {
        PluginError::malformed(format!("frame is not a channel message: {error}"))
    })?;
    let channel = envelope.channel;
    let raw = envelope.data;
    match channel {
        "l2Book" => Ok(vec![convert::book(&data::<model::WireBook<'_>>(
            channel, raw,
        )?)?]),
        "trades" => data::<Vec<model::WireTrade<'_>>>(channel, raw)?
            .iter()
            .map(convert::trade)
            .collect(),
        "bbo" => Ok(vec![convert::bbo(&data::<model::WireBbo<'_>>(
            channel, raw,
        )?)?]),
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
            let post: PostData<'_> = data(channel, raw)?;
            Ok(vec![post_reply(&post)])
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

/// A `post` answer becomes a socket reply in the shape of the matching
/// HTTP response: `action` and `info` payloads are the HTTP body; an `error`
/// payload is an HTTP-style error text.
fn post_reply(post: &PostData<'_>) -> Event_NE {
    let (status, body) = match post.response.kind {
        "error" => {
            let text: String = serde_json::from_str(post.response.payload.get())
                .unwrap_or_else(|_| post.response.payload.get().to_owned());
            (520, text)
        }
        _ => (200, post.response.payload.get().to_owned()),
    };
    Event_NE::new(Event::Reply(SocketReply {
        request_id: post.id,
        status,
        body: body.into(),
    }))
}
