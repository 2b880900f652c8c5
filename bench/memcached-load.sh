#!/usr/bin/env bash
# The memcached client load run: starts one memcached on a free loopback port and measures, side by side,
# TypedCache's client against pylibmc (one get at a time, get_multi of 64) and memcaslap (64 connections),
# 100-byte values, alternating rounds. Prints the medians and their ratio.
# Usage: bench/memcached-load.sh [seconds per measurement, default 3] [rounds, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/TypedCache.Benchmarks -c Release -nologo -v quiet -clp:NoSummary >/dev/null
exec dotnet bench/TypedCache.Benchmarks/bin/Release/net10.0/TypedCache.Benchmarks.dll memcached-load "${1:-3}" "${2:-3}"
