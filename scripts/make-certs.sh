#!/usr/bin/env bash
# make-certs.sh DIR — throwaway CAs and certificates for tests and the demo.
#
# Creates (RSA 2048, SHA-256; existing files are kept, so re-running is cheap):
#   ca.pem / ca-key.pem                   "Test CA 1" (self-signed, CA:TRUE)
#   server-cert.pem / server-key.pem      CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1 (from CA 1)
#   client-cert.pem / client-key.pem      CN=client, O=Example (from CA 1)
#   other-ca.pem / other-ca-key.pem       "Other CA" (self-signed, CA:TRUE)
#   other-client-cert.pem / -key.pem      CN=client, O=Example (from Other CA; same subject, other issuer)
#   ca-bundle.pem                         ca.pem + other-ca.pem
# Client certificates with known subjects (access-policy tests, REQUIRE SUBJECT/ISSUER):
#   alice-cert.pem / alice-key.pem        C=US/ST=Oregon/L=Portland/O=My Dom, Inc./CN=alice (from CA 1)
#   bob-cert.pem / bob-key.pem            C=US/O=Example/CN=bob (from CA 1)
#   jurgen-cert.pem / jurgen-key.pem      C=DE/O=Example/CN=Jürgen Größe in UTF-8 (from CA 1)
#   alice-other-cert.pem / -key.pem       alice's subject, from Other CA (only the issuer differs)
#   rogue-ca.pem / rogue-ca-key.pem       "Rogue CA" (in no bundle: nothing trusts it)
#   rogue-client-cert.pem / -key.pem      alice's subject, from Rogue CA (fails verification)
#
# To add a certificate, add one line at the bottom:
#   make_ca   NAME "SUBJECT"                       -> NAME.pem, NAME-key.pem
#   make_leaf NAME CA_NAME "SUBJECT" server|client [SAN] [DAYS]
#                                                  -> NAME-cert.pem, NAME-key.pem
# SUBJECT uses openssl's "/K=V/K=V" form; SAN uses openssl's subjectAltName syntax.
# Prefix the call with UTF8=1 for a subject written in UTF-8 (openssl req -utf8).
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
command -v openssl >/dev/null || { echo "$0: openssl not found (run scripts/install-deps.sh)" >&2; exit 1; }

DIR=$1
mkdir -p "$DIR"
cd "$DIR"
umask 077

new_key() { # FILE
    [[ -s $1 ]] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
}

make_ca() { # NAME SUBJECT
    local name=$1 subject=$2
    [[ -s $name.pem ]] && return 0
    new_key "$name-key.pem"
    openssl req -new -x509 -sha256 -days 3650 -key "$name-key.pem" -subj "$subject" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" \
        -out "$name.pem"
}

make_leaf() { # NAME CA_NAME SUBJECT server|client [SAN] [DAYS]
    local name=$1 ca=$2 subject=$3 kind=$4 san=${5:-} days=${6:-825}
    [[ -s $name-cert.pem ]] && return 0
    new_key "$name-key.pem"
    local ext
    ext=$(mktemp "$name.ext.XXXXXX")
    {
        echo "basicConstraints=critical,CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        if [[ $kind == server ]]; then
            echo "extendedKeyUsage=serverAuth"
        else
            echo "extendedKeyUsage=clientAuth"
        fi
        echo "subjectKeyIdentifier=hash"
        echo "authorityKeyIdentifier=keyid,issuer"
        [[ -n $san ]] && echo "subjectAltName=$san"
    } >"$ext"
    # shellcheck disable=SC2046 # UTF8=1 adds the one word -utf8
    openssl req -new -sha256 $([[ -n ${UTF8:-} ]] && echo -utf8) -key "$name-key.pem" -subj "$subject" \
        -out "$name.csr"
    openssl x509 -req -sha256 -days "$days" -in "$name.csr" \
        -CA "$ca.pem" -CAkey "$ca-key.pem" -set_serial "0x$(openssl rand -hex 16)" \
        -extfile "$ext" -out "$name-cert.pem" 2>/dev/null
    rm -f "$name.csr" "$ext"
}

make_ca   ca           "/CN=Test CA 1"
make_leaf server       ca       "/CN=localhost" server "DNS:localhost,IP:127.0.0.1,IP:::1"
make_leaf client       ca       "/O=Example/CN=client" client
make_ca   other-ca     "/CN=Other CA"
make_leaf other-client other-ca "/O=Example/CN=client" client

make_leaf alice        ca       "/C=US/ST=Oregon/L=Portland/O=My Dom, Inc./CN=alice" client
make_leaf bob          ca       "/C=US/O=Example/CN=bob" client
UTF8=1 make_leaf jurgen ca      "/C=DE/O=Example/CN=Jürgen Größe" client
make_leaf alice-other  other-ca "/C=US/ST=Oregon/L=Portland/O=My Dom, Inc./CN=alice" client
make_ca   rogue-ca     "/CN=Rogue CA"
make_leaf rogue-client rogue-ca "/C=US/ST=Oregon/L=Portland/O=My Dom, Inc./CN=alice" client

cat ca.pem other-ca.pem >ca-bundle.pem
# Certificates are public; keys stay 0600. The proxy may run as another user in the demo.
chmod 0644 ./*.pem
chmod 0600 ./*-key.pem
