//! The wasm front end: cargo builds the lib for wasm32, wasm-split cuts it at the lazy
//! split points, wasm-bindgen writes the JS glue, esbuild minifies it, and wasm-opt
//! shrinks every wasm file.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow};
use wasm_bindgen_cli_support::Bindgen;

use crate::config::Project;
use crate::run::{cargo, in_parallel, run, run_quiet, step};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The split loader's name; wasm-split writes it and the split modules import it. The
/// underscores, as long as a content hash, are replaced by its hash later.
pub const SPLIT_LOADER: &str = "__wasm_split.______________________.js";
pub const SPLIT_MANIFEST: &str = "__wasm_split_manifest.json";

/// Builds, splits, binds and optimises the front end into the site's pkg dir.
pub fn build(project: &Project) -> Result<()> {
    step("cargo build (wasm32)", || cargo_build(project))?;
    let pkg_dir = project.pkg_dir();
    fs::create_dir_all(&pkg_dir).with_context(|| format!("creating {}", pkg_dir.display()))?;
    let (main_wasm, chunks) = step("wasm-split", || split(project, &pkg_dir))?;
    step("wasm-bindgen", || bindgen(project, &main_wasm, &pkg_dir))?;
    if project.js_minify {
        let scripts = [project.pkg_file("js"), pkg_dir.join(SPLIT_LOADER)];
        let present: Vec<PathBuf> = scripts.into_iter().filter(|file| file.exists()).collect();
        step("JS minification (esbuild)", || minify_js(&present))?;
    }
    let mut to_optimise = chunks;
    to_optimise.push(project.pkg_file("wasm"));
    step("wasm-opt", || wasm_opt(&to_optimise))
}

/// Minifies each ES module in place (whitespace, comments, local names; exports and
/// `import.meta` kept), as cargo-leptos does with swc. esbuild is installed from npm by
/// ./dev, like wasm-opt; it runs in milliseconds where compiling swc takes minutes.
fn minify_js(files: &[PathBuf]) -> Result<()> {
    in_parallel(files, |file| {
        run_quiet(
            Command::new("esbuild")
                .arg(file)
                .args([
                    "--minify",
                    "--format=esm",
                    "--log-level=warning",
                    "--allow-overwrite",
                ])
                .arg(format!("--outfile={}", file.display())),
        )
        .context("esbuild (from npm, installed by ./dev)")
    })
}

fn cargo_build(project: &Project) -> Result<()> {
    let mut command = cargo();
    command
        .arg("build")
        .arg(format!("--package={}", project.lib_package))
        .arg("--lib")
        .arg(format!(
            "--target-dir={}",
            project.front_target_dir.display()
        ))
        .arg(format!("--target={WASM_TARGET}"))
        .arg("--no-default-features")
        .arg(project.lib_profile.arg())
        .args(project.timings.then_some("--timings"))
        .envs(project.env.iter().map(|(k, v)| (k, v)))
        .env("RUSTFLAGS", project.rustflags(WASM_TARGET, true)?);
    run(&mut command)
}

/// Writes the split modules and the loader into `pkg_dir` and the main module beside
/// the cargo output; returns the main module's path and the split modules'.
fn split(project: &Project, pkg_dir: &Path) -> Result<(PathBuf, Vec<PathBuf>)> {
    let source = &project.wasm_source;
    let wasm = fs::read(source).with_context(|| format!("reading {}", source.display()))?;
    let stem = source.file_stem().unwrap_or_default().to_string_lossy();
    let main_out = source.with_file_name(format!("{stem}_split.wasm"));
    let main_module = format!("./{}.js", project.output_name);
    let mut options = wasm_split_cli_support::Options::new(&wasm);
    options.output_dir = pkg_dir;
    options.main_out_path = &main_out;
    options.main_module = &main_module;
    let link_name = format!("./{SPLIT_LOADER}");
    options.link_name = &link_name;
    let split = wasm_split_cli_support::transform(options)
        .map_err(|e| anyhow!("{e:?}"))
        .context("wasm-split")?;
    // Sorted, so that the same build writes the same bytes.
    let prefetch: std::collections::BTreeMap<_, _> = split.prefetch_map.into_iter().collect();
    let manifest = pkg_dir.join(SPLIT_MANIFEST);
    fs::write(&manifest, serde_json::to_string_pretty(&prefetch)?)
        .with_context(|| format!("writing {}", manifest.display()))?;
    Ok((main_out, split.split_modules))
}

/// As `wasm-bindgen --target=web --keep-lld-exports --no-demangle` would; the wasm is
/// then renamed from `<name>_bg.wasm` to `<name>.wasm`, the name Leptos links.
fn bindgen(project: &Project, input: &Path, pkg_dir: &Path) -> Result<()> {
    Bindgen::new()
        .input_path(input)
        .web(true)?
        .keep_lld_exports(true)
        .demangle(false)
        // The CLI's defaults where the library's differ.
        .typescript(true)
        .omit_default_module_path(false)
        .out_name(&project.output_name)
        .generate(pkg_dir)
        .context("wasm-bindgen")?;
    let bg = pkg_dir.join(format!("{}_bg.wasm", project.output_name));
    fs::rename(&bg, project.pkg_file("wasm")).with_context(|| format!("renaming {}", bg.display()))
}

/// `wasm-opt -Oz` on each file in place, with the features cargo-leptos enables.
fn wasm_opt(files: &[PathBuf]) -> Result<()> {
    in_parallel(files, |file| {
        run_quiet(
            Command::new("wasm-opt")
                .args([
                    "-Oz",
                    "--enable-bulk-memory",
                    "--enable-nontrapping-float-to-int",
                ])
                .arg(file)
                .arg("-o")
                .arg(file),
        )
        .context("wasm-opt (binaryen 132 from npm, installed by ./dev)")
    })
}
