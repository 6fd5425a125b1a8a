//! Secrets kept in files instead of the config file (container secrets, systemd
//! credentials): every secret field `x` of the config can be given as `x_file`, a path
//! (relative to the config file's directory) whose contents are the secret.
//!
//! A secret file must exist, hold the secret (one trailing newline is dropped), and be
//! readable by its owner only (no permission bit for group or others, on Unix):
//! anything else is a start-up error naming the field and the path, never the
//! contents.

use std::path::{Path, PathBuf};

use crate::config::ConfigError;

/// The largest secret file read (a PostgreSQL URL, a list of API keys).
pub const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// The secret in `path` (relative to the directory of the config `file`), for the
/// config field `field`.
pub fn read(file: &Path, field: &str, path: &Path) -> Result<String, ConfigError> {
    let full: PathBuf = if path.is_absolute() {
        path.to_owned()
    } else {
        file.parent().unwrap_or(Path::new(".")).join(path)
    };
    let err = |msg: String| ConfigError::new(file, field, msg);
    let meta = std::fs::metadata(&full).map_err(|e| {
        err(format!(
            "cannot read the secret file {}: {e}",
            full.display()
        ))
    })?;
    if !meta.is_file() {
        return Err(err(format!("{} is not a file", full.display())));
    }
    if meta.len() > MAX_SECRET_FILE_BYTES {
        return Err(err(format!(
            "{} is larger than {MAX_SECRET_FILE_BYTES} bytes: not a secret file",
            full.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(err(format!(
                "{} is readable by others (mode {mode:o}): a secret file must be the \
                 owner's only (chmod 600, or 400)",
                full.display()
            )));
        }
    }
    let text = std::fs::read_to_string(&full).map_err(|e| {
        err(format!(
            "cannot read the secret file {}: {e}",
            full.display()
        ))
    })?;
    let secret = text
        .strip_suffix('\n')
        .map_or(text.as_str(), |t| t.strip_suffix('\r').unwrap_or(t));
    if secret.is_empty() {
        return Err(err(format!("the secret file {} is empty", full.display())));
    }
    Ok(secret.to_owned())
}

/// A secret given inline as `inline` or in a file as `file_path`: exactly one of them
/// (`field` and `field_file` name them in errors). `None` when neither is given.
pub fn one_of(
    file: &Path,
    field: &str,
    inline: Option<String>,
    file_path: Option<&Path>,
) -> Result<Option<String>, ConfigError> {
    match (inline, file_path) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            file,
            field,
            format!("given twice: keep {field} or {field}_file"),
        )),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(p)) => read(file, &format!("{field}_file"), p).map(Some),
        (None, None) => Ok(None),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn write(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn a_secret_file_is_read_relative_to_the_config_and_must_be_private() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("affiliate.toml");
        write(dir.path(), "k1", "s3cret-value\n", 0o600);
        assert_eq!(
            read(&config, "keys.k1_file", Path::new("k1")).unwrap(),
            "s3cret-value"
        );
        write(dir.path(), "crlf", "value\r\n", 0o400);
        assert_eq!(read(&config, "f", Path::new("crlf")).unwrap(), "value");

        write(dir.path(), "open", "s3cret-value\n", 0o644);
        let e = read(&config, "keys.k1_file", Path::new("open"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("keys.k1_file") && e.contains("readable by others"),
            "{e}"
        );
        assert!(!e.contains("s3cret"), "{e}");
        let e = read(&config, "keys.k1_file", Path::new("missing"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cannot read the secret file") && e.contains("missing"),
            "{e}"
        );
        write(dir.path(), "empty", "\n", 0o600);
        assert!(
            read(&config, "f", Path::new("empty"))
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        let e = one_of(
            &config,
            "store.url",
            Some("x".into()),
            Some(Path::new("k1")),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("given twice"), "{e}");
    }
}
