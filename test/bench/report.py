"""report.py - turns the benchmark's measurements into the markdown report."""

import statistics as pystats

from stats import summarize


def _f(x, digits=2):
    return "—" if x is None else f"{x:.{digits}f}"


def _table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def latency_rows(latency):
    """latency: list of (mech, snippet, result dict) -> (rows, summaries)."""
    rows, sums = [], {}
    for mech, snip, r in latency:
        s = summarize(r["samples_ns"])
        cpu = r["cpu_s"] * 1000 / s["n"] if s["n"] else None
        sums[(mech, snip)] = dict(s, cpu_ms=cpu)
        err = f"{r['errors']}" + (f" ({r['error_example'][:400]})" if r["errors"] else "")
        rows.append([mech, snip, s["n"], _f(r["first_ms"]), _f(s["p50"], 3), _f(s["p90"], 3),
                     _f(s["p99"], 3), _f(s["mean"], 3), _f(cpu), err])
    return rows, sums


def spaced_groups(spaced):
    """spaced: [(mech, snippet, result with think_ms)] -> [(pause ms, entries)],
    in the order the pauses were measured."""
    groups = {}
    for entry in spaced:
        groups.setdefault(entry[2]["think_ms"], []).append(entry)
    return list(groups.items())


def _ratio(x):
    """A ratio with sensible precision whether it is 0.004 or 4000."""
    return f"{x:.0f}×" if x >= 100 else f"{x:.1f}×" if x >= 1 else f"{x:.2g}×"


def ratio_rows(sums, snippets, peers, refs):
    """Rows: snippet, peer, peer p50 / ref p50 for each codeexec ref mode."""
    rows = []
    for snip in snippets:
        for peer in peers:
            p = sums.get((peer, snip))
            if not p or p["p50"] is None:
                continue
            cells = []
            for ref in refs:
                r = sums.get((ref, snip))
                cells.append(_ratio(p["p50"] / r["p50"]) if r and r["p50"] else "n/a")
            rows.append([snip, peer, _f(p["p50"], 3)] + cells)
    return rows


def round_figures(rounds, ref="codeexec forkserver"):
    """rounds: [(round, mech, result)] -> {mech: {all, p50s, ratio, ratios,
    median}}: the summary of every round's samples together, each round's
    p50, and for a peer its p50 over ref's, all rounds together and round by
    round (sorted), and the median round's."""
    samples, p50s = {}, {}
    for rnd, mech, r in rounds:
        samples.setdefault(mech, []).extend(r["samples_ns"])
        p50s.setdefault(mech, {})[rnd] = summarize(r["samples_ns"])["p50"]
    figs = {m: {"all": summarize(s), "p50s": [v for v in p50s[m].values() if v is not None]}
            for m, s in samples.items()}
    base = figs.get(ref)
    for mech, f in figs.items():
        f["ratio"] = f["all"]["p50"] / base["all"]["p50"] \
            if base and base["all"]["p50"] and f["all"]["p50"] else None
        f["ratios"] = sorted(p50s[mech][rnd] / p50s[ref][rnd] for rnd in p50s[mech]
                             if p50s[mech][rnd] and (p50s.get(ref) or {}).get(rnd))
        f["median"] = pystats.median(f["ratios"]) if f["ratios"] else None
    return figs


def round_rows(figs, ref="codeexec forkserver"):
    rows = []
    for mech, f in figs.items():
        a = f["all"]
        span = f"{min(f['p50s']):.3f}–{max(f['p50s']):.3f}" if f["p50s"] else "—"
        if mech == ref or not f["ratios"]:
            ratio, by_round = "—", "—"
        else:
            ratio = _ratio(f["ratio"]) if f["ratio"] else "—"
            by_round = (f"{_ratio(f['median'])} "
                        f"({_ratio(f['ratios'][0])}–{_ratio(f['ratios'][-1])})")
        rows.append([mech, len(f["p50s"]), a["n"], _f(a["p50"], 3), _f(a["p90"], 3), span,
                     ratio, by_round])
    return rows


def _forkserver_lines(label, fs):
    """Lines describing one fork-server snapshot (see bench.forkserver_memory)."""
    if not fs.get("pid"):
        return [f"Fork server ({label}): {fs.get('note', 'not available')}."]
    kids = fs["children_private"]
    line = (f"Fork server ({label}): pid {fs['pid']}, RSS {fs['rss']} kB, PSS {fs['pss']} kB, "
            f"private {fs['private']} kB; ")
    if kids:
        line += (f"{len(kids)} idle pooled children, private memory (Private_Clean + Private_Dirty) "
                 f"median {pystats.median(kids)} kB, max {max(kids)} kB.")
    else:
        line += "no idle pooled child found under it."
    return [line]


