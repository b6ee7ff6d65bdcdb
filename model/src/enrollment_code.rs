//! The enrollment code a township officer hands to a person (as text or a QR code).
//!
//! It carries the server's address, the SHA-256 of the server's certificate
//! (so the device trusts that certificate and no other) and a one-time secret:
//!
//! - `massline://192.168.1.10:7443/K7QM-2XRT-9WPA-H3CD?pin=<base64url sha-256>`
//! - `massline+plain://127.0.0.1:7443/K7QM-2XRT-9WPA-H3CD` for a development
//!   server running without TLS.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// SHA-256 of a certificate in DER form: what an enrollment code pins.
pub fn fingerprint(cert_der: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(cert_der).into()
}

/// Why an enrollment code cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadEnrollmentCode(pub String);

/// A parsed enrollment code.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrollmentCode {
    /// `host:port` of the township server.
    pub address: String,
    /// The one-time secret.
    pub secret: String,
    /// SHA-256 of the server certificate; `None` for a plain-text development server.
    pub pin: Option<[u8; 32]>,
}

impl fmt::Debug for EnrollmentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrollmentCode")
            .field("address", &self.address)
            .field("pin", &self.pin.map(|p| URL_SAFE_NO_PAD.encode(p)))
            .finish_non_exhaustive()
    }
}

impl fmt::Display for EnrollmentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pin {
            Some(pin) => write!(
                f,
                "massline://{}/{}?pin={}",
                self.address,
                self.secret,
                URL_SAFE_NO_PAD.encode(pin)
            ),
            None => write!(f, "massline+plain://{}/{}", self.address, self.secret),
        }
    }
}

impl std::str::FromStr for EnrollmentCode {
    type Err = BadEnrollmentCode;

    fn from_str(s: &str) -> Result<Self, BadEnrollmentCode> {
        let bad = |why: &str| BadEnrollmentCode(why.to_string());
        let s = s.trim();
        let (plain, rest) = if let Some(r) = s.strip_prefix("massline://") {
            (false, r)
        } else if let Some(r) = s.strip_prefix("massline+plain://") {
            (true, r)
        } else {
            return Err(bad("it must start with massline:// (copy the whole code)"));
        };
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let (address, secret) = path
            .split_once('/')
            .ok_or_else(|| bad("the server address or the secret is missing"))?;
        if address.is_empty() || !address.contains(':') {
            return Err(bad("the server address must be host:port"));
        }
        if secret.is_empty()
            || !secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(bad("the one-time secret is missing or damaged"));
        }
        let pin = match (plain, query.and_then(|q| q.strip_prefix("pin="))) {
            (true, _) => None,
            (false, None) => return Err(bad("the certificate pin is missing")),
            (false, Some(p)) => {
                let bytes = URL_SAFE_NO_PAD
                    .decode(p)
                    .map_err(|_| bad("the certificate pin is damaged"))?;
                Some(
                    bytes
                        .try_into()
                        .map_err(|_| bad("the certificate pin has the wrong length"))?,
                )
            }
        };
        Ok(EnrollmentCode {
            address: address.to_string(),
            secret: secret.to_string(),
            pin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_as_text() {
        for code in [
            EnrollmentCode {
                address: "192.168.1.10:7443".into(),
                secret: "K7QM-2XRT".into(),
                pin: Some([9; 32]),
            },
            EnrollmentCode {
                address: "127.0.0.1:7443".into(),
                secret: "AB12".into(),
                pin: None,
            },
        ] {
            let text = code.to_string();
            assert_eq!(text.parse::<EnrollmentCode>().ok(), Some(code));
        }
    }

    #[test]
    fn damaged_codes_say_what_is_wrong() {
        for (text, says) in [
            ("http://x:1/AB", "massline://"),
            ("massline://x:1/AB", "pin is missing"),
            ("massline://x:1/AB?pin=!!", "damaged"),
            ("massline://x:1/AB?pin=AAAA", "wrong length"),
            ("massline://x/AB?pin=AAAA", "host:port"),
            ("massline://x:1/?pin=AAAA", "secret"),
        ] {
            let err = text
                .parse::<EnrollmentCode>()
                .map(|_| ())
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
