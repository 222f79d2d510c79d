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
#include "kernel_tls.h"

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
// The trust store's objects (certificates from ssl_ca, CRLs from ssl_crl), for listing the CA
// certificates and their expiry; a CRL object yields NULL.
static inline int copenssl_X509_STORE_object_count(X509_STORE *store) {
    STACK_OF(X509_OBJECT) *objects = X509_STORE_get0_objects(store);
    return objects ? sk_X509_OBJECT_num(objects) : 0;
}
static inline X509 *copenssl_X509_STORE_certificate(X509_STORE *store, int index) {
    STACK_OF(X509_OBJECT) *objects = X509_STORE_get0_objects(store);
    return objects ? X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, index)) : NULL;
}
static inline int copenssl_SSL_get_negotiated_group(SSL *ssl) { return (int)SSL_get_negotiated_group(ssl); }
static inline int copenssl_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) { return (int)SSL_CTX_set1_groups_list(ctx, list); }
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

/* A resumed session skips certificate verification: OpenSSL restores the peer certificate and
 * the verify result of the first handshake. A ticket whose client certificate no longer verifies
 * now (expired since, or its chain no longer in the store) is ignored, so the client goes through
 * a full handshake, which checks the certificate as MariaDB's acceptor would. Only the leaf is in
 * the ticket: a chain that needs intermediates the client sent does not verify here and also falls
 * back to a full handshake. */
static inline SSL_TICKET_RETURN copenssl_ticket_decrypted(SSL *ssl, SSL_SESSION *session,
                                                          const unsigned char *keyname, size_t keyname_length,
                                                          SSL_TICKET_STATUS status, void *arg) {
    (void)keyname; (void)keyname_length; (void)arg;
    switch (status) {
    case SSL_TICKET_SUCCESS:
    case SSL_TICKET_SUCCESS_RENEW:
        break;
    case SSL_TICKET_EMPTY:
    case SSL_TICKET_NO_DECRYPT:
        return SSL_TICKET_RETURN_IGNORE_RENEW;
    default:
        return SSL_TICKET_RETURN_ABORT;
    }
    X509 *peer = SSL_SESSION_get0_peer(session);
    if (peer != NULL) {
        X509_STORE *store = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl));
        X509_STORE_CTX *verify = X509_STORE_CTX_new();
        int ok = verify != NULL && X509_STORE_CTX_init(verify, store, peer, NULL) == 1;
        if (ok) {
            /* The purpose and parameters the handshake itself verifies a client certificate with. */
            X509_STORE_CTX_set_default(verify, "ssl_client");
            X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(verify), SSL_get0_param(ssl));
            ok = X509_verify_cert(verify) == 1;
        }
        X509_STORE_CTX_free(verify);
        ERR_clear_error();
        if (!ok) return SSL_TICKET_RETURN_IGNORE_RENEW;
    }
    return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE : SSL_TICKET_RETURN_USE_RENEW;
}
static inline int copenssl_SSL_CTX_reverify_resumed_client_certificates(SSL_CTX *ctx) {
    return SSL_CTX_set_session_ticket_cb(ctx, NULL, copenssl_ticket_decrypted, NULL);
}

static const uint64_t copenssl_SSL_OP_NO_SSLv3 = SSL_OP_NO_SSLv3;
static const uint64_t copenssl_SSL_OP_NO_TLSv1 = SSL_OP_NO_TLSv1;
static const uint64_t copenssl_SSL_OP_NO_TLSv1_1 = SSL_OP_NO_TLSv1_1;
static const uint64_t copenssl_SSL_OP_NO_TLSv1_2 = SSL_OP_NO_TLSv1_2;
static const uint64_t copenssl_SSL_OP_NO_TLSv1_3 = SSL_OP_NO_TLSv1_3;
static const uint64_t copenssl_SSL_OP_NO_COMPRESSION = SSL_OP_NO_COMPRESSION;
static const uint64_t copenssl_SSL_OP_NO_RENEGOTIATION = SSL_OP_NO_RENEGOTIATION;
static const uint64_t copenssl_SSL_OP_CIPHER_SERVER_PREFERENCE = SSL_OP_CIPHER_SERVER_PREFERENCE;
static const uint64_t copenssl_SSL_OP_PRIORITIZE_CHACHA = SSL_OP_PRIORITIZE_CHACHA;
static const long copenssl_SSL_MODE_RELEASE_BUFFERS = SSL_MODE_RELEASE_BUFFERS;
static const long copenssl_SSL_MODE_ENABLE_PARTIAL_WRITE = SSL_MODE_ENABLE_PARTIAL_WRITE;
static const long copenssl_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;

static inline int copenssl_SSL_set_tlsext_host_name(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }
static inline void copenssl_SSL_set_verify_peer(SSL *ssl) { SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL); }

#endif
