//! The webmks access data carried in an endpoint's internal access path.

use std::fmt;

use serde_json::Value;

use crate::pin::Thumbprint;

/// What authd needs: the MKS ticket, the VM's configuration file and the
/// host certificate's thumbprint.
pub(crate) struct MksAccess {
    /// A credential: never log it or put it in a message.
    pub(crate) ticket: String,
    pub(crate) cfg_file: String,
    pub(crate) thumbprint: Thumbprint,
}

impl fmt::Debug for MksAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MksAccess")
            .field("ticket", &"<redacted>")
            .field("cfg_file", &self.cfg_file)
            .field("thumbprint", &self.thumbprint)
            .finish()
    }
}

/// Why access data is unusable. Never quotes the data: it holds a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccessError(pub(crate) &'static str);

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Parses `{"ticket": ..., "cfgFile": ..., "thumbprint": ...}`; other keys
/// are ignored (vCenter's ticket object carries more).
pub(crate) fn parse(text: Option<&str>) -> Result<MksAccess, AccessError> {
    let text = text.filter(|t| !t.trim().is_empty()).ok_or(AccessError(
        "the internal access path is missing; expected a JSON object with ticket, cfgFile and thumbprint",
    ))?;
    // serde_json's own messages can quote the input; ours never do.
    let value: Value = serde_json::from_str(text).map_err(|_| {
        AccessError("the internal access path is not JSON; expected an object with ticket, cfgFile and thumbprint")
    })?;
    let object = value.as_object().ok_or(AccessError(
        "the internal access path is not a JSON object with ticket, cfgFile and thumbprint",
    ))?;
    let field = |name: &'static str, missing: &'static str| -> Result<String, AccessError> {
        match object.get(name) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            _ => Err(AccessError(missing)),
        }
    };
    let ticket = field("ticket", "\"ticket\" is missing, empty or not a string")?;
    let cfg_file = field("cfgFile", "\"cfgFile\" is missing, empty or not a string")?;
    let thumbprint = field(
        "thumbprint",
        "\"thumbprint\" is missing, empty or not a string",
    )?;
    // Each goes onto one authd command line: a line break would inject
    // another command.
    if ticket.chars().any(char::is_control) {
        return Err(AccessError("\"ticket\" contains control characters"));
    }
    if cfg_file.chars().any(char::is_control) {
        return Err(AccessError("\"cfgFile\" contains control characters"));
    }
    let thumbprint = Thumbprint::parse(&thumbprint).ok_or(AccessError(
        "\"thumbprint\" is not a SHA-1 in hex (40 digits, colons allowed)",
    ))?;
    Ok(MksAccess {
        ticket,
        cfg_file,
        thumbprint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRINT: &str = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD";

    fn json(ticket: &str, cfg: &str, print: &str) -> String {
        serde_json::json!({"ticket": ticket, "cfgFile": cfg, "thumbprint": print, "port": 902})
            .to_string()
    }

    #[test]
    fn parses_a_vcenter_ticket() {
        let access = parse(Some(&json("secret-ticket", "[ds1] vm/vm.vmx", PRINT))).unwrap();
        assert_eq!(access.ticket, "secret-ticket");
        assert_eq!(access.cfg_file, "[ds1] vm/vm.vmx");
        assert_eq!(Some(access.thumbprint), Thumbprint::parse(PRINT));
        assert!(!format!("{access:?}").contains("secret-ticket"));
    }

    #[test]
    fn every_flaw_is_named_without_quoting_the_ticket() {
        let cases = [
            (None, "missing"),
            (Some("  ".to_owned()), "missing"),
            (Some("secret-ticket".to_owned()), "not JSON"),
            (Some("[\"secret-ticket\"]".to_owned()), "not a JSON object"),
            (Some(json("", "x.vmx", PRINT)), "\"ticket\""),
            (
                Some(r#"{"ticket": 12345, "cfgFile": "x", "thumbprint": "00"}"#.to_owned()),
                "\"ticket\"",
            ),
            (Some(json("secret-ticket", "", PRINT)), "\"cfgFile\""),
            (
                Some(json("secret-ticket\r\nQUIT", "x.vmx", PRINT)),
                "control",
            ),
            (Some(json("secret-ticket", "x.vmx\nQUIT", PRINT)), "control"),
            (Some(json("secret-ticket", "x.vmx", "")), "\"thumbprint\""),
            (Some(json("secret-ticket", "x.vmx", "AA:BB")), "SHA-1"),
        ];
        for (text, expected) in cases {
            let err = parse(text.as_deref()).unwrap_err();
            assert!(err.0.contains(expected), "{text:?}: {err}");
            assert!(
                !err.0.contains("secret") && !err.0.contains("12345"),
                "{err}"
            );
        }
    }
}
