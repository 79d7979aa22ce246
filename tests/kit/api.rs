//! The HTTP client: raw requests, for tests that send what no typed request would, and the
//! types the typed requests (in the modules beside this one, per resource) take and return.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

/// What a request is authorised with.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// An operator's session token, as `Authorization: Bearer`.
    Bearer(&'a str),
    /// A visitor's token, as `X-Visitor-Token`.
    Visitor(&'a str),
}

/// A signed-in operator.
#[derive(Debug, Clone)]
pub struct Op {
    pub id: i64,
    pub token: String,
}

#[derive(Debug, Clone)]
pub struct Widget {
    pub id: i64,
    pub key: String,
}

/// A visitor's conversation.
#[derive(Debug, Clone)]
pub struct Chat {
    pub id: i64,
    pub token: String,
}

/// The `if_assignee_id` precondition of a claim or an assignee change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfAssignee {
    /// No precondition: the field is left out.
    Any,
    /// Only while nobody has the conversation (`null`).
    Nobody,
    /// Only while this operator has it.
    Is(i64),
}

impl IfAssignee {
    /// Adds the precondition to a request body (a JSON object).
    pub(super) fn add_to(self, body: &mut Value) {
        match self {
            IfAssignee::Any => {}
            IfAssignee::Nobody => body["if_assignee_id"] = Value::Null,
            IfAssignee::Is(id) => body["if_assignee_id"] = id.into(),
        }
    }
}

/// The tests' HTTP client: a request the server never answers fails after 30 s instead of
/// hanging the run.
pub fn client() -> reqwest::Client {
    // reqwest is built without a bundled crypto provider (the server installs ring at start).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// One server's API.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
}

impl Api {
    /// The API of the server at `base` (`http://host:port`).
    pub fn new(base: String) -> Api {
        Api {
            base,
            client: client(),
        }
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// One request with an optional bearer token and JSON body; the status and the answer
    /// (JSON, a string if it is not JSON, null if empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.send(method, path, token.map(Credential::Bearer), body)
            .await
    }

    /// Like `call`, with whichever credential the request carries.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        credential: Option<Credential<'_>>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.client.request(method, self.url(path));
        req = match credential {
            Some(Credential::Bearer(token)) => req.bearer_auth(token),
            Some(Credential::Visitor(token)) => req.header("X-Visitor-Token", token),
            None => req,
        };
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, op: &Op, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, Some(&op.token), None).await
    }

    pub async fn post(&self, op: &Op, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(&op.token), Some(body))
            .await
    }

    pub async fn put(&self, op: &Op, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PUT, path, Some(&op.token), Some(body))
            .await
    }

    pub async fn delete(&self, op: &Op, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call(Method::DELETE, path, Some(&op.token), body).await
    }
}

impl Api {
    /// Every operation the served OpenAPI document lists, as (METHOD, path template).
    pub async fn documented_operations(&self) -> std::collections::BTreeSet<(String, String)> {
        let (status, doc) = self
            .call(Method::GET, super::paths::OPENAPI, None, None)
            .await;
        assert_eq!(status, 200, "{doc}");
        let methods = [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ];
        let mut operations = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().unwrap().keys() {
                if methods.contains(&method.as_str()) {
                    operations.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        operations
    }
}
