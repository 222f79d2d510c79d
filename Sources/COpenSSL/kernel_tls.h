// Kernel TLS (Linux `tls` ULP, Documentation/networking/tls.rst): the per-connection record
// accounting that makes a handover exact, the TLS 1.3 HKDF-Expand, the crypto_info layout and the
// socket calls (setsockopt, and sendmsg/recvmsg with the TLS record-type control message) that
// Swift cannot write without the CMSG macros. Only static inline functions here, as in shim.h.
#ifndef MARIADB_TLS_PROXY_COPENSSL_KERNEL_TLS_H
#define MARIADB_TLS_PROXY_COPENSSL_KERNEL_TLS_H

#include <openssl/ssl.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <string.h>
#include <stdint.h>
#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#ifdef __linux__
#include <linux/tls.h>
#endif

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TCP_ULP
#define TCP_ULP 31
#endif

/* What one server-side SSL saw since its application traffic keys were installed: the secrets
 * (from the keylog callback, which OpenSSL calls exactly when it installs each key) and the
 * number of records read and written under them (from the message callback, which OpenSSL calls
 * once per record header, read or written). A handover needs both to be exact. */
typedef struct copenssl_ktls_tracker {
    unsigned char client_secret[EVP_MAX_MD_SIZE];
    unsigned char server_secret[EVP_MAX_MD_SIZE];
    size_t client_secret_length;   /* 0 until CLIENT_TRAFFIC_SECRET_0 */
    size_t server_secret_length;   /* 0 until SERVER_TRAFFIC_SECRET_0 */
    uint64_t records_read;         /* under the client's application key */
    uint64_t records_written;      /* under the server's application key */
    int disqualified;              /* a KeyUpdate, or a secret that could not be parsed */
} copenssl_ktls_tracker;

static inline int copenssl_ktls_hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes the secret of an NSS key log line "LABEL <client_random hex> <secret hex>". */
static inline size_t copenssl_ktls_parse_secret(const char *line, size_t label_length, unsigned char *out) {
    const char *p = line + label_length;
    if (*p != ' ') return 0;
    p++;
    const char *space = strchr(p, ' ');
    if (space == NULL) return 0;
    p = space + 1;
    size_t n = 0;
    while (p[0] != '\0' && p[1] != '\0' && n < EVP_MAX_MD_SIZE) {
        int high = copenssl_ktls_hex_value(p[0]), low = copenssl_ktls_hex_value(p[1]);
        if (high < 0 || low < 0) return 0;
        out[n++] = (unsigned char)(high << 4 | low);
        p += 2;
    }
    return p[0] == '\0' ? n : 0;
}

/* SSL_CTX keylog callback. It acts only for an SSL that carries a tracker (as app data), so it
 * costs nothing else; the line itself is OpenSSL's and is never written anywhere. */
static inline void copenssl_ktls_keylog(const SSL *ssl, const char *line) {
    copenssl_ktls_tracker *tracker = (copenssl_ktls_tracker *)SSL_get_ex_data(ssl, 0);
    if (tracker == NULL || line == NULL) return;
    static const char client[] = "CLIENT_TRAFFIC_SECRET_0", server[] = "SERVER_TRAFFIC_SECRET_0";
    if (strncmp(line, client, sizeof(client) - 1) == 0) {
        if (tracker->client_secret_length != 0) tracker->disqualified = 1;
        tracker->client_secret_length = copenssl_ktls_parse_secret(line, sizeof(client) - 1, tracker->client_secret);
        if (tracker->client_secret_length == 0) tracker->disqualified = 1;
        tracker->records_read = 0;
    } else if (strncmp(line, server, sizeof(server) - 1) == 0) {
        if (tracker->server_secret_length != 0) tracker->disqualified = 1;
        tracker->server_secret_length = copenssl_ktls_parse_secret(line, sizeof(server) - 1, tracker->server_secret);
        if (tracker->server_secret_length == 0) tracker->disqualified = 1;
        tracker->records_written = 0;
    }
}

/* SSL message callback: one SSL3_RT_HEADER call per record read or written; a KeyUpdate in either
 * direction changes keys the count cannot follow. */
