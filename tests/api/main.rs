//! Integration tests: each boots the real server on a random port with a fresh database and
//! talks HTTP to it, on SQLite and on PostgreSQL.

// The test kit, shared with the load bench (benches/load.rs).
#[path = "../kit/mod.rs"]
mod kit;

mod common;

mod accounts;
mod admin;
mod assignment;
mod backup;
mod browser;
mod connections;
mod crash;
mod errors;
mod events;
mod fake_ai;
mod identity;
mod inbox;
mod input;
mod isolation;
mod metrics;
mod missed_replies;
mod multinode;
mod nginx;
mod notifications;
mod outages;
mod passwords;
mod pg_cluster;
mod presence;
mod proxy;
mod races;
mod reports;
mod routes;
mod routing;
mod security;
mod statements;
mod team;
mod tenancy;
mod visitors;
mod widget;
mod workload;
