#!/usr/bin/env bash
# Invalidation propagation across processes, side by side in one run.
#
#   bench/propagation.sh [BASE_REF] [ROUNDS] [KEYS]
#
# Runs `engine-propagation` (bench/TypedCache.Benchmarks) on a standalone ZooKeeper and on a 3-member ensemble, ROUNDS
# times each (default 2), KEYS samples per run (default 500). With BASE_REF (a commit that has the benchmark's trace
# hook, IEventLogTrace), the same benchmark source is also built against BASE_REF's runtime in a temporary directory,
# and the two builds run alternately, so "before" and "after" share the machine's load.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:-}"
rounds="${2:-2}"
keys="${3:-500}"

dotnet build bench/TypedCache.Benchmarks -c Release -v quiet -nologo >/dev/null
builds=("current:$PWD")
if [[ -n "$base" ]]; then
    dir="$(mktemp -d /tmp/typedcache-propagation-base.XXXXXX)"
    trap 'rm -rf "$dir"' EXIT
    git archive "$base" | tar -x -C "$dir"
    cp bench/TypedCache.Benchmarks/Caching/PropagationBenchmark.cs "$dir/bench/TypedCache.Benchmarks/Caching/"
    cp bench/TypedCache.Benchmarks/Program.cs "$dir/bench/TypedCache.Benchmarks/"
    dotnet build "$dir/bench/TypedCache.Benchmarks" -c Release -v quiet -nologo >/dev/null
    builds=("base $base:$dir" "${builds[@]}")
fi

for members in 1 3; do
    for round in $(seq 1 "$rounds"); do
        for build in "${builds[@]}"; do
            echo "== ${build%%:*}, ZooKeeper members $members, round $round ($(uptime | sed 's/.*load/load/'))"
            "${build#*:}/bench/TypedCache.Benchmarks/bin/Release/net10.0/TypedCache.Benchmarks" \
                engine-propagation --services 2 --keys "$keys" --members "$members"
        done
    done
done
