//! Reading the server's bytes, naming what was expected when they stop.

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::client::error::ClientError;

/// Fills `buf`.
pub(crate) async fn exact<R: AsyncRead + Unpin>(
    stream: &mut R,
    buf: &mut [u8],
    what: &'static str,
) -> Result<(), ClientError> {
    stream
        .read_exact(buf)
        .await
        .map(drop)
        .map_err(|e| ClientError::read(what, e))
}

/// `N` bytes.
pub(crate) async fn array<const N: usize, R: AsyncRead + Unpin>(
    stream: &mut R,
    what: &'static str,
) -> Result<[u8; N], ClientError> {
    let mut buf = [0u8; N];
    exact(stream, &mut buf, what).await?;
    Ok(buf)
}

/// `n` bytes, `n` already bounded by the caller.
pub(crate) async fn vec<R: AsyncRead + Unpin>(
    stream: &mut R,
    n: usize,
    what: &'static str,
) -> Result<Vec<u8>, ClientError> {
    let mut buf = vec![0u8; n];
    exact(stream, &mut buf, what).await?;
    Ok(buf)
}

pub(crate) async fn u8<R: AsyncRead + Unpin>(
    stream: &mut R,
    what: &'static str,
) -> Result<u8, ClientError> {
    Ok(array::<1, _>(stream, what).await?[0])
}

pub(crate) async fn u32<R: AsyncRead + Unpin>(
    stream: &mut R,
    what: &'static str,
) -> Result<u32, ClientError> {
    Ok(u32::from_be_bytes(array(stream, what).await?))
}

/// An RFB string (`u32` length, then the text) of at most `max` bytes,
/// lossily decoded.
pub(crate) async fn text<R: AsyncRead + Unpin>(
    stream: &mut R,
    max: u32,
    what: &'static str,
) -> Result<String, ClientError> {
    let len = u32(stream, what).await?;
    if len > max {
        return Err(ClientError::Protocol(format!(
            "sent {what} of {len} bytes (at most {max} are read)"
        )));
    }
    let bytes = vec(stream, len as usize, what).await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
