// The engine's TLS flags: pairs checked at parse time, files read and checked at start with
// messages naming the flag, and the metrics listener's OpenSSL context set up like gRPC's
// (TLS 1.2 at least, client certificates required with a client CA). Certificates come from
// scripts/certs.sh, as an operator's would.
#include "tls_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine_config.h"

namespace hft::engine::server {
namespace {

class TlsFiles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/hft-tls-files-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    const std::string command = std::string("bash ") + HFT_CERTS_SCRIPT + " " + dir_ + " >/dev/null";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  static std::string file(const std::string& name) { return dir_ + "/" + name; }
  static std::string contents(const std::string& name) {
    std::ifstream in(file(name), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  // parse_config over `flags`, as the process would see them.
  static EngineConfig parse(std::vector<std::string> flags) {
    std::vector<char*> argv{const_cast<char*>("hft-engine")};
    for (std::string& flag : flags) argv.push_back(flag.data());
    return parse_config(static_cast<int>(argv.size()), argv.data());
  }

  // The message of the std::invalid_argument `run` throws.
  template <typename F>
  static std::string error_of(F run) {
    try {
      run();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "(no error)";
  }

  static std::string dir_;
};
std::string TlsFiles::dir_;

TEST_F(TlsFiles, PlaintextWithoutACertificate) {
  const TlsMaterial tls = load_tls(parse({}));
  EXPECT_FALSE(tls.enabled());
}

TEST_F(TlsFiles, ReadsCertificateKeyAndClientCa) {
  const TlsMaterial tls =
      load_tls(parse({"--tls-cert=" + file("engine.crt"), "--tls-key=" + file("engine.key"), "--tls-client-ca=" + file("ca.crt")}));
  ASSERT_TRUE(tls.enabled());
  EXPECT_EQ(tls.cert_chain, contents("engine.crt"));
  EXPECT_EQ(tls.private_key, contents("engine.key"));
  EXPECT_EQ(tls.client_ca, contents("ca.crt"));
}

TEST_F(TlsFiles, FlagsComeInPairs) {
  EXPECT_EQ(error_of([] { parse({"--tls-cert=" + file("engine.crt")}); }), "--tls-key: expected with --tls-cert (the certificate's private key)");
  EXPECT_EQ(error_of([] { parse({"--tls-key=" + file("engine.key")}); }), "--tls-cert: expected with --tls-key (the key's certificate)");
  EXPECT_EQ(error_of([] { parse({"--tls-client-ca=" + file("ca.crt")}); }),
            "--tls-client-ca: client certificates are checked only by a TLS listener; give --tls-cert and --tls-key too");
}

TEST_F(TlsFiles, NamesAnUnreadableFile) {
  EXPECT_EQ(error_of([] { load_tls(parse({"--tls-cert=/nonexistent/engine.crt", "--tls-key=" + file("engine.key")})); }),
            "--tls-cert: cannot read \"/nonexistent/engine.crt\" (No such file or directory)");
  EXPECT_EQ(error_of([] { load_tls(parse({"--tls-cert=" + file("engine.crt"), "--tls-key=/nonexistent/engine.key"})); }),
            "--tls-key: cannot read \"/nonexistent/engine.key\" (No such file or directory)");
}

TEST_F(TlsFiles, NamesAFileThatIsNotPemOfItsKind) {
  EXPECT_EQ(error_of([] { load_tls(parse({"--tls-cert=" + file("engine.key"), "--tls-key=" + file("engine.key")})); }),
            "--tls-cert: expected a PEM certificate in \"" + file("engine.key") + "\"");
  EXPECT_EQ(error_of([] { load_tls(parse({"--tls-cert=" + file("engine.crt"), "--tls-key=" + file("engine.crt")})); }),
            "--tls-key: expected a PEM private key in \"" + file("engine.crt") + "\"");
  EXPECT_EQ(error_of([] {
              load_tls(parse({"--tls-cert=" + file("engine.crt"), "--tls-key=" + file("engine.key"), "--tls-client-ca=" + file("ca.key")}));
            }),
            "--tls-client-ca: expected a PEM certificate in \"" + file("ca.key") + "\"");
}

TEST_F(TlsFiles, NamesAKeyThatIsNotTheCertificates) {
  EXPECT_EQ(error_of([] { load_tls(parse({"--tls-cert=" + file("engine.crt"), "--tls-key=" + file("gateway.key")})); }),
            "--tls-key: the key in \"" + file("gateway.key") + "\" is not the private key of the certificate in --tls-cert \"" +
                file("engine.crt") + "\"");
}

TEST_F(TlsFiles, MetricsContextRequiresTls12AndClientCertificatesWithACa) {
  const TlsMaterial mutual =
      load_tls(parse({"--tls-cert=" + file("engine.crt"), "--tls-key=" + file("engine.key"), "--tls-client-ca=" + file("ca.crt")}));
  SSL_CTX* context = SSL_CTX_new(TLS_server_method());
  ASSERT_TRUE(configure_ssl_context(*context, mutual));
  EXPECT_EQ(SSL_CTX_get_min_proto_version(context), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_verify_mode(context), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
  SSL_CTX_free(context);

  const TlsMaterial server_only = load_tls(parse({"--tls-cert=" + file("engine.crt"), "--tls-key=" + file("engine.key")}));
  context = SSL_CTX_new(TLS_server_method());
  ASSERT_TRUE(configure_ssl_context(*context, server_only));
  EXPECT_EQ(SSL_CTX_get_verify_mode(context), SSL_VERIFY_NONE);
  SSL_CTX_free(context);
}

}  // namespace
}  // namespace hft::engine::server
