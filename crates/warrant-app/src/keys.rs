//! The installation key behind secret fingerprints. It lives outside the store, so a leaked
//! database does not let anyone test guesses against the fingerprints it holds.

use std::io::Write;
use std::path::{Path, PathBuf};

use warrant_core::Fingerprinter;

use crate::AppError;

/// Where the fingerprint key comes from.
#[derive(Debug, Clone)]
pub enum FingerprintKey {
    /// A key the caller holds, as hex digits (the CLI's `WARRANT_FINGERPRINT_KEY`).
    Hex(String),
    /// A key file, created on first use with owner-only permissions.
    File(PathBuf),
}

impl FingerprintKey {
    /// The key file the CLI uses when nothing else is configured: beside the store.
    pub fn beside_store(store_path: &Path) -> FingerprintKey {
        FingerprintKey::File(
            store_path
                .parent()
                .unwrap_or(Path::new("."))
                .join("fingerprint.key"),
        )
    }

    /// The fingerprinter for this key (creating the key file when it does not exist yet).
    pub fn fingerprinter(&self) -> Result<Fingerprinter, AppError> {
        match self {
            FingerprintKey::Hex(hex_key) => {
                let key = hex::decode(hex_key.trim()).map_err(|_| {
                    AppError::Key("WARRANT_FINGERPRINT_KEY must be hex digits".into())
                })?;
                if key.len() < 16 {
                    return Err(AppError::Key(
                        "WARRANT_FINGERPRINT_KEY must hold at least 16 bytes (32 hex digits)"
                            .into(),
                    ));
                }
                Ok(Fingerprinter::new(&key))
            }
            FingerprintKey::File(path) => Ok(Fingerprinter::new(&load_or_create_key(path)?)),
        }
    }
}

/// Reads the hex key in `path`, or creates it (32 random bytes, mode 0600) when it is absent.
pub fn load_or_create_key(path: &Path) -> Result<Vec<u8>, AppError> {
    let io = |what: String| {
        move |source: std::io::Error| AppError::Io {
            context: what,
            source,
        }
    };
    if path.exists() {
        let text = warrant_input::read_file_to_string(path, warrant_input::SMALL_FILE_LIMIT)
            .map_err(|e| AppError::Key(format!("reading the fingerprint key: {e}")))?;
        return hex::decode(text.trim())
            .map_err(|_| AppError::Key(format!("{} does not hold a hex key", path.display())));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|e| AppError::Key(format!("no randomness for the fingerprint key: {e}")))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io(format!(
        "creating the fingerprint key {}",
        path.display()
    )))?;
    writeln!(file, "{}", hex::encode(key)).map_err(io(format!("writing {}", path.display())))?;
    tracing::info!(path = %path.display(), "Created a new fingerprint key.");
    Ok(key.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/fingerprint.key");
        let first = load_or_create_key(&path).unwrap();
        let second = load_or_create_key(&path).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_given_key_must_be_long_enough_hex() {
        assert!(FingerprintKey::Hex("zz".into()).fingerprinter().is_err());
        assert!(FingerprintKey::Hex("00ff".into()).fingerprinter().is_err());
        let a = FingerprintKey::Hex("11".repeat(16))
            .fingerprinter()
            .unwrap();
        let b = FingerprintKey::Hex("11".repeat(16))
            .fingerprinter()
            .unwrap();
        assert_eq!(a.fingerprint(b"secret"), b.fingerprint(b"secret"));
    }
}
