// Thin wrappers for OpenSSL 3 function-like macros and constants that Swift cannot import.
// Only static inline functions and #defines here: never define variables in a header.
#ifndef MARIADB_TLS_PROXY_COPENSSL_SHIM_H
#define MARIADB_TLS_PROXY_COPENSSL_SHIM_H

#define OPENSSL_API_COMPAT 30000
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>
#include <openssl/pem.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>

static inline uint64_t copenssl_SSL_CTX_set_options(SSL_CTX *ctx, uint64_t op) { return SSL_CTX_set_options(ctx, op); }
static inline long copenssl_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
static inline int copenssl_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int v) { return (int)SSL_CTX_set_min_proto_version(ctx, v); }
static inline int copenssl_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int v) { return (int)SSL_CTX_set_max_proto_version(ctx, v); }
static inline long copenssl_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long m) { return SSL_CTX_set_session_cache_mode(ctx, m); }
static inline long copenssl_SSL_CTX_sess_set_cache_size(SSL_CTX *ctx, long n) { return SSL_CTX_sess_set_cache_size(ctx, n); }
static inline long copenssl_SSL_CTX_set_dh_auto(SSL_CTX *ctx, long onoff) { return SSL_CTX_set_dh_auto(ctx, onoff); }
static inline long copenssl_SSL_CTX_build_cert_chain(SSL_CTX *ctx, int flags) { return SSL_CTX_build_cert_chain(ctx, flags); }
static inline int copenssl_SSL_CTX_chain_cert_count(SSL_CTX *ctx) {
    STACK_OF(X509) *chain = NULL;
    SSL_CTX_get0_chain_certs(ctx, &chain);
    return chain ? sk_X509_num(chain) : -1;
}
static inline void copenssl_BIO_set_retry_read(BIO *b) { BIO_set_retry_read(b); }
static inline void copenssl_BIO_clear_retry_flags(BIO *b) { BIO_clear_retry_flags(b); }
static inline void copenssl_free(void *p) { OPENSSL_free(p); }
static inline const char *copenssl_SSL_get_cipher_name(const SSL *ssl) { return SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)); }
static inline int copenssl_sk_X509_NAME_num(const STACK_OF(X509_NAME) *sk) { return sk_X509_NAME_num(sk); }
static inline int copenssl_SSL_CTX_add_extra_chain_cert_count(SSL_CTX *ctx) {
    STACK_OF(X509) *chain = NULL;
    SSL_CTX_get_extra_chain_certs(ctx, &chain);
    return chain ? sk_X509_num(chain) : 0;
}

static const uint64_t copenssl_SSL_OP_NO_SSLv3 = SSL_OP_NO_SSLv3;
static const uint64_t copenssl_SSL_OP_NO_TLSv1 = SSL_OP_NO_TLSv1;
static const uint64_t copenssl_SSL_OP_NO_TLSv1_1 = SSL_OP_NO_TLSv1_1;
static const uint64_t copenssl_SSL_OP_NO_TLSv1_2 = SSL_OP_NO_TLSv1_2;
static const uint64_t copenssl_SSL_OP_NO_TLSv1_3 = SSL_OP_NO_TLSv1_3;
static const uint64_t copenssl_SSL_OP_NO_COMPRESSION = SSL_OP_NO_COMPRESSION;
static const uint64_t copenssl_SSL_OP_NO_RENEGOTIATION = SSL_OP_NO_RENEGOTIATION;
static const uint64_t copenssl_SSL_OP_CIPHER_SERVER_PREFERENCE = SSL_OP_CIPHER_SERVER_PREFERENCE;
static const long copenssl_SSL_MODE_RELEASE_BUFFERS = SSL_MODE_RELEASE_BUFFERS;
static const long copenssl_SSL_MODE_ENABLE_PARTIAL_WRITE = SSL_MODE_ENABLE_PARTIAL_WRITE;
static const long copenssl_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;

#endif
