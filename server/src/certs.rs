//! The server's own TLS certificate, made on first start and kept in the data
//! directory. Devices pin its SHA-256 (carried by every enrollment code), so no
//! certificate authority is involved.
//!
//! Certificate and key live together in `tls.pem` (mode 0600). It is made
//! under a temporary name and linked into place only if no other process got
//! there first, so a server starting while an officer makes an enrollment code
//! can never end up with a pair that does not match the pinned fingerprint.

use std::fs;
use std::path::Path;

use massline_model::enrollment_code::fingerprint;

use crate::error::Error;

/// The file in the data directory holding certificate and key.
pub const FILE: &str = "tls.pem";

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
                &massline_model::ids::hex_encode(&self.fingerprint),
            )
            .finish_non_exhaustive()
    }
}

/// The PEM block that starts with `-----BEGIN {label}`, whole.
fn block<'a>(pem: &'a str, label: &str) -> Option<&'a str> {
    let begin = pem.find(&format!("-----BEGIN {label}"))?;
    let end_marker = format!("-----END {label}");
    let end = begin + pem[begin..].find(&end_marker)?;
    let close = end
        + pem[end..]
            .find("-----\n")
            .map_or(pem.len() - end, |i| i + 6);
    Some(&pem[begin..close.min(pem.len())])
}

fn der_of(cert_pem: &str) -> Result<Vec<u8>, Error> {
    use base64::Engine;
    let body: String = cert_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|e| Error::certificate(format!("{FILE} is damaged"), e))
}

/// Loads the certificate from `dir`, making and saving one on first start.
pub fn load_or_create(dir: &Path) -> Result<ServerCert, Error> {
    let path = dir.join(FILE);
    if !path.exists() {
        create(dir)?;
    }
    // Made 0600; one copied in or made by an older server may be looser.
    massline_files::private_file(&path)
        .map_err(|e| Error::Io(format!("cannot make {} private", path.display()), e))?;
    let text = fs::read_to_string(&path).map_err(|e| Error::Io(path.display().to_string(), e))?;
    let damaged = |label: &str| {
        let what = format!("{} is damaged", path.display());
        Error::certificate(what, format!("it holds no {label} block"))
    };
    let cert_pem = block(&text, "CERTIFICATE")
        .ok_or_else(|| damaged("CERTIFICATE"))?
        .to_string();
    let key_pem = block(&text, "PRIVATE KEY")
        .ok_or_else(|| damaged("PRIVATE KEY"))?
        .to_string();
    let fingerprint = fingerprint(&der_of(&cert_pem)?);
    Ok(ServerCert {
        cert_pem,
        key_pem,
        fingerprint,
    })
}

fn create(dir: &Path) -> Result<(), Error> {
    use std::io::Write;
    let made = rcgen::generate_simple_self_signed(vec![
        "massline.local".to_string(),
        "localhost".to_string(),
    ])
    .map_err(|e| Error::certificate("cannot make one", e))?;
    let text = format!("{}{}", made.cert.pem(), made.signing_key.serialize_pem());
    let tmp = dir.join(format!(
        "{FILE}.{}.{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let io = |e| Error::Io(tmp.display().to_string(), e);
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(massline_files::PRIVATE_FILE_MODE);
    }
    let mut f = opts.open(&tmp).map_err(io)?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(io)?;
    // First one in wins; a later one keeps the existing pair.
    let linked = fs::hard_link(&tmp, dir.join(FILE));
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::Io(dir.join(FILE).display().to_string(), e)),
    }
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
        assert!(a.key_pem.starts_with("-----BEGIN PRIVATE KEY"));
    }

    #[test]
    fn concurrent_first_starts_agree_on_one_certificate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let prints: Vec<[u8; 32]> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| load_or_create(dir.path()).map(|c| c.fingerprint)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread").expect("cert"))
                .collect()
        });
        assert!(prints.windows(2).all(|w| w[0] == w[1]));
    }
}
