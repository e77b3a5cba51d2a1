#!/usr/bin/env bash
# What each pair of a query string costs the engine, in instructions: the
# query's count minus the count without that pair (callgrind; per query, the
# difference of 12,001 and 2,001 iterations / 10,000, so profile compilation
# and the first calls' lazy set-up cancel out, and the few hundred
# instructions a process's count moves by from run to run, heap addresses
# most likely, are spread over 10,000 calls: repeat runs agree to some tens
# of instructions).
#   scripts/engine-paircost.sh ['k=v&k2=v2...']   (default: the benchmark's GA4 hit)
#   PAIR_COST_FORMAT=json scripts/engine-paircost.sh '{"k":"v",...}'
# With PAIR_COST_FORMAT=json, each object member at any depth in turn (the
# document is re-serialised compactly, members in their order; needs
# python3). Needs valgrind (apt-get install -y valgrind). ~20 s a pair.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
cargo build -q -p phiguard-engine --release --example pair_cost
bin="${CARGO_TARGET_DIR:-target}/release/examples/pair_cost"
ir() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 >/dev/null |
    grep -o 'Collected : [0-9]*' | grep -o '[0-9]*$'
}
per_run() { local a b; a=$(ir "$1" 2001); b=$(ir "$1" 12001); echo $(((b - a) / 10000)); }
if [ "${PAIR_COST_FORMAT:-}" = json ]; then
  [ $# -ge 1 ] || { echo "PAIR_COST_FORMAT=json needs a document" >&2; exit 2; }
  # Line 1: the whole document; then, per member, its text and the document without it.
  mapfile -t docs < <(python3 - "$1" <<'PY'
import copy, json, sys
doc = json.loads(sys.argv[1])
dump = lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False)
def paths(v, path=()):
    if isinstance(v, dict):
        for k in v:
            yield path + (k,)
            yield from paths(v[k], path + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from paths(x, path + (i,))
print(dump(doc))
for p in paths(doc):
    without = copy.deepcopy(doc)
    parent = without
    for step in p[:-1]:
        parent = parent[step]
    value = parent.pop(p[-1])
    print(dump({p[-1]: value})[1:-1])
    print(dump(without))
PY
  )
  full=$(per_run "${docs[0]}")
  printf '| member | instructions |\n|---|---:|\n| (whole document) | %s |\n' "$full"
  for ((i = 1; i + 1 < ${#docs[@]}; i += 2)); do
    printf '| `%s` | %s |\n' "${docs[$i]}" $((full - $(per_run "${docs[$((i + 1))]}")))
  done
  exit 0
fi
query=${1:-$("$bin" --print-default)}
full=$(per_run "$query")
printf '| pair | instructions |\n|---|---:|\n| (whole query) | %s |\n' "$full"
IFS='&' read -ra pairs <<<"$query"
for i in "${!pairs[@]}"; do
  rest=$(printf '%s\n' "${pairs[@]}" | sed "$((i + 1))d" | paste -sd'&')
  printf '| `%s` | %s |\n' "${pairs[$i]}" $((full - $(per_run "$rest")))
done
