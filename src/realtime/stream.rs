//! One open WebSocket stream: replays what the client missed (`since`), then forwards live
//! events of its audience, keeps the connection alive, and closes with a reason when the
//! client falls too far behind, its session ends, or the server stops.
//!
//! A session can end while its streams are open, on any node: a deactivation, a password
//! change or reset. The use case then commits a `SessionsEnded` event for the operator, which
//! reaches every node's hub the way every event does (the event log, and NOTIFY on
//! PostgreSQL). Each of that operator's streams asks whether its own session still holds, and
//! closes with `CLOSE_SESSION_ENDED` if not.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt as _;
use futures_util::future::BoxFuture;
use tokio::sync::broadcast;
use tokio::time::{Instant, interval, timeout};
use tokio_util::sync::CancellationToken;

use super::{Delivery, Signal};
use crate::domain::Id;
use crate::domain::event::StoredEvent;

/// How often the server pings, and how long a silent client is kept.
const PING_EVERY: Duration = Duration::from_secs(20);
const SILENCE_LIMIT: Duration = Duration::from_secs(60);
/// A client that cannot take one frame in this long is gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Close code for a client that fell too far behind: reconnect with `?since=<last id>`.
pub const CLOSE_LAGGED: u16 = 4001;
/// Close code for a stream whose session ended (deactivated, or the password was changed or
/// reset elsewhere): sign in again.
pub const CLOSE_SESSION_ENDED: u16 = 4003;
const CLOSE_GOING_AWAY: u16 = 1001;
/// The session could not be checked (the database is unreachable): reconnect.
const CLOSE_TRY_AGAIN: u16 = 1013;

/// Asks whether an inbox stream's session still holds: `Some(false)` once it has ended, `None`
/// when that cannot be told right now.
pub type SessionCheck = Box<dyn Fn() -> BoxFuture<'static, Option<bool>> + Send + Sync>;

/// Who a stream is for.
#[derive(Debug, Clone, Copy)]
pub enum Audience {
    /// An operator's inbox tab: every event of the workspace, and their personal ones.
    Inbox { operator_id: Id },
    /// A visitor: replies and status changes of their own conversations.
    Visitor(Id),
    /// Whoever holds a chat's emailed link: what its visitor sees, of that one conversation
    /// (whichever visitor record it belongs to now).
    VisitorChat(Id),
}

impl Audience {
    fn render(self, delivery: &Delivery) -> Option<&Utf8Bytes> {
        match self {
            Audience::Inbox { operator_id } => {
                personal_to(delivery.recipient_id, operator_id).then_some(&delivery.inbox_json)
            }
            Audience::Visitor(id) if delivery.visitor_id == Some(id) => {
                delivery.visitor_json.as_ref()
            }
            Audience::VisitorChat(id) if delivery.conversation_id == Some(id) => {
                delivery.visitor_json.as_ref()
            }
            Audience::Visitor(_) | Audience::VisitorChat(_) => None,
        }
    }

    fn render_stored(self, stored: &StoredEvent) -> Option<String> {
        match self {
            Audience::Inbox { operator_id } => {
                personal_to(stored.event.recipient_id, operator_id).then(|| stored.inbox_json())
            }
            Audience::Visitor(id) if stored.event.visitor_id == Some(id) => stored.visitor_json(),
            Audience::VisitorChat(id) if stored.event.conversation_id() == Some(id) => {
                stored.visitor_json()
            }
            Audience::Visitor(_) | Audience::VisitorChat(_) => None,
        }
    }
}

/// Whether an event with this recipient (None = everyone) is for `operator_id`.
fn personal_to(recipient_id: Option<Id>, operator_id: Id) -> bool {
    recipient_id.is_none_or(|r| r == operator_id)
}

pub struct Stream {
    pub audience: Audience,
    /// Subscribed before the backlog was read, so nothing falls between the two.
    pub live: broadcast::Receiver<Signal>,
    /// Events up to this id are not sent (they happened before the stream opened, or the
    /// client has them).
    pub start_after: Id,
    /// Events after the client's `since`, oldest first.
    pub backlog: Vec<StoredEvent>,
    /// The backlog was cut short: the client must refetch.
    pub backlog_truncated: bool,
    /// An inbox stream's session, checked when its operator's sessions end.
    pub session: Option<SessionCheck>,
    pub shutdown: CancellationToken,
}

impl Stream {
    /// For an event that ended sessions of this stream's operator: whether this stream's
    /// session was one of them, and the stream must close.
    async fn session_ended(&self, sessions_ended_of: Option<Id>) -> Result<(), End> {
        let (Audience::Inbox { operator_id }, Some(check)) = (self.audience, &self.session) else {
            return Ok(());
        };
        if sessions_ended_of != Some(operator_id) {
            return Ok(());
        }
        match check().await {
            Some(true) => Ok(()),
            Some(false) => Err(End::Close(
                CLOSE_SESSION_ENDED,
                "session ended: sign in again",
            )),
            None => Err(End::Close(
                CLOSE_TRY_AGAIN,
                "the session could not be checked: reconnect",
            )),
        }
    }
}

