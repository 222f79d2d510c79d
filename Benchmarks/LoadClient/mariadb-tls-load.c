/* mariadb-tls-load — a lean load client for MariaDB servers and TLS front ends.
 *
 * Speaks the MariaDB/MySQL client protocol itself (greeting, optional in-band TLS upgrade,
 * HandshakeResponse41 with mysql_native_password, COM_QUERY, COM_QUIT) with ONE shared
 * SSL_CTX, so the client's own per-connection cost stays small and the numbers measure the
 * server. Blocking sockets, one thread per worker. See README.md for usage and output.
 *
 * Build: cc -O2 -Wall -Wextra -o mariadb-tls-load mariadb-tls-load.c -lssl -lcrypto -lpthread
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { /* capability flags */
    CLIENT_LONG_PASSWORD = 0x1, CLIENT_CONNECT_WITH_DB = 0x8, CLIENT_PROTOCOL_41 = 0x200,
    CLIENT_SSL = 0x800, CLIENT_TRANSACTIONS = 0x2000, CLIENT_SECURE_CONNECTION = 0x8000,
    CLIENT_MULTI_RESULTS = 0x20000, CLIENT_PLUGIN_AUTH = 0x80000,
};
#define SERVER_MORE_RESULTS_EXISTS 0x8
#define MAX_PAYLOAD 0xFFFFFFu /* a payload this long continues in the next packet */
#define RBUF_SIZE 16384       /* one TLS record */
#define IO_TIMEOUT_SEC 60
#define NATIVE "mysql_native_password"

static struct {
    const char *mode, *host, *port, *socket, *user, *password, *database, *ca, *query;
    int tls, resume, threads, seconds, repeat, count;
} opt = {.host = "127.0.0.1", .port = "3306", .password = "", .seconds = 10, .repeat = 1};

static SSL_CTX *ctx;
static EVP_MD *sha1;
static int use_sni;                      /* host is a name, not an IP literal */
static struct sockaddr_storage srv_addr; /* resolved once */
static socklen_t srv_len;
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_err[256];

