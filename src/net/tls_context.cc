#include "net/tls_context.h"

#include <openssl/err.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <utility>

#include "net/net_util.h"

namespace mf::net::detail {
namespace {

// Larger than one TLS record (16 KB + overhead): with read-ahead, one recv() then pulls in
// several records during bulk transfers instead of two recv() calls (header, body) per record.
constexpr long kReadBufferBytes = 64 * 1024;

std::string lastOpenSslError() {
  unsigned long code = ERR_peek_last_error();
  if (code == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(code);
  if (reason != nullptr) return reason;
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

Status loadCaFile(SSL_CTX* ctx, const std::string& path) {
  // Check readability first: "No such file or directory" says more than OpenSSL's
  // "system lib".
  if (std::FILE* file = std::fopen(path.c_str(), "rb")) {
    std::fclose(file);
  } else {
    return Status(Errc::kConfig, "cannot load CA file '" + path + "': " + errnoText(errno) +
                                     ". Give a PEM file with the CA certificate(s) to trust.");
  }
  ERR_clear_error();
  if (SSL_CTX_load_verify_file(ctx, path.c_str()) != 1) {
    return Status(Errc::kConfig, "cannot load CA file '" + path + "': " + lastOpenSslError() +
                                     ". Give a PEM file with the CA certificate(s) to trust.");
  }
  return Status::ok();
}

Result<SSL_CTX*> newContext(const TlsOptions& options) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    return Status(Errc::kTls, "cannot create a TLS context: " + lastOpenSslError());
  }
  // TLS 1.0 and 1.1 are deprecated (RFC 8996) and disabled by OpenSSL's default security level.
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_default_read_buffer_len(ctx, kReadBufferBytes);
  if (options.verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    // Missing system CAs are not an error here: with --ca-file the user's CA may be enough,
    // and otherwise the handshake reports the untrusted certificate precisely.
    SSL_CTX_set_default_verify_paths(ctx);
    if (!options.caFile.empty()) {
      Status loaded = loadCaFile(ctx, options.caFile);
      if (!loaded.isOk()) {
        SSL_CTX_free(ctx);
        return loaded;
      }
    }
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  return ctx;
}

// --- socket BIO ------------------------------------------------------------------------

int fdOf(BIO* bio) {
  return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio)));
}

int bioWrite(BIO* bio, const char* data, int length) {
  BIO_clear_retry_flags(bio);
  ssize_t n = ::send(fdOf(bio), data, static_cast<size_t>(length), MSG_NOSIGNAL);
  if (n >= 0) return static_cast<int>(n);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_write(bio);
  return -1;
}

int bioRead(BIO* bio, char* data, int length) {
  BIO_clear_retry_flags(bio);
  ssize_t n = ::recv(fdOf(bio), data, static_cast<size_t>(length), 0);
  if (n > 0) return static_cast<int>(n);
  if (n == 0) {
    // Lets OpenSSL tell an EOF without close_notify (SSL_R_UNEXPECTED_EOF_WHILE_READING)
    // from other errors, as its own socket BIO does.
    BIO_set_flags(bio, BIO_FLAGS_IN_EOF);
    return 0;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_read(bio);
  return -1;
}

long bioCtrl(BIO* bio, int command, long /*number*/, void* pointer) {
  switch (command) {
    case BIO_CTRL_FLUSH:
      return 1;  // unbuffered: every write already went to the socket
    case BIO_CTRL_EOF:
      return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
    case BIO_C_GET_FD:
      if (pointer != nullptr) *static_cast<int*>(pointer) = fdOf(bio);
      return fdOf(bio);
    default:
      return 0;
  }
}

BIO_METHOD* socketBioMethod() {
  // Built once; BIO_METHODs are immutable after setup and shared by all threads.
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "mailferry socket");
    if (m == nullptr) return m;
    BIO_meth_set_write(m, bioWrite);
    BIO_meth_set_read(m, bioRead);
    BIO_meth_set_ctrl(m, bioCtrl);
    return m;
  }();
  return method;
}

}  // namespace

Result<SSL_CTX*> sharedTlsContext(const TlsOptions& options) {
  // Never destroyed: contexts must outlive every stream, including ones closed during exit.
  static auto* mutex = new std::mutex;
  static auto* cache = new std::map<std::pair<bool, std::string>, SSL_CTX*>;

  auto key = std::make_pair(options.verify, options.verify ? options.caFile : std::string());
  std::lock_guard<std::mutex> lock(*mutex);
  auto found = cache->find(key);
  if (found != cache->end()) return found->second;
  MF_ASSIGN_OR_RETURN(SSL_CTX * ctx, newContext(options));
  cache->emplace(std::move(key), ctx);
  return ctx;
}

BIO* newSocketBio(int fd) {
  BIO_METHOD* method = socketBioMethod();
  if (method == nullptr) return nullptr;
  BIO* bio = BIO_new(method);
  if (bio == nullptr) return nullptr;
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  BIO_set_init(bio, 1);
  return bio;
}

BIO* newBufferedSocketBio(int fd, int bufferBytes) {
  BIO* socket = newSocketBio(fd);
  BIO* buffer = BIO_new(BIO_f_buffer());
  if (socket == nullptr || buffer == nullptr ||
      BIO_set_write_buffer_size(buffer, bufferBytes) != 1) {
    BIO_free(socket);
    BIO_free(buffer);
    return nullptr;
  }
  return BIO_push(buffer, socket);
}

}  // namespace mf::net::detail
