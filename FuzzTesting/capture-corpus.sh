#!/usr/bin/env bash
# capture-corpus.sh — (re)record the seed corpora in FuzzTesting/Corpus/ from real traffic.
#
# Starts a private plaintext mariadbd (../scripts/start-backend.sh, under .build-fuzz/capture/),
# records real client and server bytes through capture_relay.py, and writes the seeds:
#
#   Corpus/FuzzClientStream/   2 option bytes + a client->proxy stream (see Sources/FuzzClientStream/main.swift)
#   Corpus/FuzzBackendStream/  1 option byte + a backend->proxy stream (see Sources/FuzzBackendStream/main.swift)
#   Corpus/FuzzOptionFile/     the shipped option file, variants, and NUL-separated command lines
#   Corpus/FuzzAccountsFile/   the shipped accounts.sql, SHOW CREATE USER and SHOW GRANTS output
#
# Clients recorded: the mariadb CLI (plaintext login as a native-password and as an ed25519 user,
# a wrong password, LOAD DATA LOCAL INFILE), mariadb-test (COM_CHANGE_USER, prepared statements),
# and the TLS upgrade requests of `mariadb --ssl` and `openssl s_client -starttls mysql` (the relay
# advertises CLIENT_SSL for those; the --skip-ssl server then refuses, which is fine: only the
# client's SSLRequest and ClientHello are wanted). Raw captures stay in .build-fuzz/capture/raw/.
#
# Usage: FuzzTesting/capture-corpus.sh   (needs mariadbd, mariadb, mariadb-test, openssl, python3)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
WORK=$HERE/.build-fuzz/capture
RAW=$WORK/raw
CORPUS=$HERE/Corpus
BACKEND=$WORK/backend

