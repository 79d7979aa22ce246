//! The test kit: what the integration tests (`tests/api`) and the load bench
//! (`benches/load.rs`) share to drive a real server: fresh SQLite and PostgreSQL databases,
//! `switchboard serve` child processes, and a typed HTTP and WebSocket client.
//!
//! Both targets include this directory by path (`#[path = "…/kit/mod.rs"] mod kit;`), so each
//! compiles all of it but uses only a part: the bench makes few of the requests the tests make,
//! and the tests never read a node's process id. What one target leaves unused is not dead.
#![allow(dead_code)]

mod accounts;
mod api;
mod conversations;
mod db;
mod node;
mod notifications;
pub mod paths;
mod reach;
mod socket;
mod team;
mod visitors;
mod widgets;

pub use api::{Api, Chat, Credential, IfAssignee, Op, Widget};
pub use db::TestDb;
pub use node::Node;
pub use socket::Socket;
// Only the tests name these; the bench picks its database by its own variable, invites nobody
// and identifies no visitor.
#[allow(unused_imports)]
pub use {
    api::client,
    db::Db,
    team::token_of,
    visitors::{identity, user_hash},
};

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Different on every call, across processes too: for names of databases, files and emails.
pub fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
