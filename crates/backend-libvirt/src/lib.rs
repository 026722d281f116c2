#![doc = include_str!("../README.md")]

#[cfg(feature = "libvirt")]
mod backend;
#[cfg(feature = "libvirt")]
mod domain_xml;
#[cfg(feature = "libvirt")]
mod events;
#[cfg(feature = "libvirt")]
mod hypervisor;
mod settings;
#[cfg(not(feature = "libvirt"))]
mod unlinked;

#[cfg(feature = "libvirt")]
pub use backend::LibvirtBackend;
pub use settings::LibvirtSettings;
#[cfg(not(feature = "libvirt"))]
pub use unlinked::LibvirtBackend;
