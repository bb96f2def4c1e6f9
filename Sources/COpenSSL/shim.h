#ifndef C_OPENSSL_SHIM_H
#define C_OPENSSL_SHIM_H
// System OpenSSL (libssl-dev) for TLS (client streams and the server side of TCPConnection); functions that OpenSSL defines as macros are wrapped
// here so Swift can call them.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

static inline long copenssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline long copenssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}
static inline int copenssl_tls1_2_version(void) { return TLS1_2_VERSION; }
static inline long copenssl_ctx_set_session_cache_off(SSL_CTX *ctx) {
    return SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
}
#endif
