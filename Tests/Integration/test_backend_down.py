"""Backend unreachable -> a clear ERR 1429 instead of the greeting."""

import helpers
import wire
from helpers import mariadb

FOREIGN = "Unable to connect to foreign data source"


def test_backend_down_gives_clear_error(start_proxy, certs):
    dead_port = helpers.free_port()  # nothing listens here
    p = start_proxy({"backend_host": "127.0.0.1", "backend_port": dead_port})

    for attempt in range(2):  # the proxy keeps serving the same clear error
        r = mariadb(port=p.port, ca=certs.ca, execute="SELECT 1")
        assert r.returncode != 0
        assert "1429" in r.stderr and FOREIGN in r.stderr, f"attempt {attempt}: {r.stderr}"
        assert "127.0.0.1" in r.stderr and str(dead_port) in r.stderr, f"backend address missing: {r.stderr}"
        assert p.running(), f"proxy died after attempt {attempt}:\n{p.log_text()}"

    with wire.Connection.tcp("127.0.0.1", p.port) as c:
        pkt = c.read_first_packet()
        assert pkt.is_err and pkt.seq == 0, pkt.payload[:60]
        err = wire.ErrPacket.parse(pkt)
        assert err.code == 1429
        assert FOREIGN in err.message and str(dead_port) in err.message, err.message
        c.wait_closed(10)

    # Plaintext clients and the unix socket get the same answer.
    r = mariadb(socket_path=p.socket, ssl=False, execute="SELECT 1")
    assert r.returncode != 0 and "1429" in r.stderr and FOREIGN in r.stderr, r.stderr
    assert p.running()
