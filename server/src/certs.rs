//! The server's own TLS certificate, made on first start and kept in the data
//! directory. Devices pin its SHA-256 (carried by every enrollment code), so no
//! certificate authority is involved.

use std::fs;
use std::path::Path;

use massline_core::sync::tls::fingerprint;

use crate::error::Error;

/// The certificate and key the server presents.
#[derive(Clone)]
pub struct ServerCert {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key, PEM.
    pub key_pem: String,
    /// SHA-256 of the certificate (DER): what devices pin.
    pub fingerprint: [u8; 32],
}

impl std::fmt::Debug for ServerCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCert")
            .field(
                "fingerprint",
                &massline_core::ids::hex_encode(&self.fingerprint),
            )
            .finish_non_exhaustive()
    }
}

fn der_of(pem: &str) -> Result<Vec<u8>, Error> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|e| Error::Certificate(format!("cert.pem is damaged: {e}")))
}

/// Loads the certificate from `dir`, making and saving one on first start.
pub fn load_or_create(dir: &Path) -> Result<ServerCert, Error> {
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    if !cert_path.exists() {
        let made = rcgen::generate_simple_self_signed(vec![
            "massline.local".to_string(),
            "localhost".to_string(),
        ])
        .map_err(|e| Error::Certificate(e.to_string()))?;
        let key = made.signing_key.serialize_pem();
        write_private(&key_path, &key)?;
        fs::write(&cert_path, made.cert.pem())
            .map_err(|e| Error::Io(cert_path.display().to_string(), e))?;
    }
    let cert_pem = fs::read_to_string(&cert_path)
        .map_err(|e| Error::Io(cert_path.display().to_string(), e))?;
    let key_pem =
        fs::read_to_string(&key_path).map_err(|e| Error::Io(key_path.display().to_string(), e))?;
    let fingerprint = fingerprint(&der_of(&cert_pem)?);
    Ok(ServerCert {
        cert_pem,
        key_pem,
        fingerprint,
    })
}

fn write_private(path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| Error::Io(path.display().to_string(), e))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::Io(path.display().to_string(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_is_made_once_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = load_or_create(dir.path()).expect("create");
        let b = load_or_create(dir.path()).expect("load");
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.cert_pem, b.cert_pem);
    }
}
