//! The domain crate's integration tests, one binary with a module per topic.

#[macro_use]
mod common;
mod alerts;
mod api_keys;
mod audit;
mod foundation;
mod hardening;
mod key_actors;
mod limits;
mod operator;
mod request_logs;
mod webhooks;