static inline void copenssl_ktls_message(int write_p, int version, int content_type, const void *buf,
                                         size_t len, SSL *ssl, void *arg) {
    (void)version; (void)ssl;
    copenssl_ktls_tracker *tracker = (copenssl_ktls_tracker *)arg;
    if (tracker == NULL) return;
    if (content_type == SSL3_RT_HEADER) {
        if (write_p) tracker->records_written++; else tracker->records_read++;
    } else if (content_type == SSL3_RT_HANDSHAKE && len >= 1 && ((const unsigned char *)buf)[0] == SSL3_MT_KEY_UPDATE) {
        tracker->disqualified = 1;
    }
}

static inline int copenssl_SSL_CTX_set_ktls_keylog(SSL_CTX *ctx) {
    SSL_CTX_set_keylog_callback(ctx, copenssl_ktls_keylog);
    return 1;
}

/* Starts (tracker != NULL) or stops (NULL) the accounting for one SSL. */
static inline void copenssl_SSL_set_ktls_tracker(SSL *ssl, copenssl_ktls_tracker *tracker) {
    SSL_set_ex_data(ssl, 0, tracker);
    SSL_set_msg_callback(ssl, tracker != NULL ? copenssl_ktls_message : NULL);
    SSL_set_msg_callback_arg(ssl, tracker);
}

static inline void copenssl_ktls_tracker_cleanse(copenssl_ktls_tracker *tracker) {
    OPENSSL_cleanse(tracker, sizeof(*tracker));
}

/* HKDF-Expand (RFC 5869) with `digest` ("SHA256", "SHA384"): 1 on success. */
static inline int copenssl_hkdf_expand(const char *digest, const unsigned char *secret, size_t secret_length,
                                       const unsigned char *info, size_t info_length,
                                       unsigned char *out, size_t out_length) {
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (kdf == NULL) return 0;
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (ctx == NULL) return 0;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[5];
    params[0] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_length);
    params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_length);
    params[4] = OSSL_PARAM_construct_end();
    int ok = EVP_KDF_derive(ctx, out, out_length, params) == 1;
    EVP_KDF_CTX_free(ctx);
    return ok;
}

#ifdef __linux__
/* The two AES-GCM layouts differ only in their key size: salt (4 bytes of the IV), iv (the other
 * 8), key, record sequence. Returns from the enclosing function. */
#define COPENSSL_KTLS_AES_GCM_INFO(type, cipher_id)                                     \
    do {                                                                                \
        struct type info;                                                               \
        if (key_length != sizeof(info.key) || capacity < sizeof(info)) return 0;        \
        memset(&info, 0, sizeof(info));                                                 \
        info.info.version = version;                                                    \
        info.info.cipher_type = cipher_id;                                              \
        memcpy(info.salt, iv, sizeof(info.salt));                                       \
        memcpy(info.iv, iv + sizeof(info.salt), sizeof(info.iv));                       \
        memcpy(info.key, key, sizeof(info.key));                                        \
        memcpy(info.rec_seq, sequence_bytes, sizeof(info.rec_seq));                     \
        memcpy(out, &info, sizeof(info));                                               \
        OPENSSL_cleanse(&info, sizeof(info));                                           \
        return sizeof(info);                                                            \
    } while (0)

/* The kernel's crypto_info for one direction (linux/tls.h), written to `out`; returns its size,
 * or 0 for a cipher the function does not know or lengths that do not fit it. `iv` is the
 * 12-byte TLS 1.3 write IV: salt (first 4 bytes) and iv (last 8) for AES-GCM, all 12 for
 * ChaCha20-Poly1305. `sequence` is the next record's sequence number. */