def memory_lines(phases):
    """phases: [(label, memory dict)] -> markdown lines."""
    lines = []
    for label, mem in phases:
        lines += _forkserver_lines(label, mem["forkserver"]) + [""]
    rows = []
    for label, mem in phases:
        for mech, kb in mem["backend_rss"].items():
            rows.append([label, mech, kb])
    lines += _table(["phase", "mechanism", "backend RSS after its runs (max, kB)"], rows)
    lines += [""] + [f"Whole cluster PSS at the end of phase `{label}`: {mem['cluster_pss_kb']} kB."
                     for label, mem in phases]
    return lines


def _verdict(value, ok):
    if value is None:
        return "n/a", "not measured"
    return value, "met" if ok else "**not met**"


def target_rows(sums, throughput, mem_default, spaced=(), rounds=None, cores=None):
    """Issue 6's targets against this run's figures (fork-server mode).  The
    latency targets are judged on the back-to-back loop; the spaced loops'
    figures (spaced: [(pause ms, summaries)]) and the ratios of the
    alternating rounds (rounds: round_figures) are shown beside them, not
    judged, and so is the floor the loop's CPU per call puts under its mean
    on this machine's cores (one client's calls back to back cannot use
    more than all of them)."""
    fs = "codeexec forkserver"
    rows = []
    p = sums.get((fs, "print1")) or {}
    p50, p99 = p.get("p50"), p.get("p99")
    rows.append(["print(1) p50 ≤ 1 ms (back to back)",
                 *_verdict(_f(p50, 3) if p50 else None, p50 is not None and p50 <= 1)])
    if p.get("cpu_ms") and cores:
        rows.append([f"for reference: the least mean back to back, CPU per call ÷ {cores} cores "
                     f"(the loop's mean)", f"{_f(p['cpu_ms'] / cores, 3)} ({_f(p['mean'], 3)})",
                     "not judged"])
    rows.append(["print(1) p99 ≤ 5 ms (back to back)",
                 *_verdict(_f(p99, 3) if p99 else None, p99 is not None and p99 <= 5)])
    for think_ms, spaced_sums in spaced:
        sp = spaced_sums.get((fs, "print1")) or {}
        if sp.get("p50") is not None:
            rows.append([f"for reference: print(1) p50 / p99 with {think_ms:.0f} ms between calls",
                         f"{_f(sp['p50'], 3)} / {_f(sp['p99'], 3)}", "not judged"])
    for peer, factor in (("bwrap --unshare-all", 30), ("runsc do", 200)):
        q = (sums.get((peer, "print1")) or {}).get("p50")
        r = q / p50 if q and p50 else None
        rows.append([f"{peer} p50 ≥ {factor}× codeexec (print(1))",
                     *_verdict(_ratio(r) if r else None, r is not None and r >= factor)])
        f = (rounds or {}).get(peer)
        if f and f["ratio"] and f["ratios"]:
            rows.append(["for reference: the same in alternating rounds (all rounds; "
                         "median round)", f"{_ratio(f['ratio'])}; {_ratio(f['median'])}",
                         "not judged"])
    tps = next((r["tps"] for m, s, c, r in throughput
                if m == fs and s == "print1" and c == 4 and not r["error"]), None)
    rows.append(["4 clients ≥ 300 executions/s (print(1))",
                 *_verdict(_f(tps, 1) if tps else None, tps is not None and tps >= 300)])
    pd = (sums.get((fs, "pandas")) or {}).get("p50")
    rows.append(["pandas describe() p50 ≤ 20 ms", *_verdict(_f(pd, 3) if pd else None, pd is not None and pd <= 20)])
    rss = mem_default.get("rss") if mem_default else None
    rows.append(["fork-server RSS ≤ 40 MB (default allowlist)",
                 *_verdict(f"{rss / 1024:.1f} MB" if rss else None, rss is not None and rss <= 40 * 1024)])
    kids = mem_default.get("children_private") if mem_default else None
    worst = max(kids) if kids else None
    rows.append(["idle pooled child ≤ 8 MB private (default allowlist, worst child)",
                 *_verdict(f"{worst / 1024:.2f} MB" if worst else None, worst is not None and worst <= 8 * 1024)])
    return rows


def _cores(machine):
    """The machine description's online cores, or None."""
    value = dict(machine).get("cores (online)", "")
    return int(value) if value.isdigit() else None


