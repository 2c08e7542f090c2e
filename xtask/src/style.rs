//! The stylesheet: parsed, minified and lowered for the `browserquery` targets by
//! lightningcss, written to `<pkg>/<output-name>.css`.

use std::fs;

use anyhow::{Context, Result, anyhow};
use lightningcss::stylesheet::{MinifyOptions, ParserOptions, PrinterOptions, StyleSheet};
use lightningcss::targets::{Browsers, Targets};

use crate::config::Project;

pub fn build(project: &Project) -> Result<()> {
    let Some(source) = &project.style_file else {
        return Ok(());
    };
    let css =
        fs::read_to_string(source).with_context(|| format!("reading {}", source.display()))?;
    let browsers = Browsers::from_browserslist([project.browserquery.as_str()])
        .with_context(|| format!("browserquery {:?}", project.browserquery))?;
    let targets = Targets::from(browsers);
    let options = ParserOptions {
        filename: source.display().to_string(),
        ..Default::default()
    };
    let mut sheet =
        StyleSheet::parse(&css, options).map_err(|e| anyhow!("{}: {e}", source.display()))?;
    sheet
        .minify(MinifyOptions {
            targets,
            ..Default::default()
        })
        .map_err(|e| anyhow!("{}: {e}", source.display()))?;
    let printed = sheet
        .to_css(PrinterOptions {
            minify: true,
            targets,
            ..Default::default()
        })
        .map_err(|e| anyhow!("{}: {e}", source.display()))?;
    let dest = project.pkg_file("css");
    fs::create_dir_all(project.pkg_dir())?;
    fs::write(&dest, printed.code).with_context(|| format!("writing {}", dest.display()))
}
