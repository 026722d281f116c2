//! What a person sees of a noVNC page, asked of the page itself.

use std::time::Duration;

use crate::chromium::Browser;

/// How long noVNC gets to load, reach the proxy and draw: generous, as
/// software-emulated QEMU and Chromium share two cores with the build.
pub const CONNECT_LIMIT: Duration = Duration::from_secs(60);

/// vnc_lite.html's status line starts with this once RFB is up.
pub const LITE_CONNECTED: &str =
    "(document.getElementById('status')?.textContent ?? '').startsWith('Connected to')";

/// vnc.html marks its connected state on the root element.
pub const APP_CONNECTED: &str = "document.documentElement.classList.contains('noVNC_connected')";

/// vnc_lite.html's status text.
pub const LITE_STATUS: &str = "document.getElementById('status')?.textContent ?? null";

/// What the canvas inside a container shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanvasPixels {
    /// Pixels in the canvas.
    pub total: u64,
    /// Pixels drawn at all (a canvas starts transparent; noVNC paints
    /// opaque pixels as the frame arrives).
    pub painted: u64,
    /// Pixels whose colour is not black.
    pub lit: u64,
}

impl CanvasPixels {
    /// Whether a whole frame has been drawn and shows something.
    pub fn complete_and_lit(&self) -> bool {
        self.total > 0 && self.painted == self.total && self.lit > 0
    }
}

/// Reads the first canvas inside `container` (a CSS selector); `None`
/// when there is no canvas or it has no size yet.
pub async fn canvas_pixels(browser: &mut Browser, container: &str) -> Option<CanvasPixels> {
    let script = format!(
        "(() => {{
            const canvas = document.querySelector({container:?} + ' canvas');
            if (!canvas || canvas.width === 0 || canvas.height === 0) return null;
            const data = canvas.getContext('2d')
                .getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0, lit = 0;
            for (let i = 0; i < data.length; i += 4) {{
                if (data[i + 3] !== 0) painted++;
                if (data[i] !== 0 || data[i + 1] !== 0 || data[i + 2] !== 0) lit++;
            }}
            return [data.length / 4, painted, lit];
        }})()"
    );
    let value = browser.eval(&script).await;
    let counts = value.as_array()?;
    let count = |i: usize| counts.get(i).and_then(serde_json::Value::as_u64);
    Some(CanvasPixels {
        total: count(0)?,
        painted: count(1)?,
        lit: count(2)?,
    })
}

/// Polls until the canvas inside `container` shows a whole, non-black
/// frame (one may still be arriving when the status says connected);
/// returns the last reading.
pub async fn wait_for_frame(browser: &mut Browser, container: &str) -> Option<CanvasPixels> {
    let deadline = tokio::time::Instant::now() + CONNECT_LIMIT;
    loop {
        let pixels = canvas_pixels(browser, container).await;
        if pixels.is_some_and(|p| p.complete_and_lit()) || tokio::time::Instant::now() > deadline {
            return pixels;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
