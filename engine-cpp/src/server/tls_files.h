// TLS for the engine's listeners from the PEM files of --tls-cert, --tls-key and --tls-client-ca:
// read and checked once at start (a bad file stops the process naming its flag), then handed to
// gRPC and to the metrics server's OpenSSL context, so both serve the same certificate.
#pragma once

#include <grpcpp/security/server_credentials.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "engine_config.h"

namespace hft::engine::server {

struct TlsMaterial {
  std::string cert_chain;   // PEM, the leaf first
  std::string private_key;  // PEM
  std::string client_ca;    // PEM; empty: clients present no certificate
  bool enabled() const { return !cert_chain.empty(); }
};

// Empty when --tls-cert is not given (plaintext). Throws std::invalid_argument naming the flag
// when a file cannot be read, holds no PEM of its kind, the certificate has expired, or the key
// is not the certificate's.
TlsMaterial load_tls(const EngineConfig& config);

// TLS 1.2 or newer with `tls`'s certificate; with a client CA, a client certificate it signed is
// required and verified (mutual TLS). Insecure credentials when `tls` is not enabled.
std::shared_ptr<grpc::ServerCredentials> server_credentials(const TlsMaterial& tls);

// Sets up an OpenSSL server context the same way (for the metrics listener); false on failure.
bool configure_ssl_context(SSL_CTX& context, const TlsMaterial& tls);

}  // namespace hft::engine::server
