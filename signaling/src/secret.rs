//! The server secret that signs join tokens: given explicitly, or generated once into the data directory.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rand::RngCore;

/// Shortest secret accepted (bytes): an HS256 key should have at least 256 bits.
pub const MIN_SECRET_LEN: usize = 32;

/// A token-signing secret. Its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the secret must be at least {MIN_SECRET_LEN} bytes long (got {0})")]
    TooShort(usize),
    #[error("cannot create data directory {path}: {source}")]
    DataDir { path: PathBuf, source: io::Error },
    #[error("cannot read secret file {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write secret file {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// The secret to use: `explicit` if given (e.g. `PLENUM_SECRET`), else the one in `DATA_DIR/secret`, created on
/// first use (64 hex characters from 32 random bytes, mode 0600). The file's text is used as the key, so copying it
/// into `PLENUM_SECRET` gives the same key.
pub fn load_or_create(explicit: Option<&str>, data_dir: &Path) -> Result<Secret, SecretError> {
    if let Some(text) = explicit {
        return from_text(text);
    }
    let path = data_dir.join("secret");
    match fs::read_to_string(&path) {
        Ok(text) => {
            warn_if_readable_by_others(&path);
            from_text(&text)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => create(data_dir, &path),
        Err(source) => Err(SecretError::Read { path, source }),
    }
}

fn from_text(text: &str) -> Result<Secret, SecretError> {
    let text = text.trim();
    if text.len() < MIN_SECRET_LEN {
        return Err(SecretError::TooShort(text.len()));
    }
    Ok(Secret(text.as_bytes().to_vec()))
}

fn create(data_dir: &Path, path: &Path) -> Result<Secret, SecretError> {
    create_private_dir(data_dir).map_err(|source| SecretError::DataDir { path: data_dir.to_owned(), source })?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();

    // Write a private temporary file, then link it into place: a concurrent reader never sees a half-written
    // secret, and if another process won the race, its secret is used.
    let tmp = data_dir.join(format!(".secret.{}.tmp", std::process::id()));
    let write_err = |source| SecretError::Write { path: path.to_owned(), source };
    let _ = fs::remove_file(&tmp);
    let mut file = create_private_file(&tmp).map_err(write_err)?;
    file.write_all(format!("{text}\n").as_bytes()).and_then(|()| file.sync_all()).map_err(write_err)?;
    drop(file);
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a new token secret");
            Ok(Secret(text.into_bytes()))
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let text = fs::read_to_string(path).map_err(|source| SecretError::Read { path: path.to_owned(), source })?;
            from_text(&text)
        }
        Err(source) => Err(SecretError::Write { path: path.to_owned(), source }),
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "the secret file is accessible by other users; chmod 600 it");
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("plenum-secret-test-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn generates_once_then_reuses() {
        let dir = temp_dir("reuse");
        let data = dir.join("nested/data");
        let first = load_or_create(None, &data).unwrap();
        assert_eq!(first.as_bytes().len(), 64);
        let second = load_or_create(None, &data).unwrap();
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(data.join("secret")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // The file's text works as PLENUM_SECRET.
        let text = fs::read_to_string(data.join("secret")).unwrap();
        assert_eq!(load_or_create(Some(&text), &dir).unwrap(), first);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn explicit_secret_wins_and_must_be_long_enough() {
        let dir = temp_dir("explicit");
        let s = load_or_create(Some("a-secret-that-is-long-enough-for-hs256"), &dir).unwrap();
        assert_eq!(s.as_bytes(), b"a-secret-that-is-long-enough-for-hs256");
        assert!(!dir.exists(), "an explicit secret must not touch the data dir");
        assert!(matches!(load_or_create(Some("short"), &dir), Err(SecretError::TooShort(5))));
    }
}
