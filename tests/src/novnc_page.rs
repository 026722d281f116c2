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

/// Counts the pixels of the first canvas inside `container` (a CSS
/// selector) whose colour is not black; `None` when there is no canvas.
pub async fn lit_pixels(browser: &mut Browser, container: &str) -> Option<u64> {
    let script = format!(
        "(() => {{
            const canvas = document.querySelector({container:?} + ' canvas');
            if (!canvas || canvas.width === 0 || canvas.height === 0) return null;
            const data = canvas.getContext('2d')
                .getImageData(0, 0, canvas.width, canvas.height).data;
            let lit = 0;
            for (let i = 0; i < data.length; i += 4) {{
                if (data[i] !== 0 || data[i + 1] !== 0 || data[i + 2] !== 0) lit++;
            }}
            return lit;
        }})()"
    );
    browser.eval(&script).await.as_u64()
}

/// Polls until the canvas inside `container` shows a lit pixel (a frame
/// may still be on its way when the status says connected); returns the
/// last count.
pub async fn wait_for_lit_pixels(browser: &mut Browser, container: &str) -> Option<u64> {
    let deadline = tokio::time::Instant::now() + CONNECT_LIMIT;
    loop {
        let lit = lit_pixels(browser, container).await;
        if lit.unwrap_or(0) > 0 || tokio::time::Instant::now() > deadline {
            return lit;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
