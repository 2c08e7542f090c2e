//! The build settings: `[[workspace.metadata.leptos]]` in Cargo.toml (through `cargo
//! metadata`) resolved into the paths, cargo arguments and environment cargo-leptos
//! 0.3.10 derives from them for `build --release --precompress --split`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// One `[[workspace.metadata.leptos]]` entry. Unknown keys are refused, so that a
/// setting this tool does not implement is not silently ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct LeptosSection {
    name: String,
    bin_package: String,
    bin_target: String,
    bin_exe_name: Option<String>,
    lib_package: String,
    #[serde(default)]
    output_name: Option<String>,
    #[serde(default = "default_site_root")]
    site_root: PathBuf,
    #[serde(default = "default_pkg_dir")]
    site_pkg_dir: PathBuf,
    style_file: Option<PathBuf>,
    assets_dir: Option<PathBuf>,
    #[serde(default = "default_site_addr")]
    site_addr: String,
    #[serde(default = "default_reload_port")]
    reload_port: u16,
    #[serde(default = "default_browserquery")]
    browserquery: String,
    lib_profile_release: Option<String>,
    bin_profile_release: Option<String>,
    #[serde(default)]
    hash_files: bool,
    hash_file_name: Option<String>,
    #[serde(default)]
    always_erase_components: bool,
    /// As in cargo-leptos: release builds minify the JS unless this is false.
    #[serde(default = "default_js_minify")]
    js_minify: bool,
    // Read by `cargo leptos end-to-end` and `watch` only.
    #[allow(dead_code)]
    end2end_cmd: Option<String>,
    #[allow(dead_code)]
    end2end_dir: Option<String>,
}

fn default_site_root() -> PathBuf {
    "target/site".into()
}
fn default_pkg_dir() -> PathBuf {
    "pkg".into()
}
fn default_site_addr() -> String {
    "127.0.0.1:3000".into()
}
fn default_reload_port() -> u16 {
    3001
}
fn default_js_minify() -> bool {
    true
}
fn default_browserquery() -> String {
    "defaults".into()
}

#[derive(Deserialize)]
struct Metadata {
    workspace_root: PathBuf,
    target_directory: PathBuf,
    packages: Vec<Package>,
    metadata: Option<WorkspaceMetadata>,
}

#[derive(Deserialize)]
struct WorkspaceMetadata {
    leptos: Option<Vec<LeptosSection>>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    manifest_path: PathBuf,
    targets: Vec<Target>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

/// A cargo profile as cargo-leptos picks it: the named one if configured, else `release`.
#[derive(Debug)]
pub struct Profile(Option<String>);

impl Profile {
    /// `--release` or `--profile=NAME`.
    pub fn arg(&self) -> String {
        match &self.0 {
            Some(name) => format!("--profile={name}"),
            None => "--release".into(),
        }
    }

