"""Side-by-side exact Hamming k-NN benchmark: the toolkit's `mlh bench` (linear scan, multi-index hashing) against
FAISS IndexBinaryFlat and IndexBinaryMultiHash on the same .npy code files, in the same run.

Writes a markdown table (queries per second and ratios) and the raw rows as TSV. Run through compare.sh, which
builds `mlh` first. Requires Debian's python3-faiss (run with /usr/bin/python3).
"""
import argparse
import datetime
import os
import platform
import subprocess
import sys
import time

import numpy as np
import faiss

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import codes  # noqa: E402


def choose_substrings(n, bits):
    """Same rule as MultiIndexHashing.ChooseSubstringCount: m = ceil(K / floor(log2 N)), substrings <= 31 bits."""
    log2 = max(1.0, min(31.0, float(np.floor(np.log2(max(2, n))))))
    return int(min(bits, max(1, int(np.ceil(bits / log2)))))


def run_ours(mlh, db, q, ks, threads, methods, tsv, distances_out, env):
    cmd = [mlh, "bench", "search", "--database", db, "--queries", q, "--k", ",".join(map(str, ks)),
           "--threads", ",".join(map(str, threads)), "--methods", ",".join(methods), "--output", tsv,
           "--save-distances", distances_out]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    rows = []
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) >= 14 and f[0] == "ours":
            rows.append(dict(engine="ours", method=f[1], n=int(f[3]), bits=int(f[4]), queries=int(f[5]), k=int(f[6]),
                             threads=int(f[7]), build=float(f[8]), seconds=float(f[9]), qps=float(f[10]),
                             by_index=int(f[11]), identical=f[12], index_bytes=int(f[13])))
    return rows


def time_faiss(index, q, k, threads):
    faiss.omp_set_num_threads(threads)
    t = time.perf_counter()
    d, i = index.search(q, k)
    return time.perf_counter() - t, d, i


def exact_rows(d, exact):
    """Fraction of queries whose k returned distances equal the exact k nearest distances."""
    return float(np.mean(np.all(d == exact, axis=1)))


