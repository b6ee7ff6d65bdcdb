//! The dashboard's static files, built into the binary: it works on a
//! township LAN with no internet.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::session::WebError;

/// Every asset: (name, content type, bytes).
const ASSETS: &[(&str, &str, &[u8])] = &[(
    "style.css",
    "text/css; charset=utf-8",
    include_bytes!("../../assets/style.css"),
)];

/// `GET /assets/{file}`.
pub async fn asset(Path(file): Path<String>) -> Result<Response, WebError> {
    let (_, kind, bytes) = ASSETS
        .iter()
        .find(|(name, ..)| *name == file)
        .ok_or(WebError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, *kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        *bytes,
    )
        .into_response())
}
