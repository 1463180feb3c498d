#!/usr/bin/env bash
# Side-by-side benchmark of exact Hamming k-NN: `mlh bench` against FAISS IndexBinaryFlat / IndexBinaryMultiHash.
# Needs Debian's python3-faiss (apt-get install python3-faiss). Extra arguments go to compare.py, e.g.
#   tests/MultiLevelHashing.Benchmarks/faiss/compare.sh --sizes 1000000 --output /tmp/search.md
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
dotnet build lib/MultiLevelHashing.Cli -c Release -v quiet -nologo >/dev/null
exec /usr/bin/python3 tests/MultiLevelHashing.Benchmarks/faiss/compare.py \
  --mlh "$root/lib/MultiLevelHashing.Cli/bin/Release/net10.0/mlh" "$@"
