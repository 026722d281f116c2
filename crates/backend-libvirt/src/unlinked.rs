//! The backend in a build without the `libvirt` feature: a type with no
//! values, whose `start` says how to get the real one.

use consoled_core::{async_trait, BackendError, Revoker, Server, ServerBackend};

use crate::settings::LibvirtSettings;

/// Servers from libvirt domains: absent from this build, which was made
/// without the `libvirt` feature (it links libvirt's C library).
#[derive(Debug)]
pub enum LibvirtBackend {}

impl LibvirtBackend {
    /// Refuses: this build has no libvirt.
    ///
    /// # Errors
    /// Always, naming the feature to build with.
    pub async fn start(_settings: &LibvirtSettings, _revoker: Revoker) -> Result<Self, String> {
        Err(
            "this build has no libvirt backend: build consoled with `--features libvirt` \
             (it needs libvirt's C library, Debian libvirt-dev)"
                .to_owned(),
        )
    }
}

#[async_trait]
impl ServerBackend for LibvirtBackend {
    async fn get_server(&self, _id: &str) -> Result<Option<Server>, BackendError> {
        match *self {}
    }

    async fn list_servers(&self) -> Result<Vec<Server>, BackendError> {
        match *self {}
    }
}
