//! Tokens of a local server: one JSON file beside the store, readable by its owner only (0600),
//! never in the store, as Secrets Manager keeps them apart from the table in a deployment.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sei_jira_core::jira::Secret;
use sei_jira_core::ports::{PortError, PortResult, SecretStore};

/// Clones share the file and its lock: every app of the server changes it one at a time.
#[derive(Clone)]
pub struct SecretsFile {
    path: PathBuf,
    /// Held while the file is read and written again.
    lock: Arc<Mutex<()>>,
}

fn fault(message: String) -> PortError {
    PortError {
        service: "local secrets",
        message,
    }
}

impl SecretsFile {
    pub fn new(path: PathBuf) -> SecretsFile {
        SecretsFile {
            path,
            lock: Arc::default(),
        }
    }

    fn read(&self) -> PortResult<BTreeMap<String, String>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| fault(format!("{}: {e}", self.path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(fault(format!("{}: {e}", self.path.display()))),
        }
    }

    /// Written whole to a file created 0600 beside it, then renamed over it: a reader never sees
    /// half a file, and the tokens are never readable by other users, not even for a moment.
    fn write(&self, secrets: &BTreeMap<String, String>) -> PortResult<()> {
        let staged = self.path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&staged).and_then(|mut f| {
            f.write_all(&serde_json::to_vec(secrets).unwrap_or_default())?;
            f.sync_all()
        });
        written
            .and_then(|()| std::fs::rename(&staged, &self.path))
            .map_err(|e| fault(format!("{}: {e}", self.path.display())))
    }

    fn change(&self, edit: impl FnOnce(&mut BTreeMap<String, String>)) -> PortResult<()> {
        let _held = self.lock.lock().map_err(|_| fault("poisoned".into()))?;
        let mut secrets = self.read()?;
        edit(&mut secrets);
        self.write(&secrets)
    }
}

#[async_trait]
impl SecretStore for SecretsFile {
    async fn put_secret(&self, name: &str, value: &Secret) -> PortResult<()> {
        self.change(|s| {
            s.insert(name.to_string(), value.expose().to_string());
        })
    }

    async fn get_secret(&self, name: &str) -> PortResult<Option<Secret>> {
        let _held = self.lock.lock().map_err(|_| fault("poisoned".into()))?;
        Ok(self.read()?.remove(name).map(Secret::new))
    }

    async fn delete_secret(&self, name: &str) -> PortResult<()> {
        self.change(|s| {
            s.remove(name);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokens_are_kept_in_a_file_only_its_owner_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        let secrets = SecretsFile::new(path.clone());
        secrets.put_secret("a", &Secret::new("t-1")).await.unwrap();
        secrets.put_secret("b", &Secret::new("t-2")).await.unwrap();
        secrets.delete_secret("a").await.unwrap();
        assert!(secrets.get_secret("a").await.unwrap().is_none());
        assert_eq!(
            secrets.get_secret("b").await.unwrap().unwrap().expose(),
            "t-2"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
