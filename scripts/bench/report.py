"""report.py — BenchReport: the medians of the raw rounds, checked against the goals, as table rows.

A row is (metric, {column: text}, proxy ÷ native, proxy ÷ HAProxy, target text, result). The
columns are the four main targets (proxy with TLS, native TLS, HAProxy, direct); the extra targets
(the proxy as a plaintext relay, the proxy with TLS to the backend) get rows of their own, their
value in the proxy column and the reference they are compared with named in the metric.
"""

import statistics

from targets import Goals

COLUMNS = ("proxy", "native", "haproxy", "plain")


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    return a / b if a is not None and b else None


def verdict(ok):
    return "met" if ok else "**missed**"


def cpu_total(cpu, who):
    """user + system µs of one process of the path (client, relay, server), or None."""
    if cpu is None or f"{who}_user" not in cpu:
        return None
    return cpu[f"{who}_user"] + cpu[f"{who}_sys"]


def cpu_medians(runs, key):
    """Median per CPU component over the rounds of one target (key: cpu_us_per_query / _login)."""
    cpus = [x[key] for x in runs if x.get(key)]
    if not cpus:
        return {}
    out = {name: median([c.get(name) for c in cpus]) for name in cpus[0]}
    for who in ("client", "relay", "server"):
        if f"{who}_user" in out:
            out[who] = median([cpu_total(c, who) for c in cpus])
    out["path"] = median([sum(cpu_total(c, w) or 0 for w in ("client", "relay", "server")) for c in cpus])
    return out