mkdir -p "$RAW" "$CORPUS"/{FuzzClientStream,FuzzBackendStream,FuzzOptionFile,FuzzAccountsFile}
rm -f "$RAW"/*

stop_backend() { "$ROOT/scripts/stop-backend.sh" "$BACKEND" >/dev/null 2>&1 || true; }
trap stop_backend EXIT
BACKEND_TMPDIR=$WORK/tmp "$ROOT/scripts/start-backend.sh" "$BACKEND" >/dev/null
# shellcheck disable=SC1091
source "$BACKEND/backend.env"

admin() { mariadb --no-defaults --socket="$BACKEND_SOCKET" -u "$BACKEND_ADMIN_USER" --batch --skip-column-names --raw "$@"; }

admin <<'SQL'
CREATE DATABASE IF NOT EXISTS fuzzcap;
CREATE OR REPLACE TABLE fuzzcap.t (a INT, b VARCHAR(20));
GRANT SELECT, INSERT ON fuzzcap.* TO 'app'@'%';
CREATE OR REPLACE USER 'tls_any'@'%' IDENTIFIED BY 'x' REQUIRE SSL;
CREATE OR REPLACE USER 'x509'@'10.0.0.%' REQUIRE X509;
CREATE OR REPLACE USER 'cipher'@'localhost' REQUIRE CIPHER 'TLS_AES_256_GCM_SHA384';
CREATE OR REPLACE USER 'subj'@'192.168.1.0/255.255.255.0'
    REQUIRE SUBJECT '/C=FI/O=Example/CN=client' AND ISSUER '/C=FI/O=Example/CN=Example CA'
    AND CIPHER 'ECDHE-RSA-AES256-GCM-SHA384';
CREATE OR REPLACE USER 'limited'@'%.example.com' REQUIRE NONE WITH MAX_QUERIES_PER_HOUR 10 MAX_USER_CONNECTIONS 2;
CREATE OR REPLACE USER 'quo''te'@'h_st%' IDENTIFIED VIA ed25519 USING PASSWORD('p') OR unix_socket REQUIRE ISSUER '/CN=\'odd\' CA';
-- Anonymous row on a host no capture client comes from (''@'localhost' would shadow 'app'@'%').
DROP USER IF EXISTS ''@'localhost';
CREATE OR REPLACE USER ''@'%.invalid';
GRANT USAGE ON *.* TO 'x509'@'10.0.0.%' REQUIRE X509;
GRANT SELECT ON fuzzcap.* TO 'cipher'@'localhost';
SQL

# capture NAME [--advertise-ssl] -- COMMAND...: one connection through a fresh relay.
capture() {
    local name=$1 flag=()
    shift
    if [[ $1 == --advertise-ssl ]]; then flag=(--advertise-ssl); shift; fi
    [[ $1 == -- ]] && shift
    local fifo=$WORK/port.fifo relay port
    rm -f "$fifo"
    mkfifo "$fifo"
    python3 "$HERE/capture_relay.py" "$BACKEND_PORT" "$RAW/$name" "${flag[@]}" >"$fifo" &
    relay=$!
    read -r port <"$fifo"
    rm -f "$fifo"
    PORT=$port "$@" >/dev/null 2>&1 </dev/null || true
    wait "$relay" || true
    echo "captured $name: $(stat -c %s "$RAW/$name.c2s") bytes up, $(stat -c %s "$RAW/$name.s2c") bytes down"
}

cli() { mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$PORT" "$@"; }
export -f cli

printf '1,one\n2,two\n3,"three, quoted"\n' >"$WORK/rows.csv"
cat >"$WORK/change-user.test" <<'TEST'
SELECT 1;
change_user app,app-pass,fuzzcap;
SELECT CURRENT_USER();
change_user ed,ed-pass;
SELECT 2;
TEST
cat >"$WORK/prepared.test" <<'TEST'
SELECT 1 + ? ;
SELECT a, b FROM fuzzcap.t WHERE a > 1;
TEST

capture cli-plain -- bash -c 'cli --skip-ssl -u app -papp-pass -e "SELECT 1; SELECT @@version, USER(); SHOW DATABASES"'
capture cli-ed25519 -- bash -c 'cli --skip-ssl -u ed -ped-pass -e "SELECT CURRENT_USER()"'
capture cli-wrong-password -- bash -c 'cli --skip-ssl -u app -pnot-the-password -e "SELECT 1"'
capture cli-load-data -- bash -c "cli --skip-ssl --local-infile=1 -u app -papp-pass -e \"LOAD DATA LOCAL INFILE '$WORK/rows.csv' INTO TABLE fuzzcap.t FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\\\"'; SELECT COUNT(*) FROM fuzzcap.t\""
capture test-change-user -- bash -c "mariadb-test --no-defaults --protocol=tcp --host=127.0.0.1 --port=\$PORT --user=app --password=app-pass --silent < '$WORK/change-user.test'"
capture test-prepared -- bash -c "mariadb-test --no-defaults --protocol=tcp --host=127.0.0.1 --port=\$PORT --user=app --password=app-pass --ps-protocol --silent < '$WORK/prepared.test'"
capture cli-ssl-request --advertise-ssl -- bash -c 'cli --ssl --disable-ssl-verify-server-cert -u app -papp-pass -e "SELECT 1"'
capture s-client-starttls --advertise-ssl -- bash -c 'openssl s_client -starttls mysql -connect "127.0.0.1:$PORT"'

# SHOW CREATE USER / SHOW GRANTS output, each row as one statement.
{
    for account in "'tls_any'@'%'" "'x509'@'10.0.0.%'" "'cipher'@'localhost'" "'subj'@'192.168.1.0/255.255.255.0'" \
        "'limited'@'%.example.com'" "'quo''te'@'h_st%'" "''@'%.invalid'" "'app'@'%'" "'ed'@'%'"; do
        admin -e "SHOW CREATE USER $account" | sed 's/$/;/'
    done
} >"$CORPUS/FuzzAccountsFile/show-create-user.sql"
{
    for account in "'x509'@'10.0.0.%'" "'cipher'@'localhost'" "'subj'@'192.168.1.0/255.255.255.0'" "'app'@'%'"; do
        admin -e "SHOW GRANTS FOR $account" | sed 's/$/;/'
    done
} >"$CORPUS/FuzzAccountsFile/show-grants.sql"
cp "$ROOT/config/accounts.sql" "$CORPUS/FuzzAccountsFile/accounts.sql"

# Seeds from the captures, with the option bytes each target reads first.
python3 - "$RAW" "$CORPUS" <<'PY'
import os
import sys

raw, corpus = sys.argv[1], sys.argv[2]

def read(name):
    with open(os.path.join(raw, name), "rb") as f:
        return f.read()

def write(target, name, data):
    with open(os.path.join(corpus, target, name), "wb") as f:
        f.write(data)

# FuzzClientStream: byte 0 = 1 TLS available, 2 require_secure_transport, 4 unix socket,
# 8 policy, 16 strict_accounts, 32 identify late, 64 client certificate, 128 backend refuses;
# byte 1 = auth rounds (bits 0-1), relay read size (bits 2-6, 0 = whole), 128 small change-user limit.
client = {
    "cli-plain": [(0x08, 0x00), (0x09, 0x04)],
    "cli-ed25519": [(0x08, 0x01), (0x00, 0x01)],
    "cli-wrong-password": [(0x88, 0x00)],
    "cli-load-data": [(0x08, 0x00), (0x08, 0x0C)],
    "test-change-user": [(0x08, 0x00), (0x18, 0x0C), (0x04, 0x80)],
    "test-prepared": [(0x08, 0x1C)],
    # SSLRequest followed by the ClientHello read as plaintext (as if TLS were done): garbage after the upgrade.
    "cli-ssl-request": [(0x09, 0x00)],
    "s-client-starttls": [(0x09, 0x00), (0x0B, 0x00)],
}
for name, variants in client.items():
    stream = read(name + ".c2s")
    for b0, b1 in variants:
        write("FuzzClientStream", f"{name}-{b0:02x}{b1:02x}", bytes([b0, b1]) + stream)

# TLS logins: what the proxy reads after the handshake cannot be recorded on the wire, so these
# seeds join the real SSLRequest to a real plaintext session whose first packet (the
# HandshakeResponse) moves to sequence id 2, as it is inside TLS.
ssl_request = read("cli-ssl-request.c2s")
ssl_request = ssl_request[:4 + int.from_bytes(ssl_request[:3], "little")]
for name, variants in {"cli-plain": [(0x09, 0x00), (0x0B, 0x10)], "test-change-user": [(0x49, 0x00), (0x59, 0x08)],
                       "cli-ed25519": [(0x09, 0x01)]}.items():
    stream, rest = bytearray(), read(name + ".c2s")
    login = True
    while len(rest) >= 4:
        n = 4 + int.from_bytes(rest[:3], "little")
        packet, rest = bytearray(rest[:n]), rest[n:]
        login = login and packet[3] != 0   # the login ends at the first command (sequence id 0)
        if login:
            packet[3] += 1
        stream += packet
    stream += rest
    for b0, b1 in variants:
        write("FuzzClientStream", f"tls-{name}-{b0:02x}{b1:02x}", bytes([b0, b1]) + ssl_request + bytes(stream))

# FuzzBackendStream: 1 TLS available, 2 client upgrades, 4 policy, 8 identify late,
# 16 wrong auth sequence id, 32 unix socket, 64 strict_accounts, 128 client certificate.
backend = {
    "cli-plain": [0x04, 0x07],
    "cli-ed25519": [0x04, 0x87],
    "cli-wrong-password": [0x04],
    "test-change-user": [0x0C],
    "cli-load-data": [0x04],
    "test-prepared": [0x04],
}
for name, variants in backend.items():
    stream = read(name + ".s2c")
    for b0 in variants:
        write("FuzzBackendStream", f"{name}-{b0:02x}", bytes([b0]) + stream)
# A backend that refuses before greeting (ER_HOST_NOT_PRIVILEGED, 1130), as MariaDB words it.
msg = b"Host '10.1.2.3' is not allowed to connect to this MariaDB server"
err = b"\xff" + (1130).to_bytes(2, "little") + msg
write("FuzzBackendStream", "refused-before-greeting-04", b"\x04" + len(err).to_bytes(3, "little") + b"\x00" + err)

# The packets the fuzz drivers embed (FuzzSupport/Captured.swift), as hex.
def packets(data):
    out = []
    while len(data) >= 4:
        n = int.from_bytes(data[:3], "little")
        out.append((data[3], data[4:4 + n]))
        data = data[4 + n:]
    return out

with open(os.path.join(raw, "packets.txt"), "w") as f:
    for name in ("cli-plain.s2c", "cli-plain.c2s", "cli-ssl-request.c2s", "test-change-user.c2s"):
        for i, (seq, payload) in enumerate(packets(read(name))[:8]):
            f.write(f"{name} #{i} seq={seq} len={len(payload)}: {payload.hex()}\n")
PY

# Option files and command lines.
cp "$ROOT/config/mariadb-tls-proxy.cnf" "$CORPUS/FuzzOptionFile/shipped.cnf"
# Command lines: arguments separated by NUL (no trailing NUL: that would be one more, empty, argument).
argv() { local out=$1; shift; printf '%s\0' "$@" | head -c -1 >"$out"; }
argv "$CORPUS/FuzzOptionFile/argv-no-defaults" --no-defaults --backend-host=127.0.0.1 --backend-port=3307 --port=3306 \
    --ssl-cert=/etc/mariadb-tls-proxy/tls/server-cert.pem --ssl-key=/etc/mariadb-tls-proxy/tls/server-key.pem \
    --require-secure-transport --check
argv "$CORPUS/FuzzOptionFile/argv-defaults-file" --defaults-file=/fuzz/other.cnf --bind-address=127.0.0.1,::1 \
    --socket=/run/p.sock --backend-port=3308 --skip-name-resolve=OFF --loose-unknown=1 \
    --accounts=/etc/mariadb-tls-proxy/accounts.sql --strict-accounts --tls-version=TLSv1.3 --max-connections=10
argv "$CORPUS/FuzzOptionFile/argv-short-options" -V --help -? --port 3306 --backend-host db --user=mysql
# Includes: /fuzz/main.cnf is the fuzzed file; FuzzOptionFile's readFile answers the others.
cat >"$CORPUS/FuzzOptionFile/includes.cnf" <<'CNF'
[client]
password = "not for us # really"
[mariadb-tls-proxy]
!include extra.cnf
!includedir /fuzz/conf.d
backend_socket = '/run/mysqld/mysqld.sock'
ssl_cert=/etc/t\s ls/cert.pem
ssl-key = /etc/tls/key.pem   # trailing comment
require_secure_transport
skip-strict-accounts
loose-no-such-option = 1
; semicolon comment
connect_timeout = 10
CNF
printf '[mariadb-tls-proxy]\nbackend_host = h\n!include nest.cnf\n' >"$CORPUS/FuzzOptionFile/include-depth.cnf"
printf '!include /fuzz/main.cnf\n[mariadb-tls-proxy]\nbackend_host = h\n' >"$CORPUS/FuzzOptionFile/include-cycle.cnf"
printf '[mariadb-tls-proxy]\r\nbackend_host=h\r\n!include missing.cnf\r\n' >"$CORPUS/FuzzOptionFile/include-missing-crlf.cnf"
echo "corpus: $(find "$CORPUS" -type f | wc -l) files, $(du -sk "$CORPUS" | cut -f1) KiB"
