"""Synthetic packed binary codes for the side-by-side search benchmark (uint8 .npy, N x K/8, FAISS layout).

uniform:   every bit independent and uniform (the worst case for any index: near neighbours are far).
clustered: N/100 random centres; a code is a uniformly chosen centre with each bit flipped with probability
           2^-5 (the AND of five random bit strings), like learned hash codes of images of one place.
Queries are drawn the same way (clustered queries share the database's centres) with a different seed.
The C# library's SyntheticCodes implements the same distributions.
"""
import os
import numpy as np

FLIP_EXPONENT = 5
CLUSTER_SIZE = 100
CHUNK = 1 << 20


def _random_bytes(rng, rows, nbytes):
    return rng.integers(0, 256, size=(rows, nbytes), dtype=np.uint8)


def generate(n, bits, kind, seed, centre_seed=12345):
    nbytes = bits // 8
    rng = np.random.default_rng(seed)
    out = np.empty((n, nbytes), dtype=np.uint8)
    if kind == "uniform":
        for s in range(0, n, CHUNK):
            e = min(n, s + CHUNK)
            out[s:e] = _random_bytes(rng, e - s, nbytes)
        return out
    raise ValueError(f"unknown kind {kind}")


def clustered(n, bits, clusters, seed, centre_seed):
    nbytes = bits // 8
    centres = _random_bytes(np.random.default_rng(centre_seed), clusters, nbytes)
    rng = np.random.default_rng(seed)
    out = np.empty((n, nbytes), dtype=np.uint8)
    for s in range(0, n, CHUNK):
        e = min(n, s + CHUNK)
        assign = rng.integers(0, clusters, size=e - s)
        flips = np.full((e - s, nbytes), 255, dtype=np.uint8)
        for _ in range(FLIP_EXPONENT):
            flips &= _random_bytes(rng, e - s, nbytes)
        out[s:e] = centres[assign] ^ flips
    return out


def ensure(directory, n, bits, kind, queries):
    """Writes db.npy and q.npy for one configuration unless present; returns their paths."""
    os.makedirs(directory, exist_ok=True)
    db_path = os.path.join(directory, "db.npy")
    q_path = os.path.join(directory, "q.npy")
    if not (os.path.exists(db_path) and os.path.exists(q_path)):
        if kind == "uniform":
            db = generate(n, bits, "uniform", seed=1)
            q = generate(queries, bits, "uniform", seed=2)
        else:
            clusters = max(1, n // CLUSTER_SIZE)
            db = clustered(n, bits, clusters, seed=1, centre_seed=12345)
            q = clustered(queries, bits, clusters, seed=2, centre_seed=12345)
        for path, arr in ((db_path, db), (q_path, q)):
            tmp = path + ".tmp.npy"
            np.save(tmp, arr)
            os.replace(tmp, path)
    return db_path, q_path
