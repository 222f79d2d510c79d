/* modes.c — the three load modes of mariadb-tls-load: connect (logins per second, optionally
 * resuming TLS sessions), bulk (MB/s of large result sets) and hold (N idle logged-in connections
 * until stdin closes). Each prints one JSON line or READY/FAILED; see README.md.
 */
#include "load.h"

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

int run_connect(void) {
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

int run_bulk(void) {
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

int run_hold(void) {
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

