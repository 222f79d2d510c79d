/* mariadb-tls-load — a lean load client for MariaDB servers and TLS front ends.
 *
 * Speaks the MariaDB/MySQL client protocol itself (greeting, optional in-band TLS upgrade,
 * HandshakeResponse41 with mysql_native_password, COM_QUERY, COM_QUIT) with ONE shared
 * SSL_CTX, so the client's own per-connection cost stays small and the numbers measure the
 * server. Blocking sockets, one thread per worker. See README.md for usage and output.
 *
 * Build: cc -O2 -Wall -Wextra -o mariadb-tls-load mariadb-tls-load.c connection.c modes.c \
 *        -lssl -lcrypto -lpthread
 *
 * This file: options, resolving the server, the shared SSL_CTX, and the dispatch to a mode.
 */
#include "load.h"

struct options opt = {.host = "127.0.0.1", .port = "3306", .password = "", .seconds = 10, .repeat = 1};

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
