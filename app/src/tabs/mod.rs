//! The Developers tabs that hold data, one module each: Overview, Apps, Logs, Usage, API
//! status, Integration logs and Audit. The API keys tab lives in [`crate::keys`] and the Docs tab in
//! [`crate::docs`]; the page that switches between the tabs is in [`crate::pages`].

mod api_status;
mod apps;
mod audit;
mod integration_logs;
mod overview;
mod request_logs;
mod usage;

pub use api_status::ApiStatusTab;
pub use apps::AppsTab;
pub use audit::AuditTab;
pub use integration_logs::IntegrationLogsTab;
pub use overview::OverviewTab;
pub use request_logs::RequestLogsTab;
pub use usage::UsageTab;
