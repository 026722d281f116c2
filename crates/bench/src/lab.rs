//! The subjects of a run, side by side in front of one backend.

use std::path::PathBuf;

use crate::backend::Backend;
use crate::subject::{self, Consoled, PlainRelay, Subject, Websockify};

/// What a run compares.
pub struct Lab {
    /// The backend every subject relays to.
    pub backend: Backend,
    /// Direct, plain relay, websockify (unless left out), consoled.
    pub subjects: Vec<Subject>,
}

/// How to set a lab up.
#[derive(Debug, Clone, Default)]
pub struct LabOptions {
    /// The consoled binary; default: the one beside the bench.
    pub consoled: Option<PathBuf>,
    /// Lines for consoled's `[proxy]` section.
    pub consoled_proxy: String,
    /// Lines for consoled's `[tokens]` section.
    pub consoled_tokens: String,
    /// Leave websockify out (no Python at hand).
    pub without_websockify: bool,
}

impl Lab {
    /// Starts the backend and every subject.
    ///
    /// # Errors
    /// When one of them cannot start.
    pub async fn start(options: &LabOptions) -> Result<Lab, String> {
        let backend = Backend::start().await?;
        let addr = backend.addr();
        let binary = subject::consoled_binary(options.consoled.clone())?;
        let mut subjects = vec![
            Subject::Direct(addr),
            Subject::PlainRelay(PlainRelay::start(addr)?),
        ];
        if !options.without_websockify {
            let venv = subject::websockify_venv()?;
            subjects.push(Subject::Websockify(Websockify::start(&venv, addr)?));
        }
        subjects.push(Subject::Consoled(Consoled::start(
            &binary,
            addr,
            &options.consoled_proxy,
            &options.consoled_tokens,
        )?));
        Ok(Lab { backend, subjects })
    }

    /// The subjects' names, in table order.
    pub fn names(&self) -> Vec<&'static str> {
        self.subjects.iter().map(Subject::name).collect()
    }
}
