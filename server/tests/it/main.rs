//! The server crate's integration tests, one binary with a module per topic.

mod common;
// The real receiver and SMTP server the domain's tests use too.
mod alerts;
mod api;
mod audit;
mod docs;
mod hardening;
mod http;
mod limits;
mod mcp;
mod metrics;
mod openapi;
mod operator;
#[allow(dead_code)]
#[path = "../../../domain/tests/it/common/receiver.rs"]
mod receiver;
mod request_logs;
#[allow(dead_code)]
#[path = "../../../domain/tests/it/common/smtp.rs"]
mod smtp;
mod webhooks;
