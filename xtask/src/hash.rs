//! Content-hashed file names (`hash-files = true`), as cargo-leptos 0.3.10 names them:
//! every file of the pkg dir (but other CSS files and wasm-bindgen snippets) becomes
//! `<stem>.<hash>.<ext>` (the split loader's run of underscores is replaced by its
//! hash), with hash = base64url(MD5(content)) without padding; references between the
//! files are rewritten, and the hashes the server links are written to the hash file
//! beside the server executable.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use md5::{Digest, Md5};

use crate::config::Project;
use crate::front::{SPLIT_LOADER, SPLIT_MANIFEST};

const PLACEHOLDER: &str = "______________________";

fn hash(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Md5::digest(bytes))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

pub fn add_hashes(project: &Project) -> Result<()> {
    let pkg_dir = project.pkg_dir();
    let css = project.pkg_file("css");
    let mut hashes = BTreeMap::new();
    collect(&pkg_dir, &css, &mut hashes)?;

    // Rename every file; `renames` maps names relative to the pkg dir.
    let mut renames = Vec::new();
    for (path, hash) in &hashes {
        let name = name_of(path);
        let new_name = if name.contains(PLACEHOLDER) {
            name.replace(PLACEHOLDER, hash)
        } else {
            let (stem, ext) = name
                .rsplit_once('.')
                .with_context(|| format!("{name} has no extension"))?;
            format!("{stem}.{hash}.{ext}")
        };
        let new_path = path.with_file_name(&new_name);
        fs::rename(path, &new_path).with_context(|| format!("renaming {}", path.display()))?;
        renames.push((relative(path, &pkg_dir)?, relative(&new_path, &pkg_dir)?));
    }
    let renamed = |old: &Path| -> Result<PathBuf> {
        let rel = relative(old, &pkg_dir)?;
        let (_, new) = renames
            .iter()
            .find(|(o, _)| *o == rel)
            .with_context(|| format!("{rel} was not renamed"))?;
        Ok(pkg_dir.join(new))
    };

    let js = renamed(&project.pkg_file("js"))?;
    replace_names(&js, &renames)?;

    let loader = pkg_dir.join(SPLIT_LOADER);
    let mut split_hash = None;
    if hashes.contains_key(&loader) {
        // The loader names the main JS and the split modules: rewritten, its content and
        // so its hash change; it is renamed once more, and every file naming it follows.
        let first = renamed(&loader)?;
        replace_names(&first, &renames)?;
        let final_hash = hash(&read(&first)?);
        let last = first.with_file_name(SPLIT_LOADER.replace(PLACEHOLDER, &final_hash));
        fs::rename(&first, &last).with_context(|| format!("renaming {}", first.display()))?;
        replace_names(&js, &[(name_of(&first), name_of(&last))])?;
        for (_, new) in &renames {
            let path = pkg_dir.join(new);
            if new.ends_with(".wasm") && !new.contains('/') {
                // Same length: the placeholder and a hash are both 22 characters.
                replace_bytes(&path, SPLIT_LOADER.as_bytes(), name_of(&last).as_bytes())?;
            }
        }
        let manifest = renamed(&pkg_dir.join(SPLIT_MANIFEST))?;
        rewrite_manifest(&manifest, &renames)?;
        split_hash = Some(final_hash);
    }

    let mut lines = String::new();
    for ext in ["js", "wasm", "css"] {
        let file = project.pkg_file(ext);
        let hash = hashes
            .get(&file)
            .with_context(|| format!("{} was not built", file.display()))?;
        lines.push_str(&format!("{ext}: {hash}\n"));
    }
    if let Some(hash) = hashes.get(&pkg_dir.join(SPLIT_MANIFEST)) {
        lines.push_str(&format!("manifest: {hash}\n"));
    }
    if let Some(hash) = split_hash {
        lines.push_str(&format!("split: {hash}\n"));
    }
    let hash_file = project.exe_file.with_file_name(&project.hash_file_name);
    fs::create_dir_all(hash_file.parent().unwrap_or(Path::new(".")))?;
    fs::write(&hash_file, lines).with_context(|| format!("writing {}", hash_file.display()))
}

/// The files to hash under `dir`, with their hashes.
fn collect(dir: &Path, css: &Path, hashes: &mut BTreeMap<PathBuf, String>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, css, hashes)?;
            continue;
        }
        let other_css = path.extension().is_some_and(|e| e == "css") && path != css;
        if other_css || path.to_string_lossy().contains("snippets") {
            continue;
        }
        hashes.insert(path.clone(), hash(&read(&path)?));
    }
    Ok(())
}

fn relative(path: &Path, base: &Path) -> Result<String> {
    Ok(path
        .strip_prefix(base)
        .with_context(|| format!("{} is outside {}", path.display(), base.display()))?
        .to_string_lossy()
        .into_owned())
}

/// Replaces each old name by its new one in a text file, longest first, so that no
/// name is replaced inside a longer one.
fn replace_names(path: &Path, renames: &[(String, String)]) -> Result<()> {
    let mut text = String::from_utf8(read(path)?)
        .with_context(|| format!("{} is not UTF-8", path.display()))?;
    let mut ordered: Vec<_> = renames.iter().collect();
    ordered.sort_by_key(|(old, _)| std::cmp::Reverse(old.len()));
    for (old, new) in ordered {
        text = text.replace(old.as_str(), new);
    }
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn replace_bytes(path: &Path, old: &[u8], new: &[u8]) -> Result<()> {
    if old.len() != new.len() {
        bail!(
            "{} and its replacement differ in length",
            String::from_utf8_lossy(old)
        );
    }
    let mut bytes = read(path)?;
    let mut i = 0;
    while i + old.len() <= bytes.len() {
        if &bytes[i..i + old.len()] == old {
            bytes[i..i + old.len()].copy_from_slice(new);
            i += old.len();
        } else {
            i += 1;
        }
    }
    fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// The manifest maps each split (kept) to the file stems of the modules it needs: each
/// stem becomes its hashed one.
fn rewrite_manifest(path: &Path, renames: &[(String, String)]) -> Result<()> {
    let stems: HashMap<&str, &str> = renames
        .iter()
        .filter_map(|(old, new)| Some((old.strip_suffix(".wasm")?, new.strip_suffix(".wasm")?)))
        .collect();
    let mut manifest: BTreeMap<String, Vec<String>> = serde_json::from_slice(&read(path)?)
        .with_context(|| format!("parsing {}", path.display()))?;
    for stem in manifest.values_mut().flatten() {
        if let Some(hashed) = stems.get(stem.as_str()) {
            *stem = hashed.to_string();
        }
    }
    fs::write(path, serde_json::to_string(&manifest)?)
        .with_context(|| format!("writing {}", path.display()))
}