static inline size_t copenssl_ktls_crypto_info(unsigned char *out, size_t capacity, unsigned short version, int cipher,
                                               const unsigned char *key, size_t key_length,
                                               const unsigned char *iv, size_t iv_length, uint64_t sequence) {
    unsigned char sequence_bytes[8];
    for (int i = 0; i < 8; i++) sequence_bytes[i] = (unsigned char)(sequence >> (56 - 8 * i));
    if (iv_length != 12) return 0;
    switch (cipher) {
    case TLS_CIPHER_AES_GCM_128:
        COPENSSL_KTLS_AES_GCM_INFO(tls12_crypto_info_aes_gcm_128, TLS_CIPHER_AES_GCM_128);
    case TLS_CIPHER_AES_GCM_256:
        COPENSSL_KTLS_AES_GCM_INFO(tls12_crypto_info_aes_gcm_256, TLS_CIPHER_AES_GCM_256);
    case TLS_CIPHER_CHACHA20_POLY1305: {
        struct tls12_crypto_info_chacha20_poly1305 info;
        if (key_length != sizeof(info.key) || capacity < sizeof(info)) return 0;
        memset(&info, 0, sizeof(info));
        info.info.version = version;
        info.info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
        memcpy(info.iv, iv, sizeof(info.iv));
        memcpy(info.key, key, sizeof(info.key));
        memcpy(info.rec_seq, sequence_bytes, sizeof(info.rec_seq));
        memcpy(out, &info, sizeof(info));
        OPENSSL_cleanse(&info, sizeof(info));
        return sizeof(info);
    }
    default:
        return 0;
    }
}

/* setsockopt(TCP_ULP, "tls"): 0, or the errno (ENOENT: no tls module; ENOTCONN: not connected). */
static inline int copenssl_ktls_attach_ulp(int fd) {
    return setsockopt(fd, SOL_TCP, TCP_ULP, "tls", 3) == 0 ? 0 : errno;
}

/* Whether the kernel offers the tls ULP, asked with a fresh unconnected socket: the module is
 * found (and autoloaded) before the connection state is checked, so ENOTCONN means it exists. */
static inline int copenssl_ktls_probe(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return errno;
    int result = copenssl_ktls_attach_ulp(fd);
    close(fd);
    return result == ENOTCONN ? 0 : result;
}

/* setsockopt(SOL_TLS, TLS_TX or TLS_RX): 0 or the errno. */
static inline int copenssl_ktls_set_crypto(int fd, int transmit, const unsigned char *info, size_t length) {
    return setsockopt(fd, SOL_TLS, transmit ? TLS_TX : TLS_RX, info, (socklen_t)length) == 0 ? 0 : errno;
}

/* Sends one record of `type` (an alert: 21) through the kernel: the bytes sent, or -errno. */
static inline long copenssl_ktls_send_record(int fd, unsigned char type, const void *data, size_t length) {
    char control[CMSG_SPACE(sizeof(unsigned char))];
    memset(control, 0, sizeof(control));
    struct iovec iov = { .iov_base = (void *)data, .iov_len = length };
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_TLS;
    cmsg->cmsg_type = TLS_SET_RECORD_TYPE;
    cmsg->cmsg_len = CMSG_LEN(sizeof(unsigned char));
    *CMSG_DATA(cmsg) = type;
    ssize_t sent = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    return sent < 0 ? -(long)errno : (long)sent;
}

/* Reads the next record without blocking, with its type (from the TLS_GET_RECORD_TYPE control
 * message; 23 when none came): the bytes read, or -errno. */
static inline long copenssl_ktls_receive_record(int fd, unsigned char *type, void *buffer, size_t capacity) {
    char control[CMSG_SPACE(sizeof(unsigned char))];
    memset(control, 0, sizeof(control));
    struct iovec iov = { .iov_base = buffer, .iov_len = capacity };
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t received = recvmsg(fd, &msg, MSG_DONTWAIT);
    if (received < 0) return -(long)errno;
    *type = 23;
    for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level == SOL_TLS && cmsg->cmsg_type == TLS_GET_RECORD_TYPE) *type = *CMSG_DATA(cmsg);
    }
    return (long)received;
}

/* SO_COOKIE: the kernel's unique id of a socket, to check that a descriptor is the channel's. */
static inline int copenssl_socket_cookie(int fd, uint64_t *cookie) {
    socklen_t length = sizeof(*cookie);
    return getsockopt(fd, SOL_SOCKET, SO_COOKIE, cookie, &length) == 0 && length == sizeof(*cookie) ? 0 : errno;
}

static const int copenssl_TLS_CIPHER_AES_GCM_128 = TLS_CIPHER_AES_GCM_128;
static const int copenssl_TLS_CIPHER_AES_GCM_256 = TLS_CIPHER_AES_GCM_256;
static const int copenssl_TLS_CIPHER_CHACHA20_POLY1305 = TLS_CIPHER_CHACHA20_POLY1305;
static const unsigned short copenssl_TLS_1_3_VERSION = TLS_1_3_VERSION;
#endif

#endif