class BenchReport:
    def report(self):
        self.rows = []
        self.cpu = {}  # part -> target -> CPU medians (document.py renders them)
        for part in ("P1", "P2", "P3", "P4"):
            if part in self.raw:
                getattr(self, f"report_{part.lower()}")(self.raw[part], self.results["checks"])
        return self.render_table()

    def add(self, metric, values, rn=None, rh=None, target_text="", result=""):
        self.rows.append((metric, values, rn, rh, target_text, result))

    def report_p1(self, r, checks):
        qps = {t: median([x["qps"] for x in r[t]]) for t in r}
        p95 = {t: median([x["p95_ms"] for x in r[t]]) for t in r}
        rn, rh = ratio(qps["proxy"], qps["native"]), ratio(qps["proxy"], qps["haproxy"])
        ok = rh >= Goals.P1_VS_HAPROXY
        checks["P1"] = {"proxy_vs_native": rn, "proxy_vs_haproxy": rh, "met": ok, "aim_met": rh >= Goals.P1_AIM}
        note = f" ({rh:.3f}× HAProxy)" if not ok else (", aim met" if rh >= Goals.P1_AIM else "")
        self.add(f"P1 point select, {self.p1_threads} threads: qps", {t: f"{qps[t]:,.0f}" for t in COLUMNS if t in qps},
                 rn, rh, f"≥ {Goals.P1_VS_HAPROXY}× HAProxy (aim {Goals.P1_AIM}×)", verdict(ok) + note)
        self.add("P1 p95 latency (ms)", {t: f"{p95[t]:.2f}" for t in COLUMNS if t in p95},
                 ratio(p95["proxy"], p95["native"]), ratio(p95["proxy"], p95["haproxy"]), "reported")
        self.cpu["P1"] = {t: cpu_medians(r[t], "cpu_us_per_query") for t in r}
        if "proxy_plain" in qps:
            self.add(f"P1 qps, proxy as a plaintext relay (vs proxy with TLS: "
                     f"{ratio(qps['proxy_plain'], qps['proxy']):.2f}×)",
                     {"proxy": f"{qps['proxy_plain']:,.0f}", "haproxy": f"{qps['haproxy']:,.0f}"},
                     None, ratio(qps["proxy_plain"], qps["haproxy"]), "reported")
            relay = {t: self.cpu["P1"][t].get("relay") for t in ("proxy", "proxy_plain", "haproxy")}
            if all(relay.values()):
                self.add(f"P1 relay CPU per query (µs; proxy as a plaintext relay: {relay['proxy_plain']:.1f})",
                         {"proxy": f"{relay['proxy']:.1f}", "haproxy": f"{relay['haproxy']:.1f}"},
                         None, ratio(relay["proxy"], relay["haproxy"]), "reported")
        if "proxy_btls" in qps:
            self.add_backend_tls_row("P1 qps", qps, "{:,.0f}")

    def report_p2(self, r, checks):
        mbs = {t: median([x["mb_per_sec"] for x in r[t]]) for t in r}
        rn, rh = ratio(mbs["proxy"], mbs["native"]), ratio(mbs["proxy"], mbs["haproxy"])
        ok = rn >= Goals.P2_VS_NATIVE
        checks["P2"] = {"proxy_vs_native": rn, "proxy_vs_haproxy": rh, "met": ok}
        self.add("P2 bulk read, 1 client: MB/s", {t: f"{mbs[t]:,.1f}" for t in COLUMNS if t in mbs}, rn, rh,
                 f"≥ {Goals.P2_VS_NATIVE}× native", verdict(ok))
        relay = {t: cpu_medians(r[t], "cpu_us_per_mb").get("relay") for t in ("proxy", "haproxy") if t in r}
        if all(relay.values()) and len(relay) == 2:
            self.add("P2 relay CPU per MB (µs)", {t: f"{v:,.0f}" for t, v in relay.items()},
                     None, ratio(relay["proxy"], relay["haproxy"]), "reported")
        if "proxy_btls" in mbs:
            self.add_backend_tls_row("P2 MB/s", mbs, "{:,.1f}")

    def report_p3(self, r, checks):
        lps = {k: median([x["logins_per_sec"] for x in r[k]]) for k in r}
        rn, rh = ratio(lps["proxy"], lps["native"]), ratio(lps["proxy"], lps["haproxy"])
        ok = rn >= Goals.P3_FULL_VS_NATIVE
        checks["P3_full"] = {"proxy_vs_native": rn, "met": ok}
        self.add(f"P3 logins/s, {self.p3_threads} threads, full handshake",
                 {t: f"{lps[t]:,.0f}" for t in COLUMNS}, rn, rh, f"≥ {Goals.P3_FULL_VS_NATIVE}× native", verdict(ok))
        self.cpu["P3"] = {k: cpu_medians(r[k], "cpu_us_per_login") for k in r}
        server_side = {k: (c.get("relay") or 0) + (c.get("server") or 0) for k, c in self.cpu["P3"].items() if c}
        if "proxy" in server_side and "native" in server_side:
            self.add("P3 server-side CPU per full login (µs: proxy + its mariadbd; native mariadbd)",
                     {"proxy": f"{server_side['proxy']:,.0f}", "native": f"{server_side['native']:,.0f}"},
                     ratio(server_side["proxy"], server_side["native"]), None, "reported")
        self.add("P3 logins/s with resumption (`--resume`)",
                 {"proxy": f"{lps['proxy_resume']:,.0f}", "native": f"{lps['native_resume']:,.0f}"},
                 ratio(lps["proxy_resume"], lps["native_resume"]), None, "reported")
        # What a MariaDB client sees: Connector/C (libmariadb: the mariadb CLI, PHP, Python and
        # sysbench) never offers a session, so MariaDB always does a full handshake for it, while
        # a client that does resume gets the ticket path from the proxy.
        self.add("P3 proxy with resumption ÷ native full handshake",
                 {"proxy": f"{lps['proxy_resume']:,.0f}", "native": f"{lps['native']:,.0f}"},
                 ratio(lps["proxy_resume"], lps["native"]), None, "reported")
        resumed = {}
        for key, t in (("proxy_resume", "proxy"), ("native_resume", "native")):
            got = sum(x.get("resumed", 0) for x in r[key])
            total = sum(x.get("logins", 0) for x in r[key])
            resumed[t] = f"{got:,} of {total:,} ({100 * got / total if total else 0:.0f} %)"
        self.add("P3 resumed logins (all rounds)", resumed, target_text="reported")
        if "proxy_plain" in lps:
            self.add(f"P3 logins/s, proxy as a plaintext relay (vs proxy with TLS: "
                     f"{ratio(lps['proxy_plain'], lps['proxy']):.2f}×)",
                     {"proxy": f"{lps['proxy_plain']:,.0f}", "haproxy": f"{lps['haproxy']:,.0f}"},
                     None, ratio(lps["proxy_plain"], lps["haproxy"]), "reported")
        if "proxy_btls" in lps:
            self.add_backend_tls_row("P3 logins/s (full client handshake)", lps, "{:,.0f}")
        errors = {k: sum(x.get("errors", 0) for x in r[k]) for k in r}
        self.add("P3 errors (all rounds, full / resumed)",
                 {"proxy": f"{errors['proxy']} / {errors['proxy_resume']}",
                  "native": f"{errors['native']} / {errors['native_resume']}",
                  "haproxy": str(errors["haproxy"]), "plain": str(errors["plain"])})

    def report_p4(self, r, checks):
        for i, count in enumerate(self.hold_counts):
            p, n = r["proxy"][i], r["native"][i]
            kp, kn = p.get("kib_per_conn"), n.get("kib_per_conn")
            ok = kp is not None and kp <= Goals.P4_MAX_KIB and p["errors"] == 0
            checks[f"P4_{count}"] = {"proxy_kib_per_conn": kp, "native_kib_per_conn": kn,
                                     "errors": p["errors"], "met": ok}
            fmt = lambda v: "failed" if v is None else f"{v:.1f}"  # noqa: E731
            self.add(f"P4 RSS growth per idle TLS conn (KiB), {count:,} held", {"proxy": fmt(kp), "native": fmt(kn)},
                     ratio(kp, kn), None,
                     f"≤ {Goals.P4_MAX_KIB:g} KiB" + (", no errors" if count == max(self.hold_counts) else ""),
                     verdict(ok))
            self.add(f"P4 {count:,} held: errors; proxy fds before / held / after close",
                     {"proxy": f"{p['errors']}; {p['fds_before']} / {p.get('fds_held', '?')} / {p['fds_after_close']}",
                      "native": f"{n['errors']}; Threads_connected {n.get('threads_connected', '?')}"})

    def add_backend_tls_row(self, metric, values, fmt):
        """backend_ssl: in the proxy column, and in the ratio column against native TLS (the same
        server the proxy then talks TLS to)."""
        self.add(f"{metric}, proxy with backend_ssl to the native server (vs proxy to plain: "
                 f"{ratio(values['proxy_btls'], values['proxy']):.2f}×)",
                 {"proxy": fmt.format(values["proxy_btls"]), "native": fmt.format(values["native"])},
                 ratio(values["proxy_btls"], values["native"]), None, "reported")

    def render_table(self):
        head = ["Metric", "proxy (TLS)", "native TLS", "HAProxy (plain)", "direct (plain)", "proxy ÷ native",
                "proxy ÷ HAProxy", "target", "result"]
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join([" --- "] + [" ---: "] * 6 + [" --- "] * 2) + "|"]
        for metric, values, rn, rh, target_text, result in self.rows:
            cells = [metric] + [values.get(t, "–") for t in COLUMNS]
            cells += [f"{rn:.2f}×" if rn is not None else "", f"{rh:.2f}×" if rh is not None else "", target_text,
                      result]
            lines.append("| " + " | ".join(cells) + " |")
        self.table = "\n".join(lines)
        return self.table
