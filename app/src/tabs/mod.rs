//! The Developers tabs that hold data, one module each: Overview, Apps, API keys,
//! Webhooks, Logs, Usage, API status, Integration logs and Audit. The Docs tab lives in
//! [`crate::docs`] beside the docs index the server reads; the page that switches between
//! the tabs is in [`crate::pages`]. Tabs build on [`crate::widgets`] and never import
//! [`crate::pages`].

mod api_status;
mod apps;
mod audit;
mod integration_logs;
mod keys;
mod overview;
mod request_logs;
mod usage;
mod webhooks;

pub use api_status::ApiStatusTab;
pub use apps::AppsTab;
pub use audit::AuditTab;
pub use integration_logs::IntegrationLogsTab;
pub use keys::ApiKeysTab;
pub use overview::OverviewTab;
pub use request_logs::RequestLogsTab;
pub use usage::UsageTab;
pub use webhooks::WebhooksTab;
