//! TLS to the township server, trusting exactly the certificate pinned at enrollment.
//!
//! A township server makes its own certificate; there is no certificate
//! authority. The enrollment code carries the SHA-256 of that certificate, and
//! the device accepts a server only if it presents that very certificate
//! (and proves it holds its key, which rustls checks as usual).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

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
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The client configuration for a pinned server, shared per pin within the
/// process so later connections resume the TLS session.
pub fn client_config(pin: [u8; 32]) -> Arc<rustls::ClientConfig> {
    static CONFIGS: OnceLock<Mutex<HashMap<[u8; 32], Arc<rustls::ClientConfig>>>> = OnceLock::new();
    let mut configs = CONFIGS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    configs
        .entry(pin)
        .or_insert_with(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
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
            Arc::new(config)
        })
        .clone()
}

#[allow(clippy::panic)]
fn unreachable_tls() -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier> {
    panic!("the ring provider supports TLS 1.3")
}