typedef struct {
    int fd, logged_in;
    SSL *ssl;
    uint8_t seq;        /* next sequence id to send */
    uint8_t *pkt;       /* payload of the last packet read (NUL-terminated) */
    size_t cap;
    uint8_t *rbuf;      /* read buffer: few syscalls / SSL_reads for small packets */
    size_t rpos, rlen;
    char err[256];
} conn_t;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(conn_t *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* Prints an error to stderr the first time one happens (connect mode keeps going). */
static void note_error(const char *msg) {
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

static int send_packet(conn_t *c, const void *payload, size_t len) {
    uint8_t small[1024], *b = len + 4 <= sizeof small ? small : malloc(len + 4);
    if (!b || len >= MAX_PAYLOAD) return fail(c, "packet too large");
    b[0] = len, b[1] = len >> 8, b[2] = len >> 16, b[3] = c->seq++;
    memcpy(b + 4, payload, len);
    int r = write_all(c, b, len + 4); /* header and payload in one write / TLS record */
    if (b != small) free(b);
    return r;
}

/* Reads one logical packet (joining continuation packets) into c->pkt; returns its length. */
static ssize_t read_packet(conn_t *c) {
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

static int server_error(conn_t *c, const uint8_t *p, size_t n) {
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
static int conn_open(conn_t *c, SSL_SESSION **sess) {
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
static void conn_close(conn_t *c) {
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

/* ---- connect mode ----------------------------------------------------------------------- */

static double deadline;
typedef struct { pthread_t tid; unsigned long long logins, errors, resumed; } worker_t;

static void *connect_worker(void *arg) {
    worker_t *w = arg;
    SSL_SESSION *sess = NULL;
    conn_t c;
    while (now() < deadline) {
        if (conn_open(&c, opt.resume ? &sess : NULL) == 0) {
            w->logins++;
            if (c.ssl && SSL_session_reused(c.ssl)) w->resumed++;
        } else {
            w->errors++;
            note_error(c.err);
        }
        conn_close(&c);
    }
    SSL_SESSION_free(sess);
    return NULL;
}

static void start_threads(pthread_t *tids, void *(*fn)(void *), void *args, size_t argsize) {
    for (int i = 0; i < opt.threads; i++)
        if (pthread_create(&tids[i], NULL, fn, args ? (char *)args + i * argsize : NULL) != 0) {
            fprintf(stderr, "mariadb-tls-load: pthread_create failed\n");
            exit(1);
        }
}

static int run_connect(void) {
    worker_t *w = calloc(opt.threads, sizeof *w);
    pthread_t *tids = calloc(opt.threads, sizeof *tids);
    unsigned long long logins = 0, errors = 0, resumed = 0;
    double t0 = now();
    deadline = t0 + opt.seconds;
    start_threads(tids, connect_worker, w, sizeof *w);
    for (int i = 0; i < opt.threads; i++) {
        pthread_join(tids[i], NULL);
        logins += w[i].logins, errors += w[i].errors, resumed += w[i].resumed;
    }
    double secs = now() - t0;
    printf("{\"mode\":\"connect\",\"logins\":%llu,\"errors\":%llu,\"resumed\":%llu,\"seconds\":%.3f,"
           "\"logins_per_sec\":%.1f}\n", logins, errors, resumed, secs, logins / secs);
    free(w), free(tids);
    return logins > 0 ? 0 : 1;
}

/* ---- bulk mode -------------------------------------------------------------------------- */

static size_t lenenc_size(uint8_t b) { return b < 0xFB ? 1 : b == 0xFC ? 3 : b == 0xFD ? 4 : 9; }

/* COM_QUERY, then read every result set (text protocol, classic EOF packets). */
static int run_query(conn_t *c, unsigned long long *bytes, unsigned long long *rows) {
    size_t ql = strlen(opt.query);
    uint8_t *q = malloc(ql + 1);
    if (!q) return fail(c, "out of memory");
    q[0] = 0x03; /* COM_QUERY */
    memcpy(q + 1, opt.query, ql);
    c->seq = 0;
    int r = send_packet(c, q, ql + 1);
    free(q);
    if (r < 0) return -1;
    for (;;) { /* one result set per iteration */
        ssize_t n = read_packet(c);
        if (n < 0) return -1;
        uint8_t *p = c->pkt;
        unsigned status = 0;
        *bytes += n;
        if (n == 0) return fail(c, "empty response packet");
        if (p[0] == 0xFF) return server_error(c, p, n);
        if (p[0] == 0xFB) return fail(c, "LOAD DATA LOCAL INFILE is not supported");
        if (p[0] == 0x00) { /* OK: affected rows, insert id (both lenenc), status[2] */
            size_t off = 1 + lenenc_size(p[1]);
            off += lenenc_size(p[off]);
            if (off + 2 <= (size_t)n) status = p[off] | p[off + 1] << 8;
        } else { /* column count, column definitions, EOF, rows, EOF */
            for (int eofs = 0; eofs < 2;) {
                if ((n = read_packet(c)) < 0) return -1;
                *bytes += n, p = c->pkt;
                if (n > 0 && p[0] == 0xFF) return server_error(c, p, n);
                if (n > 0 && n < 9 && p[0] == 0xFE) eofs++; /* a row starting with 0xFE is longer */
                else if (eofs == 1) (*rows)++;
            }
            if (n >= 5) status = p[3] | p[4] << 8;
        }
        if (!(status & SERVER_MORE_RESULTS_EXISTS)) return 0;
    }
}

static int run_bulk(void) {
    conn_t c;
    unsigned long long bytes = 0, rows = 0;
    double secs = 0;
    if (conn_open(&c, NULL) < 0) {
        fprintf(stderr, "mariadb-tls-load: %s\n", c.err);
        return 1;
    }
    for (int i = 0; i < opt.repeat; i++) {
        double t0 = now();
        if (run_query(&c, &bytes, &rows) < 0) {
            fprintf(stderr, "mariadb-tls-load: query: %s\n", c.err);
            return 1;
        }
        secs += now() - t0;
    }
    conn_close(&c);
    printf("{\"mode\":\"bulk\",\"bytes\":%llu,\"rows\":%llu,\"seconds\":%.3f,\"mb_per_sec\":%.1f}\n",
           bytes, rows, secs, secs > 0 ? bytes / 1e6 / secs : 0.0);
    return 0;
}

/* ---- hold mode -------------------------------------------------------------------------- */

static conn_t *held;
static int hold_next, hold_opened, hold_failed;
static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { (void)sig, got_signal = 1; }

static void *hold_worker(void *arg) {
    int i;
    (void)arg;
    while (!__atomic_load_n(&hold_failed, __ATOMIC_SEQ_CST) &&
           (i = __atomic_fetch_add(&hold_next, 1, __ATOMIC_SEQ_CST)) < opt.count) {
        conn_t *c = &held[i];
        if (conn_open(c, NULL) < 0) {
            note_error(c->err);
            __atomic_store_n(&hold_failed, 1, __ATOMIC_SEQ_CST);
            conn_close(c);
            continue;
        }
        __atomic_fetch_add(&hold_opened, 1, __ATOMIC_SEQ_CST);
        free(c->pkt), free(c->rbuf); /* idle from now on: keep per-connection memory small */
        c->pkt = c->rbuf = NULL, c->cap = 0;
    }
    return NULL;
}

static int run_hold(void) {
    sigset_t block, empty;
    sigemptyset(&block), sigemptyset(&empty);
    sigaddset(&block, SIGTERM), sigaddset(&block, SIGINT);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL), sigaction(SIGINT, &sa, NULL);
    pthread_sigmask(SIG_BLOCK, &block, NULL); /* workers inherit the mask; main waits in ppoll */

    if (ctx) SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS); /* idle connections drop TLS buffers */
    held = calloc(opt.count, sizeof *held);
    pthread_t *tids = calloc(opt.threads, sizeof *tids);
    for (int i = 0; i < opt.count; i++) held[i].fd = -1;
    start_threads(tids, hold_worker, NULL, 0);
    for (int i = 0; i < opt.threads; i++) pthread_join(tids[i], NULL);

    int rc = 0;
    if (hold_failed) {
        printf("FAILED %d opened, first error: %s\n", hold_opened, first_err);
        rc = 1;
    } else {
        printf("READY %d\n", hold_opened);
        fflush(stdout);
        /* Until EOF on stdin or SIGTERM/SIGINT; ppoll unblocks the signals atomically. */
        struct pollfd pfd = {.fd = 0, .events = POLLIN};
        char buf[4096];
        while (!got_signal) {
            int r = ppoll(&pfd, 1, NULL, &empty);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 || read(0, buf, sizeof buf) <= 0) break;
        }
    }
    for (int i = 0; i < opt.count; i++) conn_close(&held[i]);
    free(held), free(tids);
    return rc;
}

/* ---- setup ------------------------------------------------------------------------------ */

static void usage(const char *msg) {
    if (msg) fprintf(stderr, "mariadb-tls-load: %s\n", msg);
    fprintf(stderr,
        "usage: mariadb-tls-load connect --host H --port P [--socket PATH] --user U --password W\n"
        "                                [--database DB] [--tls] [--resume] [--ca FILE]\n"
        "                                [--threads 4] [--seconds 10]\n"
        "       mariadb-tls-load bulk    CONNECTION-OPTIONS --query SQL [--repeat 1]\n"
        "       mariadb-tls-load hold    CONNECTION-OPTIONS --count N [--threads 8]\n");
    exit(2);
}

static int int_opt(const char *name, const char *v) {
    char *e;
    long x = strtol(v, &e, 10);
    if (!*v || *e || x < 1 || x > INT_MAX) {
        fprintf(stderr, "mariadb-tls-load: %s: expected a positive integer, got '%s'\n", name, v);
        usage(NULL);
    }
    return (int)x;
}

static void parse_args(int argc, char **argv) {
    if (argc < 2) usage(NULL);
    opt.mode = argv[1];
    if (strcmp(opt.mode, "connect") && strcmp(opt.mode, "bulk") && strcmp(opt.mode, "hold"))
        usage("mode must be connect, bulk or hold");
    for (int i = 2; i < argc; i++) {
        char name[64];
        const char *a = argv[i], *v, *eq = strchr(a, '=');
        if (!strcmp(a, "--tls")) { opt.tls = 1; continue; }
        if (!strcmp(a, "--resume")) { opt.resume = 1; continue; }
        if (strncmp(a, "--", 2) || (eq && eq - a >= (long)sizeof name)) usage("unknown argument");
        if (eq) snprintf(name, sizeof name, "%.*s", (int)(eq - a), a), a = name, v = eq + 1;
        else if (i + 1 < argc) v = argv[++i];
        else usage("option needs a value");
        if (!strcmp(a, "--host")) opt.host = v;
        else if (!strcmp(a, "--port")) opt.port = v;
        else if (!strcmp(a, "--socket")) opt.socket = v;
        else if (!strcmp(a, "--user")) opt.user = v;
        else if (!strcmp(a, "--password")) opt.password = v;
        else if (!strcmp(a, "--database")) opt.database = v;
        else if (!strcmp(a, "--ca")) opt.ca = v;
        else if (!strcmp(a, "--query")) opt.query = v;
        else if (!strcmp(a, "--threads")) opt.threads = int_opt(a, v);
        else if (!strcmp(a, "--seconds")) opt.seconds = int_opt(a, v);
        else if (!strcmp(a, "--repeat")) opt.repeat = int_opt(a, v);
        else if (!strcmp(a, "--count")) opt.count = int_opt(a, v);
        else usage("unknown option");
    }
    if (!opt.user) usage("--user is required");
    if ((opt.resume || opt.ca) && !opt.tls) usage("--resume and --ca need --tls");
    if (!strcmp(opt.mode, "bulk") && !opt.query) usage("bulk needs --query");
    if (!strcmp(opt.mode, "hold") && !opt.count) usage("hold needs --count");
    if (!opt.threads) opt.threads = strcmp(opt.mode, "hold") ? 4 : 8;
}

static void resolve(void) {
    if (opt.socket) {
        struct sockaddr_un *un = (struct sockaddr_un *)&srv_addr;
        if (strlen(opt.socket) >= sizeof un->sun_path) usage("socket path too long");
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, opt.socket);
        srv_len = sizeof *un;
        return;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    int r = getaddrinfo(opt.host, opt.port, &hints, &ai);
    if (r != 0) {
        fprintf(stderr, "mariadb-tls-load: %s:%s: %s\n", opt.host, opt.port, gai_strerror(r));
        exit(1);
    }
    memcpy(&srv_addr, ai->ai_addr, ai->ai_addrlen); /* the first address only */
    srv_len = ai->ai_addrlen;
    freeaddrinfo(ai);
    uint8_t tmp[16];
    use_sni = inet_pton(AF_INET, opt.host, tmp) != 1 && inet_pton(AF_INET6, opt.host, tmp) != 1;
}

int main(int argc, char **argv) {
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl; /* best effort: hold mode needs thousands of fds */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
        rl.rlim_cur = rl.rlim_max, setrlimit(RLIMIT_NOFILE, &rl);
    resolve();
    if (!(sha1 = EVP_MD_fetch(NULL, "SHA1", NULL))) { /* fetched once, not per login */
        fprintf(stderr, "mariadb-tls-load: SHA1 is unavailable\n");
        return 1;
    }
    if (opt.tls) {
        if (!(ctx = SSL_CTX_new(TLS_client_method()))) {
            fprintf(stderr, "mariadb-tls-load: SSL_CTX_new failed\n");
            return 1;
        }
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(ctx, opt.ca ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
        if (opt.ca && SSL_CTX_load_verify_locations(ctx, opt.ca, NULL) != 1) {
            fprintf(stderr, "mariadb-tls-load: cannot load CA file %s\n", opt.ca);
            return 1;
        }
    }
    int rc = !strcmp(opt.mode, "connect") ? run_connect() : !strcmp(opt.mode, "bulk") ? run_bulk() : run_hold();
    SSL_CTX_free(ctx);
    EVP_MD_free(sha1);
    return rc;
}
