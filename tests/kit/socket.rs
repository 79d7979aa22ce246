//! A WebSocket client of the event streams.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{Api, Chat, Op, Widget, paths};

pub struct Socket {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Api {
    /// The operator's inbox stream.
    pub async fn inbox_stream(&self, op: &Op) -> Socket {
        self.open_stream(paths::EVENTS, Some(&op.token)).await
    }

    /// The inbox stream, replaying what came after event `since` first.
    pub async fn inbox_stream_since(&self, op: &Op, since: i64) -> Socket {
        self.open_stream(&paths::events_since(since), Some(&op.token))
            .await
    }

    /// The visitor's stream of their chat.
    pub async fn visitor_stream(&self, widget: &Widget, chat: &Chat) -> Socket {
        self.open_stream(&paths::visitor_events(&widget.key, &chat.token), None)
            .await
    }

    /// The stream of the chat an emailed link opens.
    pub async fn chat_link_stream(&self, link_token: &str) -> Socket {
        let path = format!("{}/events", paths::chat_link(link_token));
        self.open_stream(&path, None).await
    }

    async fn open_stream(&self, path: &str, token: Option<&str>) -> Socket {
        Socket::connect(&self.base, path, token)
            .await
            .unwrap_or_else(|status| panic!("{path} refused with {status}"))
    }
}

impl Socket {
    /// Opens `path` (e.g. `/api/v1/events`) with an optional bearer token; `Err(status)` when
    /// the server refuses the upgrade.
    pub async fn connect(base: &str, path: &str, token: Option<&str>) -> Result<Socket, u16> {
        let url = format!("{}{path}", base.replacen("http://", "ws://", 1));
        let mut request = url.into_client_request().unwrap();
        if let Some(token) = token {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((ws, _)) => Ok(Socket { ws }),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("websocket connect failed: {e}"),
        }
    }

    /// Like `connect`, with a 4 KiB receive buffer: a client that stops reading blocks the
    /// server's writes after little data.
    pub async fn connect_with_small_buffer(base: &str, path: &str, token: &str) -> Socket {
        let addr: SocketAddr = base.trim_start_matches("http://").parse().unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(addr).await.unwrap();
        let mut request = format!("ws://{addr}{path}").into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (ws, _) = tokio_tungstenite::client_async(
            request,
            tokio_tungstenite::MaybeTlsStream::Plain(stream),
        )
        .await
        .unwrap();
        Socket { ws }
    }

    /// The next JSON event, or `None` when the server closed the stream (with its close
    /// code). Panics after `wait` of silence.
    pub async fn next_within(&mut self, wait: Duration) -> Result<Value, Option<u16>> {
        self.event(Some(wait)).await
    }

    /// The next JSON event however long it takes; `None` once the stream has ended.
    pub async fn recv(&mut self) -> Option<Value> {
        self.event(None).await.ok()
    }

    async fn event(&mut self, silence: Option<Duration>) -> Result<Value, Option<u16>> {
        loop {
            let next = match silence {
                Some(wait) => tokio::time::timeout(wait, self.ws.next())
                    .await
                    .expect("an event in time"),
                None => self.ws.next().await,
            };
            match next {
                Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| u16::from(f.code))),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(None),
            }
        }
    }

    /// Every event that arrives until the stream has been quiet for `quiet`.
    pub async fn until_quiet(&mut self, quiet: Duration) -> Vec<Value> {
        let mut events = Vec::new();
        while let Ok(Some(Ok(message))) = tokio::time::timeout(quiet, self.ws.next()).await {
            if let Message::Text(text) = message {
                events.push(serde_json::from_str(&text).unwrap());
            }
        }
        events
    }

    /// Skips events until the server closes the stream, within 10 s of the last one; the close
    /// code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            if let Err(code) = self.next_within(Duration::from_secs(10)).await {
                return code;
            }
        }
    }

    pub async fn next(&mut self) -> Value {
        self.next_within(Duration::from_secs(10))
            .await
            .expect("stream open")
    }

    /// Skips events until one of type `kind`.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let event = self.next().await;
            if event["type"] == kind {
                return event;
            }
        }
    }
}
