/* connection.c — one MariaDB client connection of mariadb-tls-load: connect, greeting, optional
 * in-band TLS upgrade (SSLRequest + handshake on the shared SSL_CTX, resuming a session when
 * given one), HandshakeResponse41 with mysql_native_password, packets in and out, and a polite
 * close. Blocking sockets with a read/write timeout.
 */
#include "load.h"

SSL_CTX *ctx;
EVP_MD *sha1;
int use_sni;
struct sockaddr_storage srv_addr;
socklen_t srv_len;
char first_err[256];
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;

double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int fail(conn_t *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* Prints an error to stderr the first time one happens (connect mode keeps going). */
void note_error(const char *msg) {
    pthread_mutex_lock(&err_lock);
    if (!first_err[0]) {
        snprintf(first_err, sizeof first_err, "%s", msg);
        fprintf(stderr, "mariadb-tls-load: %s\n", msg);
    }
    pthread_mutex_unlock(&err_lock);
}

static int ssl_fail(conn_t *c, const char *what, int ret) {
    int e = SSL_get_error(c->ssl, ret);
    unsigned long q = ERR_get_error();
    char b[200];
    if (q) ERR_error_string_n(q, b, sizeof b);
    else if (e == SSL_ERROR_ZERO_RETURN) snprintf(b, sizeof b, "connection closed by server");
    else if (e == SSL_ERROR_SYSCALL)
        snprintf(b, sizeof b, "%s", errno == EAGAIN ? "timed out" : errno ? strerror(errno) : "unexpected EOF");
    else snprintf(b, sizeof b, "SSL error %d", e);
    long v = SSL_get_verify_result(c->ssl);
    if (opt.ca && v != X509_V_OK)
        return fail(c, "%s: %s (%s)", what, b, X509_verify_cert_error_string(v));
    return fail(c, "%s: %s", what, b);
}

/* ---- bytes and packets (3-byte little-endian length + sequence id) ---------------------- */

static ssize_t raw_read(conn_t *c, void *buf, size_t n) {
    if (c->ssl) {
        int r = SSL_read(c->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
        return r > 0 ? r : ssl_fail(c, "TLS read", r);
    }
    for (;;) {
        ssize_t r = recv(c->fd, buf, n, 0);
        if (r > 0) return r;
        if (r == 0) return fail(c, "connection closed by server");
        if (errno != EINTR) return fail(c, "read: %s", errno == EAGAIN ? "timed out" : strerror(errno));
    }
}

static int read_exact(conn_t *c, uint8_t *dst, size_t n) {
    while (n > 0) {
        ssize_t r;
        if (c->rpos < c->rlen) { /* buffered bytes first */
            size_t k = c->rlen - c->rpos < n ? c->rlen - c->rpos : n;
            memcpy(dst, c->rbuf + c->rpos, k);
            c->rpos += k, dst += k, n -= k;
        } else if (n >= RBUF_SIZE) { /* big payloads go straight to their destination */
            if ((r = raw_read(c, dst, n)) < 0) return -1;
            dst += r, n -= r;
        } else {
            if ((r = raw_read(c, c->rbuf, RBUF_SIZE)) < 0) return -1;
            c->rpos = 0, c->rlen = r;
        }
    }
    return 0;
}

static int write_all(conn_t *c, const uint8_t *p, size_t n) {
    if (c->ssl) { /* without SSL_MODE_ENABLE_PARTIAL_WRITE, SSL_write writes all or fails */
        int r = SSL_write(c->ssl, p, (int)n);
        return r > 0 ? 0 : ssl_fail(c, "TLS write", r);
    }
    while (n > 0) {
        ssize_t r = send(c->fd, p, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return fail(c, "write: %s", errno == EAGAIN ? "timed out" : strerror(errno));
        p += r, n -= r;
    }
    return 0;
}

int send_packet(conn_t *c, const void *payload, size_t len) {
    uint8_t small[1024], *b = len + 4 <= sizeof small ? small : malloc(len + 4);
    if (!b || len >= MAX_PAYLOAD) return fail(c, "packet too large");
    b[0] = len, b[1] = len >> 8, b[2] = len >> 16, b[3] = c->seq++;
    memcpy(b + 4, payload, len);
    int r = write_all(c, b, len + 4); /* header and payload in one write / TLS record */
    if (b != small) free(b);
    return r;
}

/* Reads one logical packet (joining continuation packets) into c->pkt; returns its length. */
ssize_t read_packet(conn_t *c) {
    size_t total = 0, len;
    do {
        uint8_t h[4];
        if (read_exact(c, h, 4) < 0) return -1;
        len = h[0] | h[1] << 8 | (size_t)h[2] << 16;
        c->seq = h[3] + 1;
        if (total + len + 1 > c->cap) {
            size_t cap = c->cap * 2 > total + len + 1 ? c->cap * 2 : total + len + 1;
            uint8_t *p = realloc(c->pkt, cap < 4096 ? (cap = 4096) : cap);
            if (!p) return fail(c, "out of memory");
            c->pkt = p, c->cap = cap;
        }
        if (read_exact(c, c->pkt + total, len) < 0) return -1;
        total += len;
    } while (len == MAX_PAYLOAD);
    c->pkt[total] = 0; /* string parsing stops at the end */
    return (ssize_t)total;
}

int server_error(conn_t *c, const uint8_t *p, size_t n) {
    if (n < 3) return fail(c, "malformed ERR packet");
    const uint8_t *m = p + 3;
    size_t ml = n - 3;
    if (ml >= 6 && m[0] == '#') m += 6, ml -= 6; /* '#' + SQLSTATE */
    return fail(c, "server error %d: %.*s", p[1] | p[2] << 8, (int)ml, (const char *)m);
}

/* ---- login ------------------------------------------------------------------------------ */

/* mysql_native_password: SHA1(pw) XOR SHA1(seed + SHA1(SHA1(pw))); nothing for an empty
 * password. Returns the length written to out. */
static size_t native_auth(const uint8_t seed[20], uint8_t *out) {
    uint8_t h1[20], buf[40];
    if (!opt.password[0]) return 0;
    EVP_Digest(opt.password, strlen(opt.password), h1, NULL, sha1, NULL);
    memcpy(buf, seed, 20);
    EVP_Digest(h1, 20, buf + 20, NULL, sha1, NULL);
    EVP_Digest(buf, 40, out, NULL, sha1, NULL);
    for (int i = 0; i < 20; i++) out[i] ^= h1[i];
    return 20;
}

static void put32(uint8_t *b, uint32_t v) { b[0] = v, b[1] = v >> 8, b[2] = v >> 16, b[3] = v >> 24; }

/* Connects and logs in; with sess != NULL, resumes *sess and stores the new session there. */
int conn_open(conn_t *c, SSL_SESSION **sess) {
    memset(c, 0, sizeof *c);
    ERR_clear_error();
    if ((c->fd = socket(srv_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return fail(c, "socket: %s", strerror(errno));
    struct timeval tv = {IO_TIMEOUT_SEC, 0};
    int one = 1;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (srv_addr.ss_family != AF_UNIX) setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&srv_addr, srv_len) < 0)
        return fail(c, "connect: %s", strerror(errno));
    if (!(c->rbuf = malloc(RBUF_SIZE))) return fail(c, "out of memory");

    /* Greeting (protocol 10): version\0, id[4], seed[8], 0, caps_lo[2], charset, status[2],
     * caps_hi[2], seed length, reserved[6], MariaDB caps[4], seed[12], 0, plugin\0 */
    ssize_t n = read_packet(c);
    if (n < 0) return -1;
    uint8_t *p = c->pkt, seed[20], b[640];
    if (n > 0 && p[0] == 0xFF) return server_error(c, p, n);
    if (n < 1 || p[0] != 10) return fail(c, "unsupported greeting (protocol %d)", n ? p[0] : -1);
    uint8_t *nul = memchr(p + 1, 0, n - 1);
    if (!nul || p + n - (nul + 1) < 43) return fail(c, "malformed greeting");
    p = nul + 1 + 4;
    memcpy(seed, p, 8);
    memcpy(seed + 8, p + 27, 12);
    uint32_t scaps = p[9] | p[10] << 8 | (uint32_t)(p[14] | p[15] << 8) << 16;
    uint32_t need = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH;
    if ((scaps & need) != need) /* (MariaDB servers clear CLIENT_LONG_PASSWORD = CLIENT_MYSQL) */
        return fail(c, "server lacks protocol 4.1 / plugin auth capabilities");

    /* The first 32 bytes of HandshakeResponse41 are also the whole SSLRequest. */
    memset(b, 0, 32);
    put32(b, need | CLIENT_LONG_PASSWORD | CLIENT_TRANSACTIONS | CLIENT_MULTI_RESULTS |
                 (opt.tls ? CLIENT_SSL : 0) | (opt.database ? CLIENT_CONNECT_WITH_DB : 0));
    put32(b + 4, 0x1000000); /* max packet 16M */
    b[8] = 45;               /* utf8mb4_general_ci; 23 zero bytes follow */
    if (opt.tls) {
        if (!(scaps & CLIENT_SSL)) return fail(c, "server does not offer TLS");
        if (send_packet(c, b, 32) < 0) return -1;
        if (!(c->ssl = SSL_new(ctx)) || !SSL_set_fd(c->ssl, c->fd)) return fail(c, "SSL_new failed");
        if (use_sni) SSL_set_tlsext_host_name(c->ssl, opt.host);
        if (opt.ca && !opt.socket) SSL_set1_host(c->ssl, opt.host); /* certificate must match */
        if (sess && *sess) SSL_set_session(c->ssl, *sess);
        int r = SSL_connect(c->ssl);
        if (r != 1) return ssl_fail(c, "TLS handshake", r);
    }

    /* HandshakeResponse41: the 32 bytes above, user\0, auth length + auth, [db\0], plugin\0 */
    size_t ul = strlen(opt.user), dl = opt.database ? strlen(opt.database) + 1 : 0, k = 32;
    if (ul > 256 || dl > 256) return fail(c, "user or database name too long");
    memcpy(b + k, opt.user, ul + 1), k += ul + 1;
    b[k] = (uint8_t)native_auth(seed, b + k + 1), k += 1 + b[k];
    if (dl) memcpy(b + k, opt.database, dl), k += dl;
    memcpy(b + k, NATIVE, sizeof NATIVE), k += sizeof NATIVE;
    if (send_packet(c, b, k) < 0) return -1;

    for (int switched = 0;; switched = 1) {
        if ((n = read_packet(c)) < 0) return -1;
        p = c->pkt;
        if (n > 0 && p[0] == 0x00) break;
        if (n > 0 && p[0] == 0xFF) return server_error(c, p, n);
        if (n <= 1 || p[0] != 0xFE || switched)
            return fail(c, "unexpected packet 0x%02x during login", n ? p[0] : 0);
        /* AuthSwitchRequest: 0xFE, plugin\0, new seed */
        size_t pl = strlen((char *)p + 1);
        if (strcmp((char *)p + 1, NATIVE) != 0)
            return fail(c, "server asks for unsupported auth plugin '%s'", (char *)p + 1);
        if ((size_t)n < 1 + pl + 1 + 20) return fail(c, "malformed AuthSwitchRequest");
        memcpy(seed, p + 1 + pl + 1, 20);
        if (send_packet(c, b, native_auth(seed, b)) < 0) return -1;
    }
    c->logged_in = 1;
    /* TLS 1.3 tickets arrive after the handshake; the SSL_read that returned the OK packet
     * has processed them, so the session is resumable now. */
    if (c->ssl && sess) {
        SSL_SESSION *s = SSL_get1_session(c->ssl);
        if (s && SSL_SESSION_is_resumable(s)) SSL_SESSION_free(*sess), *sess = s;
        else SSL_SESSION_free(s);
    }
    return 0;
}

/* Polite close: COM_QUIT, our close_notify (without waiting for the peer's), close. */
void conn_close(conn_t *c) {
    static const uint8_t quit = 0x01;
    if (c->logged_in) c->seq = 0, send_packet(c, &quit, 1);
    if (c->ssl && SSL_is_init_finished(c->ssl)) SSL_shutdown(c->ssl);
    if (c->fd >= 0) close(c->fd);
    SSL_free(c->ssl);
    free(c->pkt), free(c->rbuf);
    ERR_clear_error();
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

