//! The widgets the tabs share and no tab owns: what a modal does with the keyboard, a
//! chart of calls over time, a copy button, the show-once secret dialog, a form's messages by field, a list the server searches, the
//! table of recorded requests, and small formatting and feedback helpers. A widget imports no tab and no page.

pub mod bar_chart;
pub mod copy;
pub mod dialog;
pub mod field_errors;
pub mod one_time_secret;
pub mod request_table;
pub mod search;
pub mod ui;
