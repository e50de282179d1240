#include "net/test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "net/tls_context.h"

namespace mf::net::testing {
namespace {

void setIoTimeout(int fd) {
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void addExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) throw std::runtime_error("bad extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

void writePem(const std::string& path, const std::function<int(FILE*)>& write) {
  FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr || write(file) != 1) throw std::runtime_error("cannot write " + path);
  std::fclose(file);
}

SSL_CTX* serverContext(const TestCert& cert) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(ctx, cert.cert.get());
  SSL_CTX_use_PrivateKey(ctx, cert.key.get());
  return ctx;
}

// Server-side TLS on a blocking socket, through the net layer's MSG_NOSIGNAL BIO.
SSL* acceptTls(int fd, const TestCert& cert) {
  SSL_CTX* ctx = serverContext(cert);
  SSL* ssl = SSL_new(ctx);
  SSL_CTX_free(ctx);  // the SSL keeps its own reference
  BIO* bio = detail::newSocketBio(fd);
  SSL_set_bio(ssl, bio, bio);
  if (SSL_accept(ssl) != 1) {
    ERR_clear_error();
    SSL_free(ssl);
    return nullptr;
  }
  return ssl;
}

}  // namespace

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "mf-net-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

TestCert makeSelfSignedCert(const CertSpec& spec, const std::string& dir, const std::string& name) {
  TestCert out;
  // P-256 keys are generated in microseconds, RSA-2048 in tens of milliseconds.
  out.key.reset(EVP_EC_gen("P-256"), EVP_PKEY_free);
  out.cert.reset(X509_new(), X509_free);
  X509* cert = out.cert.get();
  X509_set_version(cert, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), spec.validFromSeconds);
  X509_gmtime_adj(X509_getm_notAfter(cert), spec.validToSeconds);
  X509_set_pubkey(cert, out.key.get());
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.commonName.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert, subject);
  // The same extensions `openssl req -x509` adds.
  addExtension(cert, NID_basic_constraints, "critical,CA:TRUE");
  addExtension(cert, NID_subject_key_identifier, "hash");
  addExtension(cert, NID_authority_key_identifier, "keyid:always");
  std::string sans;
  for (const auto& alt : spec.altNames) sans += (sans.empty() ? "" : ",") + alt;
  if (!sans.empty()) addExtension(cert, NID_subject_alt_name, sans);
  if (X509_sign(cert, out.key.get(), EVP_sha256()) == 0) throw std::runtime_error("sign failed");

  out.certPath = dir + "/" + name + ".pem";
  out.keyPath = dir + "/" + name + ".key";
  writePem(out.certPath, [&](FILE* f) { return PEM_write_X509(f, cert); });
  writePem(out.keyPath, [&](FILE* f) {
    return PEM_write_PrivateKey(f, out.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  return out;
}

size_t ServerConnection::read(char* buffer, size_t capacity) {
  if (ssl_ != nullptr) {
    size_t got = 0;
    if (SSL_read_ex(ssl_, buffer, capacity, &got) != 1) {
      ERR_clear_error();
      return 0;
    }
    return got;
  }
  ssize_t n = ::recv(fd_, buffer, capacity, 0);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

bool ServerConnection::readExactly(std::string& out, size_t count) {
  out.resize(count);
  size_t have = 0;
  while (have < count) {
    size_t n = read(out.data() + have, count - have);
    if (n == 0) return false;
    have += n;
  }
  return true;
}

size_t ServerConnection::drain() {
  char buffer[16384];
  size_t total = 0;
  while (size_t n = read(buffer, sizeof buffer)) total += n;
  return total;
}

bool ServerConnection::write(std::string_view data) {
  while (!data.empty()) {
    if (ssl_ != nullptr) {
      size_t sent = 0;
      if (SSL_write_ex(ssl_, data.data(), data.size(), &sent) != 1) {
        ERR_clear_error();
        return false;
      }
      data.remove_prefix(sent);
    } else {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
  }
  return true;
}

bool ServerConnection::startTls(const TestCert& cert) {
  ssl_ = acceptTls(fd_, cert);
  return ssl_ != nullptr;
}

void ServerConnection::closeWrite() {
  if (ssl_ != nullptr) {
    SSL_shutdown(ssl_);
    ERR_clear_error();
  }
  ::shutdown(fd_, SHUT_WR);
}

void ServerConnection::closeHard() {
  ::shutdown(fd_, SHUT_RDWR);
}

TestServer::TestServer(bool ipv6) {
  int fd = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_storage address{};
  socklen_t length;
  if (ipv6) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&address);
    a6->sin6_family = AF_INET6;
    a6->sin6_addr = in6addr_loopback;
    length = sizeof(sockaddr_in6);
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&address);
    a4->sin_family = AF_INET;
    a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    length = sizeof(sockaddr_in);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd, 8) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    return;
  }
  port_ = ntohs(ipv6 ? reinterpret_cast<sockaddr_in6*>(&address)->sin6_port
                     : reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  listenFd_ = fd;
}

TestServer::~TestServer() {
  if (thread_.joinable()) thread_.join();
  if (listenFd_ >= 0) ::close(listenFd_);
}

void TestServer::serve(std::function<void(ServerConnection&)> handler, const TestCert* tls) {
  int listenFd = listenFd_;
  std::shared_ptr<TestCert> cert = tls ? std::make_shared<TestCert>(*tls) : nullptr;
  thread_ = std::thread([listenFd, cert, handler = std::move(handler)] {
    pollfd entry{listenFd, POLLIN, 0};
    if (::poll(&entry, 1, 10'000) != 1) return;
    int fd = ::accept4(listenFd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    setIoTimeout(fd);
    SSL* ssl = nullptr;
    if (cert) ssl = acceptTls(fd, *cert);
    if (!cert || ssl != nullptr) {
      ServerConnection connection(fd, ssl);
      handler(connection);
      ssl = connection.ssl();
    }
    if (ssl != nullptr) SSL_free(ssl);
    ::close(fd);
  });
}

ClosedPort::ClosedPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
      getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port_ = ntohs(address.sin_port);
  }
}

ClosedPort::~ClosedPort() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace mf::net::testing
