//! Switchboard: a self-hosted live-chat help desk whose headline capability is conversation
//! ownership and routing. See `README.md` and `docs/` for the product; `SPEC.md` sections are
//! referred to by number in comments.

pub mod admin;
pub mod ai;
pub mod app;
pub mod config;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod notify;
pub mod realtime;
pub mod service;
pub mod store;
pub mod timefmt;
