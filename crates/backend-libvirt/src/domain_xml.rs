//! What a domain's live XML says about its consoles and, when Nova created
//! it, its name and owner.

use std::collections::BTreeMap;

use consoled_core::Endpoint;
use roxmltree::{Document, Node};

/// The namespace Nova writes its `<nova:instance>` metadata in.
const NOVA_NS: &str = "http://openstack.org/xmlns/libvirt/nova/1.1";

/// Where the consoles of one hypervisor are reached from the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reach {
    /// The hypervisor's address for consoles that listen on every address
    /// (`0.0.0.0`, `::`): the URI's host, or loopback for a local URI.
    pub(crate) address: String,
    /// Whether the hypervisor is this host, so that its UNIX sockets are
    /// the proxy's too.
    pub(crate) local: bool,
}

/// What consoled reads from a domain's XML.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DomainXml {
    /// `<nova:instance><nova:name>`.
    pub(crate) nova_name: Option<String>,
    /// `<nova:instance><nova:owner><nova:project uuid=...>`.
    pub(crate) nova_project: Option<String>,
    /// Console endpoints keyed by protocol (`vnc`, `spice`, `serial`).
    pub(crate) consoles: BTreeMap<String, Endpoint>,
}

/// Reads `xml`, a domain's live description.
///
/// # Errors
/// The parser's message when `xml` is not XML.
pub(crate) fn parse(xml: &str, reach: &Reach) -> Result<DomainXml, roxmltree::Error> {
    let doc = Document::parse(xml)?;
    let root = doc.root_element();
    let mut out = DomainXml::default();
    if let Some(instance) = root
        .descendants()
        .find(|n| n.has_tag_name((NOVA_NS, "instance")))
    {
        out.nova_name = child(instance, "name").and_then(text);
        out.nova_project = child(instance, "owner")
            .and_then(|owner| child(owner, "project"))
            .and_then(|p| p.attribute("uuid"))
            .filter(|u| !u.trim().is_empty())
            .map(str::to_owned);
    }
    let Some(devices) = root.children().find(|n| n.has_tag_name("devices")) else {
        return Ok(out);
    };
    for graphics in devices.children().filter(|n| n.has_tag_name("graphics")) {
        let protocol = match graphics.attribute("type") {
            Some("vnc") => "vnc",
            Some("spice") => "spice",
            _ => continue,
        };
        if out.consoles.contains_key(protocol) {
            continue;
        }
        if let Some(endpoint) = graphics_endpoint(graphics, reach) {
            out.consoles.insert(protocol.to_owned(), endpoint);
        }
    }
    // The first serial port that QEMU serves (mode bind); `<console>`
    // repeats one of them.
    if let Some(endpoint) = devices
        .children()
        .filter(|n| n.has_tag_name("serial"))
        .find_map(|serial| serial_endpoint(serial, reach))
    {
        out.consoles.insert("serial".to_owned(), endpoint);
    }
    Ok(out)
}

fn graphics_endpoint(graphics: Node<'_, '_>, reach: &Reach) -> Option<Endpoint> {
    let listen = graphics.children().find(|n| n.has_tag_name("listen"));
    let socket = graphics.attribute("socket").or_else(|| {
        listen
            .filter(|l| l.attribute("type") == Some("socket"))?
            .attribute("socket")
    });
    if let Some(path) = socket {
        return unix_endpoint(path, reach);
    }
    let plain = port(graphics.attribute("port"))?;
    let address = graphics
        .attribute("listen")
        .or_else(|| listen?.attribute("address"));
    Some(Endpoint {
        host: host_for(address, reach),
        port: plain,
        tls_port: port(graphics.attribute("tlsPort")),
        internal_access_path: None,
        unix_socket: None,
    })
}

fn serial_endpoint(serial: Node<'_, '_>, reach: &Reach) -> Option<Endpoint> {
    let source = child(serial, "source")?;
    if source.attribute("mode") != Some("bind") {
        return None;
    }
    match serial.attribute("type")? {
        "tcp" => Some(Endpoint {
            host: host_for(source.attribute("host"), reach),
            port: port(source.attribute("service"))?,
            tls_port: None,
            internal_access_path: None,
            unix_socket: None,
        }),
        "unix" => unix_endpoint(source.attribute("path")?, reach),
        _ => None,
    }
}

/// A socket on another host is out of the proxy's reach, and the same path
/// here would be another VM's: such a console is left out.
fn unix_endpoint(path: &str, reach: &Reach) -> Option<Endpoint> {
    if !reach.local || !path.starts_with('/') {
        if !reach.local {
            tracing::debug!(
                path,
                "a console on a remote host's UNIX socket is out of reach"
            );
        }
        return None;
    }
    Some(Endpoint {
        host: reach.address.clone(),
        port: 0,
        tls_port: None,
        internal_access_path: None,
        unix_socket: Some(path.to_owned()),
    })
}

/// A port libvirt has assigned (`-1` until the domain runs).
fn port(value: Option<&str>) -> Option<u16> {
    value?.parse::<u16>().ok().filter(|p| *p != 0)
}