impl Stream {
    /// Queues what `signal` has for this stream's client (see `feed`).
    async fn forward(
        &self,
        socket: &mut WebSocket,
        signal: Result<Signal, broadcast::error::RecvError>,
        last_sent: Id,
    ) -> Result<(), End> {
        match signal {
            Ok(Signal::Event(delivery)) => {
                // Already sent from the backlog.
                if delivery.id <= last_sent {
                    return Ok(());
                }
                if delivery.sessions_ended_of.is_some() {
                    return self.session_ended(delivery.sessions_ended_of).await;
                }
                match self.audience.render(&delivery) {
                    Some(text) => feed(socket, text.clone()).await,
                    None => Ok(()),
                }
            }
            Ok(Signal::Resync) => feed(socket, Utf8Bytes::from_static(RESYNC)).await,
            Err(broadcast::error::RecvError::Lagged(_)) => {
                Err(End::Close(CLOSE_LAGGED, LAGGED_REASON))
            }
            Err(broadcast::error::RecvError::Closed) => {
                Err(End::Close(CLOSE_GOING_AWAY, "server shutting down"))
            }
        }
    }
}

enum End {
    Closed,
    Close(u16, &'static str),
}

pub async fn run(mut socket: WebSocket, stream: Stream) {
    let end = pump(&mut socket, stream).await;
    if let End::Close(code, reason) = end {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let _ = timeout(SEND_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
    }
}

const LAGGED_REASON: &str = "lagged: reconnect with ?since=<last event id> or refetch";

/// Sends one frame. A client that has not taken it within `SEND_TIMEOUT` is as far behind as
/// one that overflowed its buffer, and is told so the same way (if it ever reads again).
async fn send(socket: &mut WebSocket, text: Utf8Bytes) -> Result<(), End> {
    sent_within_timeout(socket.send(Message::Text(text))).await
}

/// Queues one frame to go with the next `flush`: the events of one commit, which arrive
/// together, leave in one write.
async fn feed(socket: &mut WebSocket, text: Utf8Bytes) -> Result<(), End> {
    sent_within_timeout(socket.feed(Message::Text(text))).await
}

async fn flush(socket: &mut WebSocket) -> Result<(), End> {
    sent_within_timeout(socket.flush()).await
}

async fn sent_within_timeout(
    sending: impl Future<Output = Result<(), axum::Error>>,
) -> Result<(), End> {
    match timeout(SEND_TIMEOUT, sending).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(End::Closed),
        Err(_) => Err(End::Close(CLOSE_LAGGED, LAGGED_REASON)),
    }
}

/// At most this many frames are queued before a flush.
const FRAMES_PER_FLUSH: usize = 64;

async fn pump(socket: &mut WebSocket, mut stream: Stream) -> End {
    let audience = stream.audience;
    let mut last_sent: Id = stream.start_after;
    if stream.backlog_truncated
        && let Err(end) = send(socket, Utf8Bytes::from_static(RESYNC)).await
    {
        return end;
    }
    for stored in &stream.backlog {
        last_sent = stored.id;
        let sessions_ended_of = stored.event.sessions_ended_of();
        if sessions_ended_of.is_some() {
            if let Err(end) = stream.session_ended(sessions_ended_of).await {
                return end;
            }
            continue;
        }
        if let Some(text) = audience.render_stored(stored)
            && let Err(end) = send(socket, text.into()).await
        {
            return end;
        }
    }
    let mut ping = interval(PING_EVERY);
    ping.reset();
    let mut heard = Instant::now();
    loop {
        tokio::select! {
            signal = stream.live.recv() => {
                // Whatever else is already waiting goes in the same write.
                let mut next = Some(signal);
                let mut queued = 0;
                while let Some(signal) = next.take() {
                    if let Err(end) = stream.forward(socket, signal, last_sent).await {
                        return end;
                    }
                    queued += 1;
                    if queued < FRAMES_PER_FLUSH {
                        next = match stream.live.try_recv() {
                            Ok(signal) => Some(Ok(signal)),
                            Err(broadcast::error::TryRecvError::Empty) => None,
                            Err(broadcast::error::TryRecvError::Lagged(n)) => {
                                Some(Err(broadcast::error::RecvError::Lagged(n)))
                            }
                            Err(broadcast::error::TryRecvError::Closed) => {
                                Some(Err(broadcast::error::RecvError::Closed))
                            }
                        };
                    }
                }
                if let Err(end) = flush(socket).await {
                    return end;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return End::Closed,
                // Anything from the client, pongs included, shows it is alive; streams are
                // one-way, so its content is ignored.
                Some(Ok(_)) => heard = Instant::now(),
            },
            _ = ping.tick() => {
                if heard.elapsed() > SILENCE_LIMIT {
                    return End::Close(CLOSE_GOING_AWAY, "no answer to pings");
                }
                if timeout(SEND_TIMEOUT, socket.send(Message::Ping(Default::default()))).await.is_err() {
                    return End::Closed;
                }
            }
            _ = stream.shutdown.cancelled() => return End::Close(CLOSE_GOING_AWAY, "server shutting down"),
        }
    }
}

/// Sent when events may have been missed: the client should refetch what it shows.
pub const RESYNC: &str = r#"{"type":"resync"}"#;
