//! The Gatehouse binary: `serve` (the default), `migrate`, `create-tenant`, `create-user`.
#![forbid(unsafe_code)]
// The router's nested service types are deeper than the default limit allows.
#![recursion_limit = "256"]

mod assets;
mod branding;
mod cli;
mod client_address;
mod config;
mod csrf;
mod docs;
mod error;
mod framing;
mod health;
mod limits;
mod master_key;
mod mcp;
mod metrics;
mod operator_api;
mod router;
mod serve;
mod sign_in_links;
mod site;
mod state;
mod tasks;
#[cfg(test)]
mod test_support;
mod v1;

use clap::Parser;

/// mimalloc: many small allocations from many tasks at once (each request, each MCP
/// message) contend on glibc's arena locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gatehouse: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
