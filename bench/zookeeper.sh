#!/usr/bin/env bash
# ZooKeeper client throughput: TypedCache vs the official Java client vs kazoo, side by side against one real
# 3-member ensemble; prints ops/s and ratios. Arguments: [seconds per run (5)] [rounds, best kept (3)].
set -euo pipefail
cd "$(dirname "$0")/.."
exec dotnet run -c Release --project bench/ZooKeeperBench -- "$@"
