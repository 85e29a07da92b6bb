#include "tls_files.h"

#include <grpcpp/security/server_credentials.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace hft::engine::server {

namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Certificate = std::unique_ptr<X509, X509Free>;
using PrivateKey = std::unique_ptr<EVP_PKEY, KeyFree>;

std::unique_ptr<BIO, BioFree> memory_bio(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Every certificate of a PEM text, in order; none when it holds no certificate.
std::vector<Certificate> read_certificates(const std::string& pem) {
  std::vector<Certificate> certificates;
  auto bio = memory_bio(pem);
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certificates.emplace_back(certificate);
  ERR_clear_error();  // the end of the text reads as an error
  return certificates;
}

PrivateKey read_key(const std::string& pem) {
  auto bio = memory_bio(pem);
  PrivateKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return key;
}

std::string read_file(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("--" + flag + ": cannot read \"" + path + "\" (" + std::strerror(errno) + ")");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<Certificate> read_certificate_file(const std::string& flag, const std::string& path, std::string& pem) {
  pem = read_file(flag, path);
  std::vector<Certificate> certificates = read_certificates(pem);
  if (certificates.empty()) throw std::invalid_argument("--" + flag + ": expected a PEM certificate in \"" + path + "\"");
  return certificates;
}

}  // namespace

TlsMaterial load_tls(const EngineConfig& config) {
  TlsMaterial tls;
  if (config.tls_cert.empty()) return tls;
  const std::vector<Certificate> chain = read_certificate_file("tls-cert", config.tls_cert, tls.cert_chain);
  if (X509_cmp_current_time(X509_get0_notAfter(chain.front().get())) <= 0)
    throw std::invalid_argument("--tls-cert: the certificate in \"" + config.tls_cert + "\" has expired");
  tls.private_key = read_file("tls-key", config.tls_key);
  const PrivateKey key = read_key(tls.private_key);
  if (!key) throw std::invalid_argument("--tls-key: expected a PEM private key in \"" + config.tls_key + "\"");
  if (X509_check_private_key(chain.front().get(), key.get()) != 1) {
    ERR_clear_error();
    throw std::invalid_argument("--tls-key: the key in \"" + config.tls_key + "\" is not the private key of the certificate in --tls-cert \"" +
                                config.tls_cert + "\"");
  }
  if (!config.tls_client_ca.empty()) read_certificate_file("tls-client-ca", config.tls_client_ca, tls.client_ca);
  return tls;
}

std::shared_ptr<grpc::ServerCredentials> server_credentials(const TlsMaterial& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  // gRPC's own minimum is TLS 1.2.
  grpc::SslServerCredentialsOptions options(tls.client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                                                  : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls.client_ca;
  options.pem_key_cert_pairs.push_back({tls.private_key, tls.cert_chain});
  return grpc::SslServerCredentials(options);
}

bool configure_ssl_context(SSL_CTX& context, const TlsMaterial& tls) {
  std::vector<Certificate> chain = read_certificates(tls.cert_chain);
  const PrivateKey key = read_key(tls.private_key);
  if (chain.empty() || !key || SSL_CTX_set_min_proto_version(&context, TLS1_2_VERSION) != 1 ||
      SSL_CTX_use_certificate(&context, chain.front().get()) != 1 || SSL_CTX_use_PrivateKey(&context, key.get()) != 1 ||
      SSL_CTX_check_private_key(&context) != 1)
    return false;
  for (size_t i = 1; i < chain.size(); ++i)
    if (SSL_CTX_add1_chain_cert(&context, chain[i].get()) != 1) return false;
  if (!tls.client_ca.empty()) {
    X509_STORE* store = SSL_CTX_get_cert_store(&context);
    for (const Certificate& ca : read_certificates(tls.client_ca))
      if (X509_STORE_add_cert(store, ca.get()) != 1 || SSL_CTX_add_client_CA(&context, ca.get()) != 1) return false;
    SSL_CTX_set_verify(&context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return true;
}

}  // namespace hft::engine::server