# The committed report, and the table of its rows that notebook 08 reads (the published results live under notebooks/results).
DEFAULT_REPORT = "tests/MultiLevelHashing.Benchmarks/results/search.md"
DEFAULT_TABLE = "notebooks/results/benchmarks/search.tsv"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mlh", required=True)
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--bits", default="64,256")
    ap.add_argument("--kinds", default="uniform,clustered")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--k", default="1,10,100")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--nflip", type=int, default=2, help="IndexBinaryMultiHash: bits flipped per hash table")
    ap.add_argument("--slow-queries", type=int, default=200,
                    help="queries timed for FAISS IndexBinaryFlat where N*K >= 10M*256 (the slowest runs)")
    ap.add_argument("--work", default="data/generated/search-bench")
    ap.add_argument("--output", default=DEFAULT_REPORT)
    ap.add_argument("--table", default=None,
                    help=f"rows as TSV (default: {DEFAULT_TABLE}, which notebook 08 reads, with the default --output; "
                         "else beside --output)")
    ap.add_argument("--command", default="tests/MultiLevelHashing.Benchmarks/faiss/compare.sh")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    bits_list = [int(x) for x in a.bits.split(",")]
    kinds = a.kinds.split(",")
    ks = [int(x) for x in a.k.split(",")]
    threads = [int(x) for x in a.threads.split(",")]
    env = dict(os.environ)
    started = time.time()
    load_before = os.getloadavg()
    rows = []
    memory = []
    for n in sizes:
        for bits in bits_list:
            for kind in kinds:
                cfg = f"n{n}-k{bits}-{kind}"
                d = os.path.join(a.work, cfg)
                print(f"[{time.time() - started:7.1f}s] {cfg}: codes", flush=True)
                db_path, q_path = codes.ensure(d, n, bits, kind, a.queries)
                tsv = os.path.join(d, "ours.tsv")
                if os.path.exists(tsv):
                    os.remove(tsv)
                ours_d_path = os.path.join(d, "ours-distances.npy")
                print(f"[{time.time() - started:7.1f}s] {cfg}: ours", flush=True)
                ours = run_ours(a.mlh, db_path, q_path, ks, threads, ["scan", "mih"], tsv, ours_d_path, env)
                for r in ours:
                    r["kind"] = kind
                rows += ours
                exact = np.load(ours_d_path)  # exact distances at max(k), all queries
                db = np.load(db_path)
                q = np.load(q_path)
                # FAISS IndexBinaryFlat
                print(f"[{time.time() - started:7.1f}s] {cfg}: faiss flat", flush=True)
                nq = a.slow_queries if n * bits >= 10_000_000 * 256 else len(q)
                flat = faiss.IndexBinaryFlat(bits)
                flat.add(db)
                for t in threads:
                    for k in ks:
                        s, dist, _ = time_faiss(flat, q[:nq], k, t)
                        agree = exact_rows(dist, exact[:nq, :k])
                        rows.append(dict(engine="faiss", method="flat", kind=kind, n=n, bits=bits, queries=nq, k=k, threads=t,
                                         build=0.0, seconds=s, qps=nq / s, exact=agree))
                        if agree < 1.0:
                            print(f"  warning: IndexBinaryFlat distances differ from ours on {1 - agree:.3%} of queries", flush=True)
                del flat
                # FAISS IndexBinaryMultiHash with the same number of substrings
                print(f"[{time.time() - started:7.1f}s] {cfg}: faiss multihash", flush=True)
                m = choose_substrings(n, bits)
                b = bits // m
                mh = faiss.IndexBinaryMultiHash(bits, m, b)
                mh.nflip = a.nflip
                t0 = time.perf_counter()
                mh.add(db)
                mh_build = time.perf_counter() - t0
                for t in threads:
                    for k in ks:
                        s, dist, _ = time_faiss(mh, q, k, t)
                        rows.append(dict(engine="faiss", method="multihash", kind=kind, n=n, bits=bits, queries=len(q), k=k,
                                         threads=t, build=mh_build, seconds=s, qps=len(q) / s,
                                         exact=exact_rows(dist, exact[:, :k]), nhash=m, b=b))
                del mh, db, q
                mih_bytes = max((r["index_bytes"] for r in ours if r["method"] == "mih"), default=0)
                memory.append(dict(n=n, bits=bits, kind=kind, raw=n * bits // 8 + 8 * n, tables=mih_bytes, m=m))
                write(a, rows, memory, started, load_before)
    write(a, rows, memory, started, load_before)
    print(f"wrote {a.output}")


def write(a, rows, memory, started, load_before):
    os.makedirs(os.path.dirname(a.output), exist_ok=True)
    tsv_path = a.table or (DEFAULT_TABLE if a.output == DEFAULT_REPORT else os.path.splitext(a.output)[0] + ".tsv")
    os.makedirs(os.path.dirname(tsv_path) or ".", exist_ok=True)
    keys = ["engine", "method", "kind", "n", "bits", "queries", "k", "threads", "build", "seconds", "qps", "by_index", "identical", "exact"]
    with open(tsv_path + ".tmp", "w") as f:
        f.write("\t".join(keys) + "\n")
        for r in rows:
            f.write("\t".join(str(r.get(k, "")) for k in keys) + "\n")
    os.replace(tsv_path + ".tmp", tsv_path)

    def get(engine, method, kind, n, bits, k, t):
        for r in rows:
            if (r["engine"], r["method"], r["kind"], r["n"], r["bits"], r["k"], r["threads"]) == (engine, method, kind, n, bits, k, t):
                return r
        return None

    def fmt(x):
        return "–" if x is None else (f"{x:,.0f}" if x >= 100 else f"{x:,.1f}")

    lines = []
    lines.append("# Exact Hamming k-NN: ours against FAISS\n")
    lines.append("Regenerate (from the repository root; takes tens of minutes at full size):\n")
    lines.append("```\n" + a.command + "\n```\n")
    lines.append(f"Measured {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} on {platform.processor() or platform.machine()}, "
                 f"{os.cpu_count()} logical cores; FAISS {faiss.__version__} (Debian python3-faiss). Load average at start: "
                 f"{load_before[0]:.1f} (the machine is shared, so absolute numbers are noisy; both engines ran one after the other in the same run "
                 f"on the same files). Wall time {time.time() - started:.0f} s.\n")
    lines.append("Codes: `uniform` = independent random bits (no index can beat a scan there; our multi-index search "
                 "detects it on a sample of the batch and scans); `clustered` = N/100 random centres, each bit flipped with "
                 "probability 1/32. Queries are fresh draws from the same distribution. k-NN is exact for ours (scan and "
                 "multi-index return identical ids, ties by lower index, checked on every run) and for IndexBinaryFlat; "
                 f"IndexBinaryMultiHash (same number of hash tables, nflip = {a.nflip}) is approximate: its column "
                 "'exact rows' is the fraction of queries whose k distances equal the exact ones.\n")
    lines.append("q/s = queries per second (search only, index built beforehand). Ratios > 1 mean ours is faster.\n")
    lines.append("| N | K | codes | k | threads | ours scan q/s | FAISS Flat q/s | scan / Flat | ours MIH q/s | answered by index | FAISS MultiHash q/s | exact rows | MIH / MultiHash | MIH / our scan |")
    lines.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    seen = sorted({(r["n"], r["bits"], r["kind"]) for r in rows}, key=lambda x: (x[0], x[1], x[2] != "uniform"))
    ks = sorted({r["k"] for r in rows})
    ts = sorted({r["threads"] for r in rows})
    for (n, bits, kind) in seen:
        for t in ts:
            for k in ks:
                sc = get("ours", "scan", kind, n, bits, k, t)
                mi = get("ours", "mih", kind, n, bits, k, t)
                fl = get("faiss", "flat", kind, n, bits, k, t)
                mh = get("faiss", "multihash", kind, n, bits, k, t)
                if sc is None:
                    continue
                flq = None if fl is None else fl["qps"]
                fl_note = "" if fl is None or fl["queries"] == sc["queries"] else f" ({fl['queries']} q)"
                cells = [f"{n:,}", str(bits), kind, str(k), str(t), fmt(sc["qps"]), fmt(flq) + fl_note,
                         "–" if flq is None else f"{sc['qps'] / flq:.2f}",
                         fmt(None if mi is None else mi["qps"]),
                         "–" if mi is None else f"{mi['by_index']}/{mi['queries']}",
                         fmt(None if mh is None else mh["qps"]),
                         "–" if mh is None else f"{mh['exact']:.0%}",
                         "–" if mi is None or mh is None else f"{mi['qps'] / mh['qps']:.2f}",
                         "–" if mi is None else f"{mi['qps'] / sc['qps']:.1f}"]
                lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Multi-index memory (our tables, excluding the codes they index) against raw codes plus int64 ids:\n")
    lines.append("| N | K | codes | substrings m | raw codes + ids (MB) | MIH tables (MB) | tables / raw |")
    lines.append("|---:|---:|---|---:|---:|---:|---:|")
    for mem in memory:
        lines.append(f"| {mem['n']:,} | {mem['bits']} | {mem['kind']} | {mem['m']} | {mem['raw'] / 1e6:,.0f} | "
                     f"{mem['tables'] / 1e6:,.0f} | {mem['tables'] / mem['raw']:.2f} |")
    lines.append("")
    builds = sorted({(r["n"], r["bits"], r["kind"], r["engine"], r["method"], r["build"]) for r in rows if r["build"] > 0})
    if builds:
        lines.append("Index build seconds: " + "; ".join(f"{e} {m} N={n:,} K={b} {kd}: {s:.1f}" for (n, b, kd, e, m, s) in builds) + ".\n")
    with open(a.output + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(a.output + ".tmp", a.output)


if __name__ == "__main__":
    main()
