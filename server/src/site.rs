//! Leptos site options. cargo-leptos reads only Cargo.toml's
//! `[[workspace.metadata.leptos]]`, and bakes the build-side values (output name,
//! site root, pkg dir) into this binary at compile time; `Leptos.toml` holds the
//! options only the running server uses (`env`), so no setting is written twice.

use leptos::config::{Env, LeptosOptions};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct LeptosFile {
    package: Package,
}

#[derive(Debug, Deserialize)]
struct Package {
    metadata: Metadata,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    leptos: RuntimeSiteOptions,
}

/// The run-time section of `Leptos.toml`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RuntimeSiteOptions {
    /// `DEV` or `PROD`.
    env: String,
}

/// Where the built stylesheet is served, as the dashboard's pages link it (Leptos's
/// `HashedStylesheet`): `/pkg/<output name>[.<hash>].css`, the hash read from the hash
/// file beside the binary when the build named files by their content.
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    let hashes = options
        .hash_files
        .then(|| {
            let beside_binary = std::env::current_exe()
                .ok()?
                .parent()?
                .join(options.hash_file.as_ref());
            std::fs::read_to_string(beside_binary).ok()
        })
        .flatten()
        .unwrap_or_default();
    css_href(options, &hashes)
}

/// The stylesheet's address given the hash file's text (`css: <hash>` lines).
fn css_href(options: &LeptosOptions, hashes: &str) -> String {
    let hash = hashes
        .lines()
        .filter_map(|line| line.trim().split_once(':'))
        .find(|(file, _)| file.trim() == "css")
        .map(|(_, hash)| format!(".{}", hash.trim()))
        .unwrap_or_default();
    format!(
        "/{}/{}{hash}.css",
        options.site_pkg_dir, options.output_name
    )
}

/// The site options: build-time values from the environment cargo-leptos set at
/// compile time (or at run time), then `Leptos.toml`'s run-time options.
pub fn leptos_options(leptos_toml: &str) -> Result<LeptosOptions, String> {
    let mut options = leptos::config::get_configuration(None)
        .map_err(|error| format!("Leptos site options: {error}"))?
        .leptos_options;
    // cargo-leptos names the built files by their content's hash (`hash-files`) and
    // writes the hashes beside the binary; the rendered pages then link those names,
    // which are cached as immutable. A binary built by plain cargo (the tests) links the
    // plain names.
    if std::env::var_os("LEPTOS_HASH_FILES").is_none()
        && option_env!("LEPTOS_HASH_FILES") == Some("true")
    {
        options.hash_files = true;
        if let Some(name) = option_env!("LEPTOS_HASH_FILE_NAME") {
            options.hash_file = name.into();
        }
    }
    match std::fs::read_to_string(leptos_toml) {
        Ok(text) => {
            let file: LeptosFile = toml::from_str(&text)
                .map_err(|error| format!("{leptos_toml}: {}", error.message()))?;
            options.env = match file.package.metadata.leptos.env.as_str() {
                "PROD" | "prod" => Env::PROD,
                "DEV" | "dev" => Env::DEV,
                other => {
                    return Err(format!(
                        "{leptos_toml}: env must be DEV or PROD, not {other}"
                    ));
                }
            };
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(format!("cannot read {leptos_toml}: {error}")),
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stylesheet_is_linked_by_its_hashed_name() {
        let options = LeptosOptions::builder().output_name("gatehouse").build();
        assert_eq!(css_href(&options, ""), "/pkg/gatehouse.css");
        assert_eq!(
            css_href(&options, "js: AbC\nwasm: DeF\ncss: Gh1-_x\n"),
            "/pkg/gatehouse.Gh1-_x.css"
        );
    }
}
