//! The master key that seals webhook signing secrets: from `GATEHOUSE_MASTER_KEY`; on the
//! embedded default without one, generated once into the data directory (`master.key`,
//! mode 0600) and read from there afterwards; on PostgreSQL the server refuses to start
//! without it (instances must share it, and a key kept beside one instance would be lost
//! with it).

use std::io::Write;
use std::path::Path;

use gatehouse_domain::webhooks::MasterKeys;

use crate::config::Config;

/// The master keys to seal and open secrets with; checked before the database is
/// opened, so a misconfigured instance changes nothing.
pub fn load(config: &Config) -> Result<MasterKeys, String> {
    let setting = &config.master_key.0;
    if !setting.trim().is_empty() {
        return MasterKeys::parse(setting)
            .map_err(|error| format!("GATEHOUSE_MASTER_KEY is invalid: {error}"));
    }
    let url = config.database_url.0.as_str();
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return Err(
            "GATEHOUSE_MASTER_KEY is required with PostgreSQL: set it to base64 of 32 random bytes \
             (e.g. `openssl rand -base64 32`), the same on every instance"
                .to_owned(),
        );
    }
    let path = gatehouse_domain::db::sqlite_folder(url).join("master.key");
    let setting = read_or_create(&path)?;
    MasterKeys::parse(&setting).map_err(|error| format!("{} is invalid: {error}", path.display()))
}

fn read_or_create(path: &Path) -> Result<String, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => return Ok(text.trim().to_owned()),
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("cannot read {}: {error}", path.display()));
        }
        Err(_) => {}
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
    }
    let setting = MasterKeys::generate_setting();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|error| format!("cannot create {}: {error}", path.display()))?;
    file.write_all(format!("{setting}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "no GATEHOUSE_MASTER_KEY set: generated a master key for webhook secrets; back this file up with the database"
    );
    Ok(setting)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_private_and_read_back() {
        let dir = std::env::temp_dir().join(format!("gh-master-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("master.key");
        let _ = std::fs::remove_file(&path);
        let first = read_or_create(&path).unwrap();
        assert_eq!(read_or_create(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
