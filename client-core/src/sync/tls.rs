//! TLS to the township server, trusting exactly the certificate pinned at enrollment.
//!
//! A township server makes its own certificate; there is no certificate
//! authority. The enrollment code carries the SHA-256 of that certificate, and
//! the device accepts a server only if it presents that very certificate
//! (and proves it holds its key, which rustls checks as usual).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{
    ClientSessionMemoryCache, ClientSessionStore, Resumption, Tls12ClientSessionValue,
    Tls13ClientSessionValue,
};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, NamedGroup, SignatureScheme};
use tokio::sync::watch;

pub use crate::enrollment_code::fingerprint;

#[derive(Debug)]
struct PinnedCert {
    pin: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if fingerprint(end_entity) == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        // The schemes a TLS 1.3 server can sign with for its usual keys; the
        // ClientHello lists them all, so fewer is fewer bytes on a slow link.
        let offered = [
            SignatureScheme::ECDSA_NISTP256_SHA256,
            SignatureScheme::ED25519,
            SignatureScheme::ECDSA_NISTP384_SHA384,
            SignatureScheme::RSA_PSS_SHA256,
        ];
        let supported = self
            .provider
            .signature_verification_algorithms
            .supported_schemes();
        offered
            .into_iter()
            .filter(|s| supported.contains(s))
            .collect()
    }
}

/// TLS 1.3 tickets a device keeps per server, in memory. A resumption takes
/// one and the server gives one new per connection; a few more leave room.
const TICKETS: usize = 8;

/// The session store of a pinned server's configuration: rustls' own, which
/// also tells who waits when a new ticket has come in.
#[derive(Debug)]
struct Tickets {
    inner: ClientSessionMemoryCache,
    arrived: watch::Sender<u64>,
}

impl ClientSessionStore for Tickets {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.inner.set_kx_hint(server_name, group);
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.inner.kx_hint(server_name)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.inner.set_tls12_session(server_name, value);
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.inner.tls12_session(server_name)
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.inner.remove_tls12_session(server_name);
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        self.inner.insert_tls13_ticket(server_name, value);
        self.arrived.send_modify(|n| *n += 1);
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        self.inner.take_tls13_ticket(server_name)
    }
}

/// A pinned server's configuration and the arrivals of its tickets.
struct Pinned {
    config: Arc<rustls::ClientConfig>,
    arrived: watch::Receiver<u64>,
}

fn pinned<T>(pin: [u8; 32], f: impl FnOnce(&Pinned) -> T) -> T {
    static CONFIGS: OnceLock<Mutex<HashMap<[u8; 32], Pinned>>> = OnceLock::new();
    let mut configs = CONFIGS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    f(configs.entry(pin).or_insert_with(|| {
        let provider = Arc::new(provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap_or_else(|_| {
                rustls::ClientConfig::builder_with_provider(provider.clone())
                    .with_safe_default_protocol_versions()
                    .unwrap_or_else(|_| unreachable_tls())
            })
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedCert { pin, provider }))
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec()];
        // The server has one certificate and no use for the name.
        config.enable_sni = false;
        let (arrived, seen) = watch::channel(0);
        config.resumption = Resumption::store(Arc::new(Tickets {
            inner: ClientSessionMemoryCache::new(TICKETS),
            arrived,
        }));
        // A resumed connection sends its first calls with the ClientHello
        // (TLS 1.3 early data), saving a round trip.
        config.enable_early_data = true;
        Pinned {
            config: Arc::new(config),
            arrived: seen,
        }
    }))
}

/// What the device offers: TLS 1.3's AES-128-GCM (fast where the CPU has
/// AES instructions) and ChaCha20-Poly1305 (where it has not), and X25519.
/// Every suite and group offered costs ClientHello bytes on every connection,
/// and a 2G link carries 8 bytes a millisecond.
fn provider() -> CryptoProvider {
    use rustls::crypto::ring::{cipher_suite, default_provider, kx_group};
    CryptoProvider {
        cipher_suites: vec![
            cipher_suite::TLS13_AES_128_GCM_SHA256,
            cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        ],
        kx_groups: vec![kx_group::X25519],
        ..default_provider()
    }
}

/// The client configuration for a pinned server, shared per pin within the
/// process so later connections resume the TLS session and send their first
/// calls as early data (the server reads them only once: see its
/// `connections::tls`).
pub fn client_config(pin: [u8; 32]) -> Arc<rustls::ClientConfig> {
    pinned(pin, |p| p.config.clone())
}

/// Changes each time a pinned server gives a new ticket. After a sync that
/// went as early data, the server's ticket comes a round trip after its
/// answers (once the device's `Finished` has reached it); the connection is
/// kept until then, so the next sync resumes too.
pub fn ticket_arrivals(pin: [u8; 32]) -> watch::Receiver<u64> {
    pinned(pin, |p| {
        let mut r = p.arrived.clone();
        r.mark_unchanged();
        r
    })
}

#[allow(clippy::panic)]
fn unreachable_tls() -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier> {
    panic!("the ring provider supports TLS 1.3")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The extensions of a ClientHello, by type, with their bodies; and its
    /// cipher suites.
    fn read_hello(tls: &[u8]) -> (Vec<u16>, HashMap<u16, Vec<u8>>) {
        let u16_at = |b: &[u8], i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        // Record header (5), handshake header (4), version (2), random (32).
        let mut i = 5 + 4 + 2 + 32;
        i += 1 + usize::from(tls[i]);
        let suites_len = usize::from(u16_at(tls, i));
        let suites = (0..suites_len / 2)
            .map(|k| u16_at(tls, i + 2 + 2 * k))
            .collect();
        i += 2 + suites_len;
        i += 1 + usize::from(tls[i]);
        let end = i + 2 + usize::from(u16_at(tls, i));
        i += 2;
        let mut extensions = HashMap::new();
        while i < end {
            let (kind, len) = (u16_at(tls, i), usize::from(u16_at(tls, i + 2)));
            extensions.insert(kind, tls[i + 4..i + 4 + len].to_vec());
            i += 4 + len;
        }
        assert_eq!(i, tls.len(), "one record holding the ClientHello alone");
        (suites, extensions)
    }

    #[test]
    fn a_device_offers_the_server_only_what_it_uses() {
        let config = client_config([0x5a; 32]);
        let name = ServerName::try_from("massline.local").expect("name");
        let mut conn = rustls::ClientConnection::new(config, name).expect("connection");
        let mut hello = Vec::new();
        conn.write_tls(&mut hello).expect("ClientHello");
        let (suites, extensions) = read_hello(&hello);
        // TLS 1.3's AES-128-GCM and ChaCha20-Poly1305; X25519 alone.
        assert_eq!(suites, [0x1301, 0x1303]);
        assert_eq!(extensions[&10], [0, 2, 0, 0x1d], "supported groups");
        assert_eq!(extensions[&43], [2, 3, 4], "TLS 1.3 only");
        assert!(!extensions.contains_key(&0), "no server name");
        // Four signature schemes (ECDSA P-256 and P-384, Ed25519, RSA-PSS).
        assert_eq!(extensions[&13].len(), 2 + 2 * 4, "signature schemes");
        // With rustls' defaults it is 242 bytes.
        assert!(hello.len() <= 200, "a ClientHello of {} bytes", hello.len());
    }
}
