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


def run_ours(mlh, db, q, ks, threads, methods, tsv, distances_out, ids_out, repeats, env):
    cmd = [mlh, "bench", "search", "--database", db, "--queries", q, "--k", ",".join(map(str, ks)),
           "--threads", ",".join(map(str, threads)), "--methods", ",".join(methods), "--output", tsv,
           "--save-distances", distances_out, "--save-ids", ids_out, "--repeats", str(repeats), "--popcount-bound"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    rows = []
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) >= 15 and f[0] == "ours":
            rows.append(dict(engine="ours", method=f[1], n=int(f[3]), bits=int(f[4]), queries=int(f[5]), k=int(f[6]),
                             threads=int(f[7]), build=float(f[8]), seconds=float(f[9]), qps=float(f[10]),
                             by_index=int(f[11]), identical=f[12], index_bytes=int(f[13]), runs=f[14]))
    return rows


def time_faiss(index, q, k, threads, repeats):
    """Median of `repeats` timed searches (the same statistic as ours), with the last run's results."""
    faiss.omp_set_num_threads(threads)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        d, i = index.search(q, k)
        times.append(time.perf_counter() - t)
    return float(np.median(times)), d, i, times


def same_neighbours(d, i, exact_d, exact_i):
    """Fraction of queries whose (distance, id) pairs equal ours as sets: the same neighbours, whatever the order of ties."""
    same = 0
    for r in range(d.shape[0]):
        same += sorted(zip(d[r].tolist(), i[r].tolist())) == sorted(zip(exact_d[r].tolist(), exact_i[r].tolist()))
    return same / d.shape[0]


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
    ap.add_argument("--nflip", default="2",
                    help="IndexBinaryMultiHash: bits flipped per hash table; a comma-separated list times each (the first fills the main table)")
    ap.add_argument("--skip-flat", action="store_true", help="do not time FAISS IndexBinaryFlat (for a multi-index study at large N)")
    ap.add_argument("--slow-queries", type=int, default=200,
                    help="queries timed for FAISS IndexBinaryFlat where N*K >= 10M*256 (the slowest runs)")
    ap.add_argument("--work", default="data/generated/search-bench")
    ap.add_argument("--output", default=DEFAULT_REPORT)
    ap.add_argument("--table", default=None,
                    help=f"rows as TSV (default: {DEFAULT_TABLE}, which notebook 08 reads, with the default --output; "
                         "else beside --output)")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per line on both sides; the median counts")
    ap.add_argument("--command", default="tests/MultiLevelHashing.Benchmarks/faiss/compare.sh")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    bits_list = [int(x) for x in a.bits.split(",")]
    kinds = a.kinds.split(",")
    ks = [int(x) for x in a.k.split(",")]
    threads = [int(x) for x in a.threads.split(",")]
    nflips = [int(x) for x in a.nflip.split(",")]
    radii = []
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
                ours_i_path = os.path.join(d, "ours-ids.npy")
                print(f"[{time.time() - started:7.1f}s] {cfg}: ours", flush=True)
                ours = run_ours(a.mlh, db_path, q_path, ks, threads, ["scan", "mih"], tsv, ours_d_path, ours_i_path, a.repeats, env)
                for r in ours:
                    r["kind"] = kind
                rows += ours
                exact = np.load(ours_d_path)  # exact distances at max(k), all queries
                exact_ids = np.load(ours_i_path)
                db = np.load(db_path)
                q = np.load(q_path)
                # FAISS IndexBinaryFlat
                print(f"[{time.time() - started:7.1f}s] {cfg}: faiss flat", flush=True)
                nq = a.slow_queries if n * bits >= 10_000_000 * 256 else len(q)
                flat = faiss.IndexBinaryFlat(bits)
                flat.add(db)
                for t in ([] if a.skip_flat else threads):
                    for k in ks:
                        # The slowest configurations are timed once; the rest take the median of --repeats.
                        s, dist, ids, runs = time_faiss(flat, q[:nq], k, t, 1 if nq < len(q) else a.repeats)
                        agree = exact_rows(dist, exact[:nq, :k])
                        same = same_neighbours(dist, ids, exact[:nq, :k], exact_ids[:nq, :k]) if k == max(ks) else None
                        rows.append(dict(engine="faiss", method="flat", kind=kind, n=n, bits=bits, queries=nq, k=k, threads=t,
                                         build=0.0, seconds=s, qps=nq / s, exact=agree, same_ids=same,
                                         runs=",".join(f"{x:.6g}" for x in runs)))
                        if agree < 1.0:
                            print(f"  warning: IndexBinaryFlat distances differ from ours on {1 - agree:.3%} of queries", flush=True)
                del flat
                # FAISS IndexBinaryMultiHash with the same number of substrings
                print(f"[{time.time() - started:7.1f}s] {cfg}: faiss multihash", flush=True)
                m = choose_substrings(n, bits)
                b = bits // m
                mh = faiss.IndexBinaryMultiHash(bits, m, b)
                t0 = time.perf_counter()
                mh.add(db)
                mh_build = time.perf_counter() - t0
                for flip_index, nflip in enumerate(nflips):
                    mh.nflip = nflip
                    for t in threads:
                        for k in ks:
                            s, dist, _, runs = time_faiss(mh, q, k, t, a.repeats)
                            rows.append(dict(engine="faiss", method="multihash" if flip_index == 0 else f"multihash-nflip{nflip}",
                                             kind=kind, n=n, bits=bits, queries=len(q), k=k,
                                             threads=t, build=mh_build, seconds=s, qps=len(q) / s, nflip=nflip,
                                             exact=exact_rows(dist, exact[:, :k]), nhash=m, b=b, runs=",".join(f"{x:.6g}" for x in runs)))
                # How far the k-th neighbour is: the radius an exact multi-index search must cover.
                kth = exact[:, max(ks) - 1]
                radii.append(dict(n=n, bits=bits, kind=kind, k=max(ks), m=m,
                                  quantiles=[int(np.percentile(kth, p)) for p in (10, 25, 50, 75, 90)]))
                del mh, db, q
                mih_bytes = max((r["index_bytes"] for r in ours if r["method"] == "mih"), default=0)
                memory.append(dict(n=n, bits=bits, kind=kind, raw=n * bits // 8 + 8 * n, tables=mih_bytes, m=m))
                write(a, rows, memory, started, load_before, nflips, radii)
    write(a, rows, memory, started, load_before, nflips, radii)
    print(f"wrote {a.output}")


# The aims of the scan (method README section 4.4): at 1M x 64 bits, k = 100, with the most threads measured.
AIM_N, AIM_BITS, AIM_K, AIM_FLAT, AIM_BOUND = 1_000_000, 64, 100, 8.0, 1.5


def aim_lines(rows, get, fmt):
    """The scan against FAISS IndexBinaryFlat and against the popcount bound, per code kind, at the aims' configuration."""
    bounds = [r for r in rows if r["engine"] == "ours" and r["method"] == "popcount-bound"]
    if not bounds:
        return []
    out = ["## The scan against FAISS IndexBinaryFlat and the popcount bound\n",
           "The popcount bound is the time this CPU needs only to compute every query-code distance: XOR, population count "
           "(scalar POPCNT or the AVX2 nibble lookup, whichever is faster) and one addition per distance, over codes already in "
           "the L1 cache, with no selection of the nearest; every thread runs it at once, so threads that share a core's units "
           "are measured sharing them (`mlh bench search --popcount-bound`, `MultiLevelHashing.Benchmarks.PopcountBound`). "
           "'same neighbours' is the fraction of queries for which FAISS returns the same (distance, id) pairs as ours, "
           "whatever the order among equal distances. The bound is a best case (each kernel's fastest round), so the scan's "
           "fastest run is set against it; the comparison with FAISS is of medians.\n",
           "| N | K | codes | k | threads | popcount bound s | ours scan s, median (fastest) | fastest scan / bound | FAISS Flat s, median | Flat / scan, medians | same neighbours | aims (Flat / scan >= 8, scan / bound <= 1.5) |",
           "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for b in sorted(bounds, key=lambda r: (r["n"], r["bits"], r["kind"] != "uniform", r["threads"])):
        for k in sorted({r["k"] for r in rows if r["engine"] == "ours" and r["method"] == "scan"}):
            if k != AIM_K and (b["n"], b["bits"]) == (AIM_N, AIM_BITS):
                continue
            sc = get("ours", "scan", b["kind"], b["n"], b["bits"], k, b["threads"])
            fl = get("faiss", "flat", b["kind"], b["n"], b["bits"], k, b["threads"])
            if sc is None:
                continue
            flat_ratio = None if fl is None else (fl["seconds"] / fl["queries"]) / (sc["seconds"] / sc["queries"])
            # The bound is a best case (each kernel's fastest round), so the scan's fastest run is set against it.
            fastest = min(float(x) for x in sc["runs"].split(","))
            bound_ratio = fastest / (b["seconds"] * sc["queries"] / b["queries"])
            aim = ""
            if (b["n"], b["bits"], k) == (AIM_N, AIM_BITS, AIM_K):
                parts = []
                if flat_ratio is not None:
                    parts.append("met" if flat_ratio >= AIM_FLAT else f"missed by {(AIM_FLAT / flat_ratio - 1):.1%}")
                parts.append("met" if bound_ratio <= AIM_BOUND else f"missed by {(bound_ratio / AIM_BOUND - 1):.1%}")
                aim = "; ".join(parts)
            same = None if fl is None else fl.get("same_ids")
            # FAISS's time scaled to our query count (the slowest configurations time fewer queries).
            flat_s = None if fl is None else fl["seconds"] * sc["queries"] / fl["queries"]
            cells = [f"{b['n']:,}", str(b["bits"]), b["kind"], str(k), str(b["threads"]), f"{b['seconds']:.3f}", f"{sc['seconds']:.3f} ({fastest:.3f})",
                     f"{bound_ratio:.2f}", "–" if flat_s is None else f"{flat_s:.3f}", "–" if flat_ratio is None else f"{flat_ratio:.2f}",
                     "–" if same is None else f"{same:.0%}", aim or "–"]
            out.append("| " + " | ".join(cells) + " |")
    out.append("")
    return out


def multihash_lines(rows, get, nflips, radii):
    """Exact multi-index hashing (ours) against IndexBinaryMultiHash at each nflip: speed at the recall each reaches."""
    out = ["## Multi-index hashing: ours (exact) against IndexBinaryMultiHash by nflip\n",
           "IndexBinaryMultiHash probes every code within nflip bits of each substring of the query, so its recall grows "
           "with nflip and its speed falls; ours is exact at any k, and answers from the index only when the k-th neighbour "
           "is near enough for the probes to cost less than a scan (otherwise it scans). 'exact rows' = fraction of queries "
           "whose k distances equal the exact ones.\n",
           "| N | K | codes | k | threads | ours MIH q/s (exact) | answered by index | " +
           " | ".join(f"MultiHash nflip {f} q/s (exact rows)" for f in nflips) + " |",
           "|---:|---:|---|---:|---:|---:|---:|" + "---:|" * len(nflips)]
    for (n, bits, kind) in sorted({(r["n"], r["bits"], r["kind"]) for r in rows}):
        for t in sorted({r["threads"] for r in rows if r["threads"]}):
            for k in sorted({r["k"] for r in rows if r["k"]}):
                mi = get("ours", "mih", kind, n, bits, k, t)
                if mi is None:
                    continue
                cells = [f"{n:,}", str(bits), kind, str(k), str(t), f"{mi['qps']:,.0f}", f"{mi['by_index']}/{mi['queries']}"]
                for i, f in enumerate(nflips):
                    mh = get("faiss", "multihash" if i == 0 else f"multihash-nflip{f}", kind, n, bits, k, t)
                    cells.append("–" if mh is None else f"{mh['qps']:,.0f} ({mh['exact']:.0%})")
                out.append("| " + " | ".join(cells) + " |")
    out.append("")
    if radii:
        out.append("How far the k-th neighbour is (Hamming distance, from the exact results; m substrings): an exact "
                   "multi-index search over m substrings must probe every substring value within floor(r/m) bits for a "
                   "k-th distance r, which for r near K/2 costs more than scanning.\n")
        out.append("| N | K | codes | k | m | k-th distance: 10th, 25th, 50th, 75th, 90th percentile |")
        out.append("|---:|---:|---|---:|---:|---|")
        for r in radii:
            out.append(f"| {r['n']:,} | {r['bits']} | {r['kind']} | {r['k']} | {r['m']} | {', '.join(map(str, r['quantiles']))} |")
        out.append("")
    return out


def write(a, rows, memory, started, load_before, nflips, radii):
    os.makedirs(os.path.dirname(a.output), exist_ok=True)
    tsv_path = a.table or (DEFAULT_TABLE if a.output == DEFAULT_REPORT else os.path.splitext(a.output)[0] + ".tsv")
    os.makedirs(os.path.dirname(tsv_path) or ".", exist_ok=True)
    keys = ["engine", "method", "kind", "n", "bits", "queries", "k", "threads", "build", "seconds", "qps", "by_index", "identical", "exact",
            "same_ids", "nflip", "runs"]
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
                 f"IndexBinaryMultiHash (same number of hash tables, nflip = {nflips[0]}) is approximate: its column "
                 "'exact rows' is the fraction of queries whose k distances equal the exact ones.\n")
    lines.append(f"q/s = queries per second (search only, index built beforehand), the median of {a.repeats} timed runs on each side "
                 "(FAISS IndexBinaryFlat at N*K >= 10M*256 is timed once). Ratios > 1 mean ours is faster.\n")
    aims = aim_lines(rows, get, fmt)
    if aims:
        lines += aims
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
    if len(nflips) > 1:
        lines += multihash_lines(rows, get, nflips, radii)
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
