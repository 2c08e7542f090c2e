//! The assets dir (`public/`), copied as it is to the site root.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::config::Project;

pub fn copy(project: &Project) -> Result<()> {
    let Some(source) = &project.assets_dir else {
        return Ok(());
    };
    for reserved in ["index.html".as_ref(), project.site_pkg_dir.as_path()] {
        if source.join(reserved).exists() {
            bail!(
                "{} must not contain {} (the build writes it)",
                source.display(),
                reserved.display()
            );
        }
    }
    copy_dir(source, &project.site_root)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target).with_context(|| {
                format!("copying {} to {}", entry.path().display(), target.display())
            })?;
        }
    }
    Ok(())
}
