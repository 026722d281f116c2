//! The server inventory file (`[backend] inventory`): a static list of
//! servers and their console endpoints.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use consoled_core::{async_trait, BackendError, Endpoint, Registry, Server, ServerBackend};
use serde::Deserialize;

use crate::toml_error;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryFile {
    #[serde(default)]
    servers: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    name: String,
    project_id: String,
    #[serde(default = "active")]
    status: String,
    #[serde(default)]
    task_state: String,
    host: Option<String>,
    #[serde(default)]
    consoles: BTreeMap<String, Endpoint>,
}

fn active() -> String {
    "ACTIVE".to_owned()
}

/// Servers read once from a TOML file.
#[derive(Debug, Clone)]
pub struct FileInventory {
    servers: Vec<Server>,
    by_id: HashMap<String, usize>,
}

impl FileInventory {
    /// Reads `path`, checking console protocols against `registry`.
    ///
    /// # Errors
    /// One line naming the file and the entry: unreadable file, unknown
    /// key, an empty id, a duplicate id, a console protocol no linked driver
    /// serves.
    pub fn load(path: &Path, registry: &Registry) -> Result<FileInventory, String> {
        let source = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read server inventory: {e}", path.display()))?;
        let file: InventoryFile =
            toml::from_str(&source).map_err(|e| toml_error::one_line(path, &source, &e))?;
        let protocols: Vec<&str> = {
            let mut p: Vec<&str> = registry.descriptors().iter().map(|d| d.protocol).collect();
            p.dedup();
            p
        };
        let mut servers = Vec::with_capacity(file.servers.len());
        let mut by_id = HashMap::new();
        for (i, entry) in file.servers.into_iter().enumerate() {
            let at =
                |key: &str, why: String| format!("{}: servers[{i}].{key}: {why}", path.display());
            for (key, value) in [
                ("id", &entry.id),
                ("name", &entry.name),
                ("project_id", &entry.project_id),
            ] {
                if value.trim().is_empty() {
                    return Err(at(key, "must not be empty".into()));
                }
            }
            if let Some(first) = by_id.insert(entry.id.clone(), i) {
                return Err(at(
                    "id",
                    format!("duplicate id {:?} (also servers[{first}])", entry.id),
                ));
            }
            if let Some(unknown) = entry
                .consoles
                .keys()
                .find(|p| !protocols.contains(&p.as_str()))
            {
                return Err(at(
                    &format!("consoles.{unknown}"),
                    format!(
                        "no linked driver serves protocol {unknown:?} (linked: {})",
                        protocols.join(", ")
                    ),
                ));
            }
            servers.push(Server {
                id: entry.id,
                name: entry.name,
                project_id: entry.project_id,
                status: entry.status,
                task_state: Some(entry.task_state).filter(|t| !t.is_empty()),
                host: entry.host.filter(|h| !h.is_empty()),
                consoles: entry.consoles,
            });
        }
        Ok(FileInventory { servers, by_id })
    }

    /// How many servers the file lists.
    pub fn count(&self) -> usize {
        self.servers.len()
    }
}

#[async_trait]
impl ServerBackend for FileInventory {
    async fn get_server(&self, id: &str) -> Result<Option<Server>, BackendError> {
        Ok(self.by_id.get(id).map(|&i| self.servers[i].clone()))
    }

    async fn list_servers(&self) -> Result<Vec<Server>, BackendError> {
        Ok(self.servers.clone())
    }
}
