use crate::node::NodeState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::convert::Infallible;
use std::sync::Arc;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;

/// `GET /v1/events`: server-sent events, one `block` event per committed block. A subscriber that falls
/// more than `rpc.events_buffer_max` blocks behind is sent a `lagged` event and continues from the newest.
pub async fn stream(State(state): State<Arc<NodeState>>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let events = BroadcastStream::new(state.events.subscribe()).map(|item| {
        Ok(match item {
            Ok(block) => {
                Event::default().event("block").json_data(&block).unwrap_or_else(|_| Event::default().event("error"))
            }
            Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
                Event::default().event("lagged").data(n.to_string())
            }
        })
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
