//! The SDK clients' HTTPS trust: Amazon Trust Services' roots only.

/// The roots of Amazon Trust Services, which sign the certificates of every
/// AWS service endpoint: Amazon Root CA 1-4 and Starfield Services Root
/// Certificate Authority - G2 (its cross-signer), as Debian ships them.
pub const AMAZON_ROOTS_PEM: &str = include_str!("amazon-trust-services-roots.pem");

/// Whether the operator asked for the system's trust store.
fn uses_system_roots(is_set: impl Fn(&str) -> bool) -> bool {
    ["SSL_CERT_FILE", "SSL_CERT_DIR"].into_iter().any(is_set)
}

/// The SDK's default HTTPS client, but trusting only [`AMAZON_ROOTS_PEM`].
///
/// Why: the default client reads and decodes every root of the system store
/// (the bundle, then each file of the certificate folder) when it is built:
/// 79% of the instructions to a function's first answer, measured with
/// callgrind by `lambda-bench`. Trusting only Amazon's five roots removes that
/// cost and also means no other authority can vouch for an AWS endpoint.
/// An operator who must trust another root (a TLS-inspecting proxy, an
/// endpoint of their own) sets `SSL_CERT_FILE` or `SSL_CERT_DIR`: then the
/// system store is used as by default (`None`).
pub fn https_client() -> Option<aws_smithy_runtime_api::client::http::SharedHttpClient> {
    if uses_system_roots(|v| std::env::var_os(v).is_some()) {
        return None;
    }
    Some(pinned_https_client())
}

/// [`https_client`] whatever the environment says.
pub fn pinned_https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    https_client_trusting(AMAZON_ROOTS_PEM.as_bytes())
}

/// The SDK's default HTTPS client, trusting only the roots of `pem`.
fn https_client_trusting(pem: &[u8]) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{
        rustls_provider::CryptoMode, Provider, TlsContext, TrustStore,
    };
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    let trusting = |store: TrustStore| {
        TlsContext::builder()
            .with_trust_store(store)
            .build()
            .expect("a trust store of valid PEM roots")
    };
    let tls = trusting(TrustStore::empty().with_pem_certificate(pem));
    // Each SDK client, as it is built, asks for one connector with neither
    // settings nor components and drops it (`validate_base_client_config`:
    // "so that native certs load" early). Every connector build parses the
    // roots' PEM again: 0.2M instructions a client, 1.3M of notify's cold
    // start. That throw-away connector trusts nothing instead; a connection
    // always comes with both.
    let throw_away = trusting(TrustStore::empty());
    // As the SDK's own default client builds its connector, trust store aside.
    Builder::new().build_with_connector_fn(move |settings, components| {
        let tls = match (settings, components) {
            (None, None) => &throw_away,
            _ => &tls,
        };
        let mut conn = ConnectorBuilder::default()
            .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(tls.clone());
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_trusts_amazons_five_roots_unless_the_operator_names_a_store() {
        let names: Vec<&str> = AMAZON_ROOTS_PEM
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .collect();
        assert_eq!(
            names,
            [
                "Amazon_Root_CA_1",
                "Amazon_Root_CA_2",
                "Amazon_Root_CA_3",
                "Amazon_Root_CA_4",
                "Starfield_Services_Root_Certificate_Authority_-_G2"
            ]
        );
        assert_eq!(
            AMAZON_ROOTS_PEM
                .matches("-----BEGIN CERTIFICATE-----")
                .count(),
            5
        );
        assert_eq!(
            AMAZON_ROOTS_PEM
                .matches("-----END CERTIFICATE-----")
                .count(),
            5
        );
        assert!(!uses_system_roots(|_| false));
        assert!(uses_system_roots(|v| v == "SSL_CERT_FILE"));
        assert!(uses_system_roots(|v| v == "SSL_CERT_DIR"));
    }

    fn openssl(args: &[&str], dir: &std::path::Path) {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl (Debian's openssl package) makes the test certificates");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The error of one SDK call to `endpoint` through `client` (the SDK's
    /// default client when `None`), as text.
    async fn call_error(
        endpoint: &str,
        client: Option<aws_smithy_runtime_api::client::http::SharedHttpClient>,
    ) -> String {
        let mut conf = aws_sdk_ssm::Config::builder()
            .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
            .region(aws_sdk_ssm::config::Region::new("eu-west-1"))
            .credentials_provider(aws_sdk_ssm::config::Credentials::for_tests())
            .endpoint_url(endpoint)
            .retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())
            // openssl s_server answers no POST: only the handshake matters.
            .timeout_config(
                aws_sdk_ssm::config::timeout::TimeoutConfig::builder()
                    .operation_timeout(std::time::Duration::from_secs(3))
                    .build(),
            );
        if let Some(c) = client {
            conf = conf.http_client(c);
        }
        let err = aws_sdk_ssm::Client::from_conf(conf.build())
            .get_parameter()
            .name("x")
            .send()
            .await
            .unwrap_err();
        format!(
            "{:?}",
            aws_smithy_runtime_api::client::result::SdkError::into_source(err)
        )
    }

    /// The pinned store is really in use, and only it: a server whose
    /// certificate a test CA signed is refused at the handshake even while
    /// `SSL_CERT_FILE` names that CA, which the SDK's default client then
    /// trusts (so the test would fail if the system store were consulted).
    #[tokio::test]
    async fn only_amazons_roots_are_trusted_even_when_the_system_store_trusts_more() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("leaf.ext"),
            "basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost\n",
        )
        .unwrap();
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=test-ca",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
            d,
        );
        openssl(
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-keyout",
                "key.pem",
                "-out",
                "leaf.csr",
            ],
            d,
        );
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "1",
                "-extfile",
                "leaf.ext",
                "-out",
                "cert.pem",
            ],
            d,
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = std::process::Command::new("openssl")
            .args([
                "s_server", "-quiet", "-www", "-cert", "cert.pem", "-key", "key.pem", "-accept",
            ])
            .arg(port.to_string())
            .current_dir(d)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // No other test of this crate reads the variable.
        std::env::set_var("SSL_CERT_FILE", d.join("ca.pem"));
        std::env::remove_var("SSL_CERT_DIR");
        let endpoint = format!("https://localhost:{port}");
        let pinned = call_error(&endpoint, Some(pinned_https_client())).await;
        let system = call_error(&endpoint, None).await;
        // The same client over the test CA: its connections use the store
        // given, not the empty one of the SDK's throw-away connector.
        let test_ca = std::fs::read(d.join("ca.pem")).unwrap();
        let trusting_the_ca = call_error(&endpoint, Some(https_client_trusting(&test_ca))).await;
        let escape_hatch = https_client().is_none();
        let _ = server.kill();
        let _ = server.wait();
        assert!(
            pinned.contains("UnknownIssuer"),
            "the pinned client trusted the test CA: {pinned}"
        );
        assert!(
            !system.contains("UnknownIssuer") && !system.contains("InvalidCertificate"),
            "the default client should trust the CA SSL_CERT_FILE names: {system}"
        );
        assert!(
            !trusting_the_ca.contains("UnknownIssuer")
                && !trusting_the_ca.contains("InvalidCertificate"),
            "a client over the test CA should pass the handshake: {trusting_the_ca}"
        );
        assert!(
            escape_hatch,
            "SSL_CERT_FILE must bring back the system store"
        );
    }
}
