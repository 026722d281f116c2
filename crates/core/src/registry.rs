//! The drivers a process knows, looked up by (protocol, type).

use std::collections::HashMap;
use std::sync::Arc;

use crate::driver::{ConsoleDriver, DriverDescriptor, DriverRegistration};

/// Two drivers claim one (protocol, type), or similar misconfiguration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Two crates registered the same pair.
    #[error(
        "console type {protocol}/{console_type} is registered twice: by {first} and by {second}"
    )]
    Duplicate {
        /// The protocol both claim.
        protocol: String,
        /// The type both claim.
        console_type: String,
        /// The crate registered first.
        first: String,
        /// The crate registered second.
        second: String,
    },
}

/// The drivers of this process, keyed by protocol then type: a look-up is
/// two hash probes on borrowed strings, no allocation.
///
/// # Example
///
/// Filled from what is linked (a binary names each driver crate with
/// `use consoled_driver_x as _;`), or listed by hand:
///
/// ```
/// use std::sync::Arc;
/// use consoled_core::{ConsoleDriver, DriverDescriptor, Registry, RegistryError};
///
/// struct Serial;
/// impl ConsoleDriver for Serial {
///     fn descriptor(&self) -> &DriverDescriptor {
///         const D: DriverDescriptor =
///             DriverDescriptor::new("serial", "serial", "my-serial", "ws://127.0.0.1:6083/");
///         &D
///     }
/// }
///
/// let registry = Registry::builder().register(Arc::new(Serial)).build()?;
/// assert!(registry.get("serial", "serial").is_some());
/// assert!(registry.by_type("novnc").is_none());
///
/// // The same pair twice is refused, naming both crates.
/// let twice = Registry::builder()
///     .register(Arc::new(Serial))
///     .register(Arc::new(Serial))
///     .build();
/// assert!(matches!(twice, Err(RegistryError::Duplicate { .. })));
/// # Ok::<(), RegistryError>(())
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    by_pair: HashMap<&'static str, HashMap<&'static str, Arc<dyn ConsoleDriver>>>,
}

impl Registry {
    /// A builder for a registry listed by hand (tests, embedders that want an
    /// explicit list).
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder::default()
    }

    /// Every driver linked into the binary with `inventory::submit!`.
    ///
    /// # Errors
    /// [`RegistryError::Duplicate`] naming both crates when two claim a pair.
    pub fn from_inventory() -> Result<Registry, RegistryError> {
        let mut builder = Registry::builder();
        for registration in inventory::iter::<DriverRegistration> {
            builder = builder.register(registration.build());
        }
        builder.build()
    }

    /// The driver for (protocol, type).
    pub fn get(&self, protocol: &str, console_type: &str) -> Option<&Arc<dyn ConsoleDriver>> {
        self.by_pair.get(protocol)?.get(console_type)
    }

    /// The driver of a console type, whatever its protocol (types are unique
    /// across protocols on the wire).
    pub fn by_type(&self, console_type: &str) -> Option<&Arc<dyn ConsoleDriver>> {
        self.by_pair
            .values()
            .find_map(|types| types.get(console_type))
    }

    /// Every descriptor, sorted by (protocol, type).
    pub fn descriptors(&self) -> Vec<DriverDescriptor> {
        let mut all: Vec<DriverDescriptor> = self
            .by_pair
            .values()
            .flat_map(|types| types.values().map(|d| *d.descriptor()))
            .collect();
        all.sort_by_key(|d| (d.protocol, d.console_type));
        all
    }

    /// Puts `driver` in place of the one registered for its descriptor's
    /// (protocol, type), or adds it when none is; returns the driver it
    /// replaced.
    ///
    /// Drivers registered through `inventory` are built with no
    /// arguments; an embedder or a binary that configures one (the VNC
    /// drivers' security proxy, say) builds it itself and installs it here,
    /// after [`Registry::from_inventory`] and before the registry is shared.
    pub fn replace(&mut self, driver: Arc<dyn ConsoleDriver>) -> Option<Arc<dyn ConsoleDriver>> {
        let d = *driver.descriptor();
        self.by_pair
            .entry(d.protocol)
            .or_default()
            .insert(d.console_type, driver)
    }

    /// How many drivers are registered.
    pub fn len(&self) -> usize {
        self.by_pair.values().map(HashMap::len).sum()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.descriptors()
                    .iter()
                    .map(|d| format!("{}/{} ({})", d.protocol, d.console_type, d.crate_name)),
            )
            .finish()
    }
}

/// Collects drivers; [`RegistryBuilder::build`] checks for duplicates.
#[derive(Default)]
pub struct RegistryBuilder {
    drivers: Vec<Arc<dyn ConsoleDriver>>,
}

impl RegistryBuilder {
    /// Adds a driver.
    pub fn register(mut self, driver: Arc<dyn ConsoleDriver>) -> Self {
        self.drivers.push(driver);
        self
    }

    /// The registry.
    ///
    /// # Errors
    /// [`RegistryError::Duplicate`] naming both crates when two drivers claim
    /// one pair. Which one counts as first is unspecified for inventory
    /// registrations, so both are always named.
    pub fn build(self) -> Result<Registry, RegistryError> {
        let mut registry = Registry::default();
        for driver in self.drivers {
            let d = *driver.descriptor();
            let types = registry.by_pair.entry(d.protocol).or_default();
            if let Some(existing) = types.get(d.console_type) {
                let mut crates = [existing.descriptor().crate_name, d.crate_name];
                crates.sort_unstable();
                return Err(RegistryError::Duplicate {
                    protocol: d.protocol.to_owned(),
                    console_type: d.console_type.to_owned(),
                    first: crates[0].to_owned(),
                    second: crates[1].to_owned(),
                });
            }
            types.insert(d.console_type, driver);
        }
        Ok(registry)
    }
}
