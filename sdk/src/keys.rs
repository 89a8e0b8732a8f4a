//! Key files and the keystore directory (`HOME/keystore/NAME.json`), shared by node and CLI.
//!
//! Key files are plain JSON readable only by their owner (mode 0600): this is a permissioned ledger whose
//! operators guard their hosts; encryption at rest is a later addition and will keep this layout.

use crate::signing::Keypair;
use crate::types::{Address, PublicKey};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Longest key name, and what a name may contain.
pub const KEY_NAME_CHARS_MAX: usize = 64;
/// A key file is tiny; anything bigger is not one of ours.
pub const KEY_FILE_BYTES_MAX: u64 = 4096;

#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    #[error("key name {0:?} is invalid: use 1–64 characters from a-z, A-Z, 0-9, '-' and '_'")]
    BadName(String),
    #[error("no key named {name:?} in {dir}; list them with `consort keys list`")]
    NotFound { name: String, dir: PathBuf },
    #[error("a key named {name:?} already exists in {dir}; choose another name")]
    Exists { name: String, dir: PathBuf },
    #[error("key file {path} is not a valid consort key file: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot access {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// One key on disk.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyFile {
    pub name: String,
    pub address: Address,
    pub public_key: PublicKey,
    /// The 32-byte ed25519 secret seed, hex.
    pub secret_key: String,
}

impl KeyFile {
    pub fn new(name: &str, key: &Keypair) -> KeyFile {
        KeyFile {
            name: name.to_owned(),
            address: key.address(),
            public_key: key.public(),
            secret_key: hex::encode(key.secret_bytes()),
        }
    }

    /// The key pair, checked against the public key and address recorded beside it.
    pub fn keypair(&self) -> Result<Keypair, String> {
        let mut secret = [0u8; 32];
        hex::decode_to_slice(&self.secret_key, &mut secret)
            .map_err(|_| "secret_key must be 64 hex characters".to_owned())?;
        let key = Keypair::from_secret(secret);
        if key.public() != self.public_key || key.address() != self.address {
            return Err("secret_key does not match the public_key and address in the file".to_owned());
        }
        Ok(key)
    }

    /// Reads and validates a key file at `path`.
    pub fn read(path: &Path) -> Result<(KeyFile, Keypair), KeystoreError> {
        let io = |source| KeystoreError::Io { path: path.to_owned(), source };
        let corrupt = |reason: String| KeystoreError::Corrupt { path: path.to_owned(), reason };
        let len = std::fs::metadata(path).map_err(io)?.len();
        if len > KEY_FILE_BYTES_MAX {
            return Err(corrupt(format!("{len} bytes, over the {KEY_FILE_BYTES_MAX}-byte limit")));
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        let file: KeyFile = serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
        let key = file.keypair().map_err(corrupt)?;
        Ok((file, key))
    }

    /// Writes the file readable by its owner only; refuses to replace an existing file.
    pub fn write_new(&self, path: &Path) -> Result<(), KeystoreError> {
        use std::io::Write;
        let io = |source| KeystoreError::Io { path: path.to_owned(), source };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(path).map_err(io)?;
        let text = serde_json::to_string_pretty(self).expect("a key file always serialises");
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)
    }
}

/// A directory of named key files.
#[derive(Clone, Debug)]
pub struct Keystore {
    dir: PathBuf,
}

fn check_name(name: &str) -> Result<(), KeystoreError> {
    let ok = !name.is_empty()
        && name.len() <= KEY_NAME_CHARS_MAX
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(KeystoreError::BadName(name.chars().take(80).collect()))
    }
}

impl Keystore {
    pub fn new(dir: impl Into<PathBuf>) -> Keystore {
        Keystore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Stores `key` under `name`, creating the directory if needed.
    pub fn add(&self, name: &str, key: &Keypair) -> Result<KeyFile, KeystoreError> {
        check_name(name)?;
        std::fs::create_dir_all(&self.dir).map_err(|source| KeystoreError::Io { path: self.dir.clone(), source })?;
        let path = self.path_of(name);
        if path.exists() {
            return Err(KeystoreError::Exists { name: name.to_owned(), dir: self.dir.clone() });
        }
        let file = KeyFile::new(name, key);
        file.write_new(&path)?;
        Ok(file)
    }

    pub fn get(&self, name: &str) -> Result<(KeyFile, Keypair), KeystoreError> {
        check_name(name)?;
        let path = self.path_of(name);
        if !path.exists() {
            return Err(KeystoreError::NotFound { name: name.to_owned(), dir: self.dir.clone() });
        }
        KeyFile::read(&path)
    }

    /// All keys, sorted by name. A missing directory is an empty keystore.
    pub fn list(&self) -> Result<Vec<KeyFile>, KeystoreError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(KeystoreError::Io { path: self.dir.clone(), source }),
        };
        let mut out = Vec::new();
        for entry in entries {
            let path = entry.map_err(|source| KeystoreError::Io { path: self.dir.clone(), source })?.path();
            if path.extension().is_some_and(|e| e == "json") {
                out.push(KeyFile::read(&path)?.0);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_get_list_and_refuse_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let store = Keystore::new(dir.path().join("keystore"));
        assert!(store.list().unwrap().is_empty());
        let key = Keypair::generate();
        store.add("alice", &key).unwrap();
        let (file, loaded) = store.get("alice").unwrap();
        assert_eq!(file.address, key.address());
        assert_eq!(loaded.public(), key.public());
        assert!(matches!(store.add("alice", &key), Err(KeystoreError::Exists { .. })));
        assert!(matches!(store.get("bob"), Err(KeystoreError::NotFound { .. })));
        assert!(matches!(store.add("../evil", &key), Err(KeystoreError::BadName(_))));
        assert_eq!(store.list().unwrap().len(), 1);
    }

    #[test]
    fn truncated_or_tampered_files_are_reported_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Keystore::new(dir.path());
        store.add("k", &Keypair::generate()).unwrap();
        let path = dir.path().join("k.json");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, &text[..text.len() / 2]).unwrap();
        assert!(matches!(store.get("k"), Err(KeystoreError::Corrupt { .. })));
        let mut file: KeyFile = serde_json::from_str(&text).unwrap();
        file.address = crate::Address([0; 20]);
        std::fs::write(&path, serde_json::to_string(&file).unwrap()).unwrap();
        assert!(matches!(store.get("k"), Err(KeystoreError::Corrupt { .. })));
    }
}
