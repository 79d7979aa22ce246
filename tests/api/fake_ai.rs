//! A loopback server speaking OpenAI's chat-completions protocol, for the tests of the
//! OpenAI-compatible responder.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// A loopback server speaking OpenAI's chat-completions protocol, answering what the test
/// tells it to.
#[derive(Clone)]
pub struct FakeProvider {
    answer: Arc<Mutex<(u16, Value, Duration)>>,
    pub requests: Arc<Mutex<Vec<Value>>>,
}

async fn completions(
    State(fake): State<FakeProvider>,
    Json(request): Json<Value>,
) -> (StatusCode, Json<Value>) {
    fake.requests.lock().unwrap().push(request);
    let (status, body, delay) = fake.answer.lock().unwrap().clone();
    tokio::time::sleep(delay).await;
    (StatusCode::from_u16(status).unwrap(), Json(body))
}

impl FakeProvider {
    pub async fn start() -> (FakeProvider, String) {
        let fake = FakeProvider {
            answer: Arc::new(Mutex::new((200, json!({}), Duration::ZERO))),
            requests: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(completions))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (fake, base)
    }

    pub fn answer(&self, status: u16, body: Value, delay: Duration) {
        *self.answer.lock().unwrap() = (status, body, delay);
    }
}

/// A completion that says `content`.
pub fn text(content: &str) -> Value {
    json!({"id": "c", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]})
}
