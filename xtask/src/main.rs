//! Gatehouse's build tool (`cargo xtask build`): the release site and server as
//! `cargo leptos build --release --precompress --split` (cargo-leptos 0.3.10) makes them,
//! from the same `[[workspace.metadata.leptos]]` settings, without installing it.

mod assets;
mod compress;
mod config;
mod front;
mod hash;
mod run;
mod style;

use std::time::Instant;

use anyhow::{Context, Result, bail};

use config::Project;

const USAGE: &str = "usage: cargo xtask build [--timings]

Builds the release site into the site root (wasm split at the lazy routes, JS, CSS,
assets; content-hashed names, brotli and gzip beside each file) and then the release
server, which links those names. --timings: each cargo build writes its report of where
the time went to target/cargo-timings/.";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["build"] => build(false),
        ["build", "--timings"] => build(true),
        _ => bail!("{USAGE}"),
    }
}

fn build(timings: bool) -> Result<()> {
    let mut project = Project::load()?;
    project.timings = timings;
    std::env::set_current_dir(&project.root)
        .with_context(|| format!("entering {}", project.root.display()))?;
    let started = Instant::now();
    if project.site_root.exists() {
        std::fs::remove_dir_all(&project.site_root)
            .with_context(|| format!("emptying {}", project.site_root.display()))?;
    }
    run::step(
        "front end (cargo, wasm-split, wasm-bindgen, wasm-opt)",
        || front::build(&project),
    )?;
    run::step("style", || style::build(&project))?;
    run::step("assets", || assets::copy(&project))?;
    if project.hash_files {
        run::step("content hashes", || hash::add_hashes(&project))?;
    }
    run::step("precompression", || {
        compress::compress_site(&project.site_root)
    })?;
    run::step("server", || server(&project))?;
    println!("xtask: built in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The server, with the environment cargo-leptos gives it: the leptos crates read
/// `LEPTOS_OUTPUT_NAME` at compile time, and `server/src/site.rs` `LEPTOS_HASH_FILES`.
fn server(project: &Project) -> Result<()> {
    run::run(
        run::cargo()
            .arg("build")
            .arg(format!("--package={}", project.bin_package))
            .arg(format!("--bin={}", project.bin_target))
            .arg("--no-default-features")
            .arg(project.bin_profile.arg())
            .args(project.timings.then_some("--timings"))
            .envs(project.env.iter().map(|(k, v)| (k, v)))
            .env("RUSTFLAGS", project.rustflags(&run::host_triple()?, false)?),
    )
}
