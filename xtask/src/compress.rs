//! Precompression (`--precompress`): a brotli (quality 11, window 22: the encoder's
//! defaults, as cargo-leptos uses) and a gzip copy beside every file of the site.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use brotli::enc::BrotliEncoderParams;
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::run::in_parallel;

pub fn compress_site(site_root: &Path) -> Result<()> {
    let mut files = Vec::new();
    collect(site_root, &mut files)?;
    in_parallel(&files, |file| compress(file))
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if !path.extension().is_some_and(|e| e == "gz" || e == "br") {
            files.push(path);
        }
    }
    Ok(())
}

fn compress(file: &Path) -> Result<()> {
    let bytes = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let with_suffix = |suffix: &str| {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };

    let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
    gzip.write_all(&bytes)?;
    let gz = with_suffix(".gz");
    fs::write(&gz, gzip.finish()?).with_context(|| format!("writing {}", gz.display()))?;

    let mut brotli = Vec::new();
    brotli::BrotliCompress(
        &mut &bytes[..],
        &mut brotli,
        &BrotliEncoderParams::default(),
    )?;
    let br = with_suffix(".br");
    fs::write(&br, brotli).with_context(|| format!("writing {}", br.display()))
}
