#![doc = include_str!("../README.md")]

mod backend;
mod domain_xml;
mod events;
mod hypervisor;
mod settings;

pub use backend::LibvirtBackend;
pub use settings::LibvirtSettings;
