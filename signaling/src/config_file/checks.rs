//! The checks of `plenum config check` that look beyond the file: the files its settings name.

use std::path::PathBuf;

use super::{ConfigError, ConfigFile, Entry};
use crate::tls::{self, TlsFiles};

/// Settings that name a file without ending in `_file`.
const PATH_KEYS: &[&str] = &["tls_cert", "tls_key"];

/// Every named file must be readable; `tls_cert` and `tls_key` come together and must hold a matching
/// certificate and key.
pub(super) fn files(file: &ConfigFile, path: &str) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let mut readable = |e: &Entry, v: &String| {
        // Relative paths are relative to the working directory, as when the server reads them.
        match std::fs::File::open(v) {
            Ok(_) => true,
            Err(err) => {
                errors.push(ConfigError::MissingFile {
                    path: path.to_owned(),
                    line: e.line,
                    key: e.id.clone(),
                    file: v.clone(),
                    reason: err.to_string(),
                });
                false
            }
        }
    };
    let mut tls_ok = true;
    for e in file.entries.iter().filter(|e| e.id.ends_with("_file") || PATH_KEYS.contains(&e.id.as_str())) {
        for v in &e.values {
            let ok = readable(e, v);
            tls_ok &= ok || !PATH_KEYS.contains(&e.id.as_str());
        }
    }
    let find = |id: &str| file.entries.iter().find(|e| e.id == id);
    match (find("tls_cert"), find("tls_key")) {
        (Some(cert), Some(key)) if tls_ok => {
            let files = TlsFiles { cert: PathBuf::from(&cert.values[0]), key: PathBuf::from(&key.values[0]) };
            if let Err(e) = tls::load(&files) {
                // The message names the file; put it on the line of the key when the key is at fault.
                let on_key = matches!(e, tls::TlsError::NoKey { .. } | tls::TlsError::Key { .. } | tls::TlsError::Mismatch { .. })
                    || matches!(&e, tls::TlsError::Pem { path, .. } if *path == files.key);
                let entry = if on_key { key } else { cert };
                errors.push(ConfigError::BadFile {
                    path: path.to_owned(),
                    line: entry.line,
                    key: entry.id.clone(),
                    reason: e.to_string(),
                });
            }
        }
        (Some(one), None) | (None, Some(one)) => {
            let other = if one.id == "tls_cert" { "tls_key" } else { "tls_cert" };
            errors.push(ConfigError::Requires { path: path.to_owned(), line: one.line, key: one.id.clone(), other: other.into() });
        }
        _ => {}
    }
    errors
}