    /// The directory under the target dir that cargo writes the profile's artifacts to.
    pub fn dir(&self) -> &str {
        match self.0.as_deref() {
            None | Some("release" | "bench") => "release",
            Some("dev" | "test") => "debug",
            Some(name) => name,
        }
    }
}

/// Everything the build needs, resolved. Relative paths are relative to the workspace
/// root, which is the working directory of every step.
#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    pub output_name: String,
    pub lib_package: String,
    pub lib_profile: Profile,
    /// The separate target dir of the wasm build (`<target>/front`), so that its
    /// RUSTFLAGS never invalidate the native build.
    pub front_target_dir: PathBuf,
    /// The wasm cargo writes, before splitting.
    pub wasm_source: PathBuf,
    pub bin_package: String,
    pub bin_target: String,
    pub bin_profile: Profile,
    /// The server executable; the hash file is written beside it.
    pub exe_file: PathBuf,
    pub site_root: PathBuf,
    pub site_pkg_dir: PathBuf,
    pub style_file: Option<PathBuf>,
    pub browserquery: String,
    pub assets_dir: Option<PathBuf>,
    pub hash_files: bool,
    pub hash_file_name: String,
    pub js_minify: bool,
    /// Environment for both cargo builds (without RUSTFLAGS, see [`Project::rustflags`]).
    pub env: Vec<(&'static str, String)>,
    /// Whether both cargo builds write a `--timings` report (`target/cargo-timings/`).
    pub timings: bool,
    erase_components: bool,
}

impl Project {
    /// Reads the workspace's (single) leptos project.
    pub fn load() -> Result<Self> {
        let output = crate::run::cargo()
            .args(["metadata", "--no-deps", "--format-version=1"])
            .output()
            .context("running cargo metadata")?;
        if !output.status.success() {
            bail!(
                "cargo metadata failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let metadata: Metadata =
            serde_json::from_slice(&output.stdout).context("reading cargo metadata's output")?;
        let mut sections = metadata
            .metadata
            .and_then(|m| m.leptos)
            .context("Cargo.toml has no [[workspace.metadata.leptos]]")?;
        if sections.len() != 1 {
            bail!(
                "expected one [[workspace.metadata.leptos]], found {}",
                sections.len()
            );
        }
        let section = sections.remove(0);
        Self::resolve(
            section,
            metadata.workspace_root,
            metadata.target_directory,
            &metadata.packages,
        )
    }

    fn resolve(
        s: LeptosSection,
        root: PathBuf,
        target_dir: PathBuf,
        packages: &[Package],
    ) -> Result<Self> {
        let package = |name: &str| {
            packages
                .iter()
                .find(|p| p.name == name)
                .with_context(|| format!("no workspace package {name}"))
        };
        let relative = |path: &Path| -> Result<PathBuf> {
            Ok(path
                .strip_prefix(&root)
                .with_context(|| format!("{} is outside the workspace", path.display()))?
                .to_path_buf())
        };
        if s.site_root.starts_with("CARGO_TARGET_DIR")
            || s.site_root.starts_with("CARGO_BUILD_TARGET_DIR")
        {
            bail!("site-root relative to the target dir is not supported; give a path");
        }
        let lib = package(&s.lib_package)?;
        let cdylib = lib
            .targets
            .iter()
            .find(|t| t.kind.iter().any(|k| k == "cdylib"))
            .with_context(|| format!("{} has no cdylib target", s.lib_package))?;
        let bin = package(&s.bin_package)?;
        if !bin
            .targets
            .iter()
            .any(|t| t.name == s.bin_target && t.kind.iter().any(|k| k == "bin"))
        {
            bail!("{} has no bin target {}", s.bin_package, s.bin_target);
        }
        let output_name = s.output_name.clone().unwrap_or_else(|| s.name.clone());
        let lib_profile = Profile(s.lib_profile_release.clone());
        let bin_profile = Profile(s.bin_profile_release.clone());
        let front_target_dir = target_dir.join("front");
        let wasm_source = front_target_dir
            .join("wasm32-unknown-unknown")
            .join(lib_profile.dir())
            .join(format!("{}.wasm", cdylib.name));
        let exe_file = target_dir
            .join(bin_profile.dir())
            .join(s.bin_exe_name.as_deref().unwrap_or(&s.bin_package));
        let dir_of = |p: &Package| relative(p.manifest_path.parent().unwrap_or(&root));
        let hash_file_name = s
            .hash_file_name
            .clone()
            .unwrap_or_else(|| "hash.txt".into());
        let mut env = vec![
            ("LEPTOS_OUTPUT_NAME", output_name.clone()),
            ("LEPTOS_SITE_ROOT", s.site_root.display().to_string()),
            ("LEPTOS_SITE_PKG_DIR", s.site_pkg_dir.display().to_string()),
            ("LEPTOS_SITE_ADDR", s.site_addr.clone()),
            ("LEPTOS_RELOAD_PORT", s.reload_port.to_string()),
            ("LEPTOS_LIB_DIR", dir_of(lib)?.display().to_string()),
            ("LEPTOS_BIN_DIR", dir_of(bin)?.display().to_string()),
            ("LEPTOS_JS_MINIFY", s.js_minify.to_string()),
            ("LEPTOS_HASH_FILES", s.hash_files.to_string()),
        ];
        if s.hash_files {
            env.push(("LEPTOS_HASH_FILE_NAME", hash_file_name.clone()));
        }
        Ok(Self {
            output_name,
            lib_package: s.lib_package,
            lib_profile,
            front_target_dir,
            wasm_source,
            bin_package: s.bin_package,
            bin_target: s.bin_target,
            bin_profile,
            exe_file,
            site_root: s.site_root,
            site_pkg_dir: s.site_pkg_dir,
            style_file: s.style_file,
            browserquery: s.browserquery,
            assets_dir: s.assets_dir,
            hash_files: s.hash_files,
            hash_file_name,
            js_minify: s.js_minify,
            env,
            timings: false,
            erase_components: s.always_erase_components,
            root,
        })
    }

    /// `<site-root>/<site-pkg-dir>`.
    pub fn pkg_dir(&self) -> PathBuf {
        self.site_root.join(&self.site_pkg_dir)
    }

    /// A file of the site's pkg dir named after the output name, e.g. `gatehouse.js`.
    pub fn pkg_file(&self, extension: &str) -> PathBuf {
        self.pkg_dir()
            .join(format!("{}.{extension}", self.output_name))
    }

    /// RUSTFLAGS as cargo-leptos sets them: the configured flags for `target` (which a
    /// RUSTFLAGS variable would otherwise replace), then `-Clink-args=--emit-relocs` for
    /// the split wasm and `--cfg erase_components` when configured.
    pub fn rustflags(&self, target: &str, wasm: bool) -> Result<String> {
        let mut flags = configured_rustflags(&self.root, target)?;
        if wasm {
            flags.push("-Clink-args=--emit-relocs".into());
        }
        if self.erase_components {
            flags.extend(["--cfg".into(), "erase_components".into()]);
        }
        Ok(flags.join(" "))
    }
}

/// The rustflags cargo would use for `target` without a RUSTFLAGS variable: the
/// variable itself if set, else `target.<triple>.rustflags`, else `build.rustflags`
/// from the workspace's `.cargo/config.toml`.
fn configured_rustflags(root: &Path, target: &str) -> Result<Vec<String>> {
    if let Ok(flags) = std::env::var("RUSTFLAGS") {
        return Ok(flags.split_whitespace().map(String::from).collect());
    }
    let path = root.join(".cargo/config.toml");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let config: toml::Table =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let flags = config
        .get("target")
        .and_then(|t| t.get(target))
        .and_then(|t| t.get("rustflags"))
        .or_else(|| config.get("build").and_then(|b| b.get("rustflags")));
    Ok(match flags {
        None => Vec::new(),
        Some(toml::Value::String(s)) => s.split_whitespace().map(String::from).collect(),
        Some(toml::Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(String::from)
                    .context("a rustflag that is not a string")
            })
            .collect::<Result<_>>()?,
        Some(_) => bail!("{}: rustflags must be a string or an array", path.display()),
    })
}
