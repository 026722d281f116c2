//! The login-and-shell conversation of [`SerialLogin`](super::SerialLogin),
//! as a state machine over bytes so that it is tested without sockets.

use std::time::SystemTime;

use crate::civil_time::Civil;

/// The longest line kept; further characters are dropped.
const MAX_LINE: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    Login,
    Password { user: String },
    Shell { user: String },
}

/// A getty and a tiny shell on one serial line.
#[derive(Debug)]
pub(crate) struct Getty {
    hostname: String,
    stage: Stage,
    line: Vec<u8>,
    after_cr: bool,
}

impl Getty {
    /// A console of `hostname`; `greet` writes the first login prompt.
    pub fn new(hostname: &str) -> Self {
        Getty {
            hostname: hostname.to_owned(),
            stage: Stage::Login,
            line: Vec::new(),
            after_cr: false,
        }
    }

    /// The banner and first prompt.
    pub fn greet(&self, out: &mut Vec<u8>) {
        self.login_prompt(out);
    }

    /// Consumes typed bytes, appending what the console prints to `out`.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &byte in input {
            // Terminals end lines with CR, LF, CR LF or CR NUL.
            let after_cr = std::mem::replace(&mut self.after_cr, byte == b'\r');
            if after_cr && (byte == b'\n' || byte == 0) {
                continue;
            }
            match byte {
                b'\r' | b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    let line = String::from_utf8_lossy(&std::mem::take(&mut self.line))
                        .trim()
                        .to_owned();
                    self.enter(line, out);
                }
                0x7f | 0x08 => self.backspace(out),
                0x03 => {
                    self.line.clear();
                    out.extend_from_slice(b"^C\r\n");
                    self.prompt(out);
                }
                0x04 if self.line.is_empty() => {
                    if let Stage::Shell { .. } = self.stage {
                        out.extend_from_slice(b"logout\r\n");
                        self.stage = Stage::Login;
                        self.login_prompt(out);
                    }
                }
                byte if byte >= 0x20 && self.line.len() < MAX_LINE => {
                    self.line.push(byte);
                    if self.echoes() {
                        out.push(byte);
                    }
                }
                _ => {}
            }
        }
    }

    fn backspace(&mut self, out: &mut Vec<u8>) {
        if self.line.pop().is_some() && self.echoes() {
            out.extend_from_slice(b"\x08 \x08");
        }
    }

    /// Passwords are not echoed.
    fn echoes(&self) -> bool {
        !matches!(self.stage, Stage::Password { .. })
    }

    fn enter(&mut self, line: String, out: &mut Vec<u8>) {
        match std::mem::replace(&mut self.stage, Stage::Login) {
            Stage::Login if line.is_empty() => self.login_prompt(out),
            Stage::Login => {
                self.stage = Stage::Password { user: line };
                out.extend_from_slice(b"Password: ");
            }
            Stage::Password { user } => {
                let welcome = format!(
                    "\r\nWelcome to {host}, a consoled demo console.\r\nType 'help' for the commands.\r\n\r\n",
                    host = self.hostname
                );
                out.extend_from_slice(welcome.as_bytes());
                self.stage = Stage::Shell { user };
                self.prompt(out);
            }
            Stage::Shell { user } => {
                if matches!(line.as_str(), "exit" | "logout") {
                    self.login_prompt(out);
                    return;
                }
                let answer = self.run(&user, &line);
                out.extend_from_slice(answer.as_bytes());
                self.stage = Stage::Shell { user };
                self.prompt(out);
            }
        }
    }

    fn run(&self, user: &str, line: &str) -> String {
        let mut words = line.split_whitespace();
        let Some(command) = words.next() else {
            return String::new();
        };
        let args: Vec<&str> = words.collect();
        let text = match (command, args.as_slice()) {
            ("uname", []) | ("uname", ["-s"]) => "Linux".to_owned(),
            ("uname", ["-a"]) => format!(
                "Linux {} 6.1.0-consoled #1 SMP PREEMPT_DYNAMIC x86_64 GNU/Linux",
                self.hostname
            ),
            ("uname", ["-n"]) | ("hostname", []) => self.hostname.clone(),
            ("date", []) => Civil::at(SystemTime::now()).date_line(),
            ("whoami", []) => user.to_owned(),
            ("help", []) => {
                "commands: uname [-a|-n|-s], date, whoami, hostname, help, exit".to_owned()
            }
            ("uname" | "date" | "whoami" | "help" | "hostname", _) => {
                format!("{command}: unsupported arguments")
            }
            _ => format!("{command}: command not found"),
        };
        text + "\r\n"
    }

    fn prompt(&self, out: &mut Vec<u8>) {
        match self.stage {
            Stage::Login => self.login_prompt(out),
            Stage::Password { .. } => out.extend_from_slice(b"Password: "),
            Stage::Shell { .. } => out.extend_from_slice(b"$ "),
        }
    }

    fn login_prompt(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("\r\n{} login: ", self.hostname).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(getty: &mut Getty, input: &[u8]) -> String {
        let mut out = Vec::new();
        getty.feed(input, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn login_then_commands() {
        let mut getty = Getty::new("vm-1");
        let mut greeting = Vec::new();
        getty.greet(&mut greeting);
        assert_eq!(greeting, b"\r\nvm-1 login: ");
        assert_eq!(typed(&mut getty, b"alice\r"), "alice\r\nPassword: ");
        let after_password = typed(&mut getty, b"s3cret\r\n");
        assert!(
            !after_password.contains("s3cret"),
            "passwords are not echoed"
        );
        assert!(after_password.ends_with("$ "));
        assert_eq!(typed(&mut getty, b"whoami\r"), "whoami\r\nalice\r\n$ ");
        assert_eq!(typed(&mut getty, b"uname\n"), "uname\r\nLinux\r\n$ ");
        assert!(typed(&mut getty, b"uname -a\r").contains("Linux vm-1 6.1.0"));
        assert!(typed(&mut getty, b"date\r").contains(" UTC "));
        assert!(typed(&mut getty, b"help\r").contains("whoami"));
        assert_eq!(
            typed(&mut getty, b"ls -l\r"),
            "ls -l\r\nls: command not found\r\n$ "
        );
        assert_eq!(typed(&mut getty, b"\r"), "\r\n$ ");
        assert_eq!(typed(&mut getty, b"exit\r"), "exit\r\n\r\nvm-1 login: ");
    }

    #[test]
    fn line_editing() {
        let mut getty = Getty::new("vm-1");
        typed(&mut getty, b"bob\rpw\r");
        assert_eq!(
            typed(&mut getty, b"whoamx\x7fi\r"),
            "whoamx\x08 \x08i\r\nbob\r\n$ "
        );
        assert_eq!(typed(&mut getty, b"dat\x03"), "dat^C\r\n$ ");
        assert_eq!(
            typed(&mut getty, b"\r\0"),
            "\r\n$ ",
            "CR NUL is one line end"
        );
        assert_eq!(typed(&mut getty, b"\x04"), "logout\r\n\r\nvm-1 login: ");
        assert_eq!(
            typed(&mut getty, b"\r"),
            "\r\n\r\nvm-1 login: ",
            "an empty user asks again"
        );
        let long = vec![b'x'; MAX_LINE + 50];
        let echoed = typed(&mut getty, &long);
        assert_eq!(echoed.len(), MAX_LINE);
    }
}