fn host_for(address: Option<&str>, reach: &Reach) -> String {
    match address.map(str::trim) {
        None | Some("" | "0.0.0.0" | "::" | "[::]") => reach.address.clone(),
        Some(address) => address.to_owned(),
    }
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|n| n.is_element() && n.tag_name().name() == name)
}

fn text(node: Node<'_, '_>) -> Option<String> {
    node.text()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> Reach {
        Reach {
            address: "127.0.0.1".into(),
            local: true,
        }
    }

    /// What libvirt 9 answers for a running Nova guest (trimmed).
    const NOVA_GUEST: &str = r#"<domain type='qemu' id='2'>
  <name>instance-0000002a</name>
  <uuid>8492eea4-fbf9-4f83-875d-b915e6d57d57</uuid>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:name>web-1</nova:name>
      <nova:owner>
        <nova:user uuid="u1">alice</nova:user>
        <nova:project uuid="6f70656e-7374-6163-6b20-70726f6a6563">demo</nova:project>
      </nova:owner>
    </nova:instance>
  </metadata>
  <devices>
    <serial type='unix'>
      <source mode='connect' path='/tmp/elsewhere.sock'/>
      <target type='isa-serial' port='0'/>
    </serial>
    <serial type='tcp'>
      <source mode='bind' host='0.0.0.0' service='24555' tls='no'/>
      <protocol type='raw'/>
      <target type='isa-serial' port='1'/>
    </serial>
    <console type='tcp'>
      <source mode='bind' host='0.0.0.0' service='24555'/>
    </console>
    <graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <graphics type='spice' port='5902' tlsPort='5903' autoport='yes'>
      <listen type='address' address='0.0.0.0'/>
    </graphics>
  </devices>
</domain>"#;

    #[test]
    fn a_nova_guest_has_its_name_owner_and_every_console() {
        let d = parse(NOVA_GUEST, &local()).unwrap();
        assert_eq!(d.nova_name.as_deref(), Some("web-1"));
        assert_eq!(
            d.nova_project.as_deref(),
            Some("6f70656e-7374-6163-6b20-70726f6a6563")
        );
        let vnc = &d.consoles["vnc"];
        assert_eq!(
            (vnc.host.as_str(), vnc.port, vnc.tls_port),
            ("127.0.0.1", 5901, None)
        );
        let spice = &d.consoles["spice"];
        assert_eq!((spice.port, spice.tls_port), (5902, Some(5903)));
        assert_eq!(
            spice.host, "127.0.0.1",
            "0.0.0.0 is the hypervisor's address"
        );
        let serial = &d.consoles["serial"];
        assert_eq!((serial.host.as_str(), serial.port), ("127.0.0.1", 24555));
        assert_eq!(
            serial.unix_socket, None,
            "the connect-mode socket is not QEMU's"
        );
    }

    #[test]
    fn sockets_are_endpoints_on_this_host_only() {
        let xml = "<domain><name>plain</name><devices>\
            <serial type='unix'><source mode='bind' path='/run/c/serial.sock'/></serial>\
            <graphics type='vnc' socket='/run/c/vnc.sock'/></devices></domain>";
        let d = parse(xml, &local()).unwrap();
        assert_eq!(d.nova_name, None);
        assert_eq!(d.nova_project, None);
        assert_eq!(
            d.consoles["vnc"].unix_socket.as_deref(),
            Some("/run/c/vnc.sock")
        );
        assert_eq!(
            d.consoles["serial"].unix_socket.as_deref(),
            Some("/run/c/serial.sock")
        );
        let remote = Reach {
            address: "hv2.example.com".into(),
            local: false,
        };
        assert!(parse(xml, &remote).unwrap().consoles.is_empty());
    }

    #[test]
    fn a_listen_element_of_type_socket_counts_too() {
        let xml = "<domain><devices><graphics type='vnc'>\
            <listen type='socket' socket='/run/c/vnc.sock'/></graphics></devices></domain>";
        let d = parse(xml, &local()).unwrap();
        assert_eq!(
            d.consoles["vnc"].unix_socket.as_deref(),
            Some("/run/c/vnc.sock")
        );
    }

    #[test]
    fn a_stopped_domain_with_autoport_has_no_console_yet() {
        let xml = "<domain><devices><graphics type='vnc' port='-1' autoport='yes' \
            listen='0.0.0.0'/></devices></domain>";
        assert!(parse(xml, &local()).unwrap().consoles.is_empty());
    }

    #[test]
    fn a_remote_hypervisor_stands_in_for_every_address() {
        let remote = Reach {
            address: "10.0.0.3".into(),
            local: false,
        };
        let xml = "<domain><devices><graphics type='vnc' port='5900' listen='::'/>\
            </devices></domain>";
        assert_eq!(
            parse(xml, &remote).unwrap().consoles["vnc"].host,
            "10.0.0.3"
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse("<domain>", &local()).is_err());
    }
}