def render(ctx):
    """ctx: dict with keys mode, machine, availability, latency, throughput,
    memory, isolation, notes, snippets, peers, refs, load_end, and optionally
    spaced and rounds."""
    L = [f"# codeexec benchmark — {ctx['date']} on {ctx['host']} ({ctx['mode']} mode)", ""]
    if ctx["mode"] == "quick":
        L += ["> Quick smoke run: few iterations, so p99 is close to the maximum and all "
              "figures are indicative only.", ""]
    L += ["## Machine", ""]
    L += _table(["item", "value"], ctx["machine"] + [("load average at end", ctx["load_end"])])
    L += ["", "## Availability", ""]
    L += _table(["mechanism", "available", "detail (exact error when not)"],
                [[m, "yes" if ok else "**no**", d or ""] for m, ok, d in ctx["availability"]])
    iso = ctx["isolation"]
    L += ["", "codeexec_isolation(): " + (
        iso if isinstance(iso, str) else
        ", ".join(f"{l}={'on' if a else 'OFF'}" for l, a, _ in iso)), ""]
    for label, settings in ctx["settings"]:
        if settings:
            L += [f"settings in phase `{label}`: " +
                  ", ".join(f"`{n}={v}`" for n, v in settings), ""]
    rows, sums = latency_rows(ctx["latency"])
    L += ["## Latency, one client (ms)", "",
          "SQL mechanisms: client-side, persistent connection, `SELECT ... FROM codeexec_run($1)`. "
          "Command-line peers: posix_spawn → read stdout → wait4. `first` is the first call "
          "(not in the percentiles); CPU is per execution (server process tree for SQL, "
          "wait4 rusage for peers).", ""]
    L += _table(["mechanism", "snippet", "n", "first", "p50", "p90", "p99", "mean",
                 "CPU ms/exec", "errors"], rows)
    spaced = []
    for think_ms, group in spaced_groups(ctx.get("spaced") or []):
        spaced_rows, spaced_sums = latency_rows(group)
        spaced.append((think_ms, spaced_sums))
        L += ["", f"## Latency, one client, {think_ms:.0f} ms between calls (ms)", "",
              "`print(1)` as above, with a pause before each call (not timed), as an "
              "interactive client makes; with the fork server, pooled children idle for 5 ms "
              "or more have warmed themselves by then (docs/forkserver.md). The constant SELECT "
              "is the floor of any call through SQL after the same pause. CPU is per "
              "execution.", ""]
        L += _table(["mechanism", "snippet", "n", "first", "p50", "p90", "p99", "mean",
                     "CPU ms/exec", "errors"], spaced_rows)
    L += ["", "## Ratio: peer p50 / codeexec p50", ""]
    L += _table(["snippet", "peer", "peer p50 ms"] + [f"÷ {r}" for r in ctx["refs"]],
                ratio_rows(sums, ctx["snippets"], ctx["peers"], ctx["refs"]))
    rounds = round_figures(ctx["rounds"]) if ctx.get("rounds") else None
    if rounds:
        L += ["", "## print(1) in alternating rounds (ms)", "",
              "Each round times codeexec and every peer one after another, a short cell "
              "each (first call not counted), in the opposite order every other round, so "
              "that both sides of a ratio meet the same host load. `all rounds`: every "
              "round's calls together; `by round`: each round's peer p50 over that round's "
              "codeexec p50, the median round and the range.", ""]
        L += _table(["mechanism", "rounds", "n", "p50", "p90", "p50 of each round (min–max)",
                     "÷ codeexec, all rounds", "÷ codeexec, by round: median (min–max)"],
                    round_rows(rounds))
    L += ["", "## Issue 6 targets (fork-server mode; informative, not a test)", ""]
    L += _table(["target", "this run", "verdict"],
                target_rows(sums, ctx["throughput"], ctx.get("memory_default") or {},
                            spaced, rounds, _cores(ctx["machine"])))
    L += ["", "## Throughput (pgbench, executions/s)", ""]
    L += ["CPU ms/exec: the server's process tree (postmaster and everything under "
          "it); machine: every CPU's busy time over the run, pgbench and the rest "
          "of the machine included (the tree's figure cannot exceed it).", ""]
    L += _table(["mechanism", "snippet", "clients", "tps", "CPU ms/exec",
                 "machine CPU ms/exec", "errors"],
                [[m, s, c, _f(r["tps"], 1), _f(r["cpu_ms_per_exec"]),
                  _f(r.get("machine_cpu_ms_per_exec")), r["error"] or "0"]
                 for m, s, c, r in ctx["throughput"]])
    L += ["", "## Memory", ""] + memory_lines(ctx["memory"])
    if ctx["notes"]:
        L += ["", "## Notes", ""] + [f"- {n}" for n in ctx["notes"]]
    return "\n".join(L) + "\n"
