/* load.h — what the parts of mariadb-tls-load share: options, the one SSL_CTX, the resolved
 * server address, the connection type and its protocol helpers (connection.c), and the three
 * modes (modes.c) that main (mariadb-tls-load.c) dispatches to. See README.md.
 */
#ifndef MARIADB_TLS_LOAD_H
#define MARIADB_TLS_LOAD_H
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

/* Command-line options (mariadb-tls-load.c parses them). */
struct options {
    const char *mode, *host, *port, *socket, *user, *password, *database, *ca, *query;
    int tls, resume, threads, seconds, repeat, count;
};
extern struct options opt;

extern SSL_CTX *ctx;                     /* one for every connection */
extern EVP_MD *sha1;                     /* fetched once, not per login */
extern int use_sni;                      /* host is a name, not an IP literal */
extern struct sockaddr_storage srv_addr; /* resolved once */
extern socklen_t srv_len;
extern char first_err[256];              /* the first error, for hold mode's FAILED line */

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

/* connection.c */
double now(void);
int fail(conn_t *c, const char *fmt, ...);
void note_error(const char *msg);
int send_packet(conn_t *c, const void *payload, size_t len);
ssize_t read_packet(conn_t *c);
int server_error(conn_t *c, const uint8_t *p, size_t n);
int conn_open(conn_t *c, SSL_SESSION **sess);
void conn_close(conn_t *c);

/* modes.c */
int run_connect(void);
int run_bulk(void);
int run_hold(void);

#endif
