//! Integration tests: each boots the real server on a random port with a fresh database and
//! talks HTTP to it, on SQLite and on PostgreSQL.

mod common;

mod accounts;
mod assignment;
mod browser;
mod errors;
mod events;
mod isolation;
mod multinode;
mod notifications;
mod races;
mod routing;
mod visitors;
mod widget;
