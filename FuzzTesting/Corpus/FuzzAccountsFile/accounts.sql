-- mariadb-tls-proxy accounts file: per-account TLS requirements in MariaDB's own SQL.
--
-- Point the proxy at it with `accounts = /etc/mariadb-tls-proxy/accounts.sql`.
-- Statements are applied in order, as if run on a MariaDB server: CREATE USER, ALTER USER,
-- GRANT ... REQUIRE and DROP USER. Passwords, privileges and resource limits are accepted and
-- ignored: the backend still authenticates. The output of SHOW CREATE USER and SHOW GRANTS can
-- be pasted in unchanged. See docs/access-policy.md.
--
-- The example below is the one from MariaDB's "Securing Connections for Client and Server" page:
-- alice needs no TLS from localhost (the unix socket), but from anywhere else she must use TLS
-- with the given cipher and a client certificate with this subject, signed by this issuer.

CREATE USER 'alice'@'localhost'
  REQUIRE NONE;

CREATE USER 'alice'@'%'
  REQUIRE SUBJECT '/CN=alice/O=My Dom, Inc./C=US/ST=Oregon/L=Portland'
  AND ISSUER '/C=FI/ST=Somewhere/L=City/ O=Some Company/CN=Peter Parker/emailAddress=p.parker@marvel.com'
  AND CIPHER 'ECDHE-ECDSA-AES256-SHA384';

-- The same page's other forms, on accounts of their own:

-- Any TLS connection.
CREATE USER 'reporting'@'%' REQUIRE SSL;

-- TLS with a client certificate that verifies against ssl_ca.
CREATE USER 'batch'@'10.0.%' REQUIRE X509;

-- TLS with a specific cipher (no client certificate needed).
CREATE USER 'legacy_app'@'%' REQUIRE CIPHER 'ECDHE-RSA-AES256-GCM-SHA384';

-- A later statement replaces the requirement, as ALTER USER does on a server.
ALTER USER 'reporting'@'%' REQUIRE X509;
