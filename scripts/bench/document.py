"""document.py — BenchDocument: the generated section of docs/benchmarks.md (between the bench:begin
and bench:end markers): the table, the CPU accounting per query and per login with the budget it
implies for the P1 goal, the machine, the versions and every per-round number.
"""

from harness import log
from report import ratio
from targets import P1_ORDER, P3_ORDER, TARGETS, Goals


def uplus(cpu, who):
    if f"{who}_user" not in cpu:
        return "–"
    return f"{cpu[f'{who}_user']:.1f} + {cpu[f'{who}_sys']:.1f}"


class BenchDocument:
    def cpu_tables(self):
        """Markdown: CPU per P1 query and per P3 login of each process in the path (user + system),
        medians over the rounds, and the P1 budget: on a saturated machine qps is the cores divided by
        the whole path's CPU per query, so the proxy's TLS path may cost at most HAProxy's ÷ 0.9."""
        cpu = getattr(self, "cpu", {})
        out = []
        for part, unit, keys in (("P1", "query", P1_ORDER), ("P3", "full login", [k for k, _, _ in P3_ORDER])):
            if not cpu.get(part):
                continue
            out.append(f"CPU per {unit} ({part}, µs, user + system, medians; *path* = client + relay + mariadbd; "
                       "*idle* = the whole machine's idle share during the runs):\n")
            out.append("| target | client | relay | mariadbd | path | idle |")
            out.append("| --- | ---: | ---: | ---: | ---: | ---: |")
            for key in keys:
                c = cpu[part].get(key)
                if not c:
                    continue
                label = TARGETS[key].label if key in TARGETS else f"{TARGETS[key.rsplit('_', 1)[0]].label}, resumed"
                idle = c.get("machine_idle_pct")
                out.append(f"| {label} | {uplus(c, 'client')} | {uplus(c, 'relay')} | {uplus(c, 'server')} | "
                           f"{c['path']:.1f} | {'' if idle is None else f'{idle:.0f} %'} |")
            out.append("")
        p1 = cpu.get("P1", {})
        if all(p1.get(t) for t in ("proxy", "proxy_plain", "haproxy")):
            proxy, relay, haproxy = p1["proxy"], p1["proxy_plain"], p1["haproxy"]
            budget = haproxy["path"] / Goals.P1_VS_HAPROXY
            # mariadbd's CPU per query grows as its qps falls (fewer queries per wake-up); at 0.9× HAProxy's
            # qps it costs about what it costs behind HAProxy, so the budget uses that figure.
            others = proxy["client"] + haproxy["server"]
            out.append(
                f"P1 budget: HAProxy's path costs {haproxy['path']:.1f} µs per query, so at "
                f"{Goals.P1_VS_HAPROXY}× its qps the TLS path may cost {budget:.1f} µs. With TLS the client takes "
                f"{proxy['client']:.1f} µs ({proxy['client'] - haproxy['client']:+.1f} against the plaintext client), "
                f"mariadbd about {haproxy['server']:.1f} (as behind HAProxy; {proxy['server']:.1f} measured behind "
                f"the slower proxy), which leaves the proxy {budget - others:.1f} µs; it spent {proxy['relay']:.1f} "
                f"({relay['relay']:.1f} as a plaintext relay, HAProxy {haproxy['relay']:.1f}). Path ratio HAProxy ÷ "
                f"proxy: {ratio(haproxy['path'], proxy['path']):.2f} (the qps ratio when the CPUs are saturated).\n")
        p3 = cpu.get("P3", {})
        if all(p3.get(t) for t in ("proxy", "native")):
            proxy, native = p3["proxy"], p3["native"]
            budget = native["path"] / Goals.P3_FULL_VS_NATIVE
            left = budget - native["client"] - proxy["server"]
            plain_relay = p3.get("proxy_plain", {}).get("relay")
            haproxy = p3.get("haproxy", {}).get("relay")
            out.append(
                f"P3 budget: native's path costs {native['path']:,.0f} µs per full login, so at "
                f"{Goals.P3_FULL_VS_NATIVE}× its logins/s the proxy's path may cost {budget:,.0f} µs. The client "
                f"takes {native['client']:,.0f} (as against native; {proxy['client']:,.0f} against the proxy) and the "
                f"backend mariadbd {proxy['server']:,.0f}, which leaves the proxy {left:,.0f} µs; it spent "
                f"{proxy['relay']:,.0f}"
                + (f" (as a plaintext relay {plain_relay:,.0f}, HAProxy {haproxy:,.0f})" if plain_relay and haproxy else "")
                + f". Path ratio native ÷ proxy: {ratio(native['path'], proxy['path']):.2f}.\n")
        return "\n".join(out)

    @staticmethod
    def relay_cpu_text(cpu):
        if not cpu:
            return "?"
        who = "relay" if "relay_user" in cpu else "server"
        return f"{cpu[who + '_user'] + cpu[who + '_sys']:.1f} µs"

    def raw_compact(self):
        out = []
        for part, targets in self.raw.items():
            for key, runs in targets.items():
                if part == "P1":
                    vals = ", ".join(f"{x['qps']:.0f} qps/{x['p95_ms']} ms/"
                                     f"{self.relay_cpu_text(x.get('cpu_us_per_query'))}" for x in runs)
                elif part == "P2":
                    vals = ", ".join(f"{x['mb_per_sec']:.1f}" for x in runs) + " MB/s"
                elif part == "P3":
                    vals = ", ".join(f"{x['logins_per_sec']:.0f} (r{x.get('resumed', 0)}, e{x.get('errors', 0)}, "
                                     f"{self.relay_cpu_text(x.get('cpu_us_per_login'))})" for x in runs) + " logins/s"
                else:
                    vals = "; ".join(f"{x['count']}: {x.get('rss_before_kib')}→{x.get('rss_after_kib', '?')} KiB, "
                                     f"{x.get('kib_per_conn', '?')} KiB/conn, opened in {x['open_seconds']} s, "
                                     f"fds {x['fds_before']}→{x.get('fds_held', '?')}→{x['fds_after_close']}, "
                                     f"errors {x['errors']}" for x in runs)
                out.append(f"- {part} {key}: {vals}")
        return "\n".join(out)

    def generated_section(self, elapsed):
        m = self.results["machine"]
        s = self.results["settings"]
        return f"""<!-- bench:begin -->
<!-- Generated by scripts/bench/bench.py (`make bench`); edits between these markers are overwritten. -->

Run of {self.started_at.strftime('%Y-%m-%d %H:%M UTC')}, {elapsed / 60:.1f} minutes; parts {' '.join(self.parts)};
{s['rounds']} rounds, medians; P1 {s['p1_seconds']} s per run after a {s['warmup_seconds']} s warm-up,
P2 {s['bulk_repeat']} × 120 MB per run, P3 {s['p3_seconds']} s per run.

{self.table}

{self.cpu_tables()}
Negotiated TLS: proxy {self.results.get('tls', {}).get('proxy', '?')}, native {self.results.get('tls', {}).get('native', '?')}.

Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}; load average (1/5/15 min)
{' / '.join(f'{x:.2f}' for x in m['loadavg_at_start'])} at the start, {' / '.join(f'{x:.2f}' for x in m.get('loadavg_at_end', ()))} at the end.
Versions:
- {m['mariadbd']}
- {m['haproxy'].split(' - ')[0]}
- {m['sysbench']}
- {m['openssl']}
- {m['swift']}
- {m['proxy']}, commit {m['commit']}

Raw numbers per round, in the order run (P1: qps / p95 / CPU µs per query of the relay, or of
mariadbd without one; P3: r = resumed logins, e = errors, then the same CPU per login):

{self.raw_compact()}
<!-- bench:end -->"""

    def update_docs(self, elapsed):
        text = self.doc.read_text() if self.doc.exists() else ""
        begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
        section = self.generated_section(elapsed)
        if begin in text and end in text:
            text = text[: text.index(begin)] + section + text[text.index(end) + len(end):]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        self.doc.write_text(text)
        log(f"updated {self.doc}")
