#!/usr/bin/env bash
# The proxy benchmark: starts 3 memcached, nutcracker (twemproxy, ketama over the same 3) and the TypedCache proxy
# (static list of the same 3) on free loopback ports, then runs memcaslap against each proxy in alternating rounds
# and prints each run's throughput, the CPU time the proxy used per request (user + system, from /proc), and the
# median ratio proxy / nutcracker. memcaslap keeps a fixed number of requests in flight (one per connection), so the
# mean latency is connections / throughput (Little's law): printed too.
# Usage: bench/proxy.sh [seconds per run, default 5] [rounds, default 3] [memcaslap connections, default 32]
# PROXY_ARGS="--idle-timeout 0 ..." passes more options to typedcache proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
rounds=${2:-3}
conns=${3:-32}
dotnet build src/Cli -c Release -nologo -v quiet -clp:NoSummary >/dev/null

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; exit 1; }

servers=()
for _ in 1 2 3; do
    port=$(free_port)
    memcached -u "$(id -un)" -l 127.0.0.1 -p "$port" -m 64 -t 1 & pids+=($!)
    servers+=("127.0.0.1:$port")
done

nutport=$(free_port)
{
    echo "bench:"
    echo "  listen: 127.0.0.1:$nutport"
    echo "  hash: md5"
    echo "  distribution: ketama"
    echo "  timeout: 1000"
    echo "  servers:"
    for s in "${servers[@]}"; do echo "   - $s:1"; done
} >"$work/nutcracker.yml"
nutcracker -c "$work/nutcracker.yml" -s "$(free_port)" -o "$work/nutcracker.log" & pids+=($!)
nutpid=$!

proxyport=$(free_port)
dotnet src/Cli/bin/Release/net10.0/TypedCache.Cli.dll proxy --listen "127.0.0.1:$proxyport" --compat twemproxy-md5 \
    --memcached "$(IFS=,; echo "${servers[*]}")" ${PROXY_ARGS:-} >"$work/proxy.log" 2>&1 & pids+=($!)
proxypid=$!

for s in "${servers[@]}"; do wait_port "${s##*:}"; done
wait_port "$nutport"
wait_port "$proxyport"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system time of PID $1, in clock ticks
run() {  # prints "TPS CPU-microseconds-per-request" of one memcaslap run against port $1 served by PID $2
    local before after out
    before=$(cpu_ticks "$2")
    out=$(memcaslap -s "127.0.0.1:$1" -t "${seconds}s" -T 2 -c "$conns" 2>&1)
    after=$(cpu_ticks "$2")
    echo "$out" | sed -n 's/.*Ops: \([0-9]*\).*TPS: \([0-9]*\).*/\1 \2/p' | tail -1 |
        awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" '{printf "%d %.1f\n", $2, t * 1e6 / hz / $1}'
}
run "$proxyport" "$proxypid" >/dev/null   # warm-up (JIT)
run "$nutport" "$nutpid" >/dev/null
proxy_tps=()
nut_tps=()
ratios=()
proxy_cpu=()
nut_cpu=()
for round in $(seq "$rounds"); do
    read -r p pcpu < <(run "$proxyport" "$proxypid"); read -r n ncpu < <(run "$nutport" "$nutpid")
    proxy_tps+=("$p"); nut_tps+=("$n"); proxy_cpu+=("$pcpu"); nut_cpu+=("$ncpu")
    r=$(awk -v a="$p" -v b="$n" 'BEGIN {printf "%.2f", a/b}')
    ratios+=("$r")
    echo "round $round: typedcache proxy $p ops/s ($pcpu us CPU per request), nutcracker $n ops/s ($ncpu us), ratio ${r}x"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mp=$(median "${proxy_tps[@]}"); mn=$(median "${nut_tps[@]}")
latency() { awk -v c="$conns" -v t="$1" 'BEGIN {printf "%.0f", c * 1e6 / t}'; }
echo "median: typedcache proxy $mp ops/s (mean latency $(latency "$mp") us), nutcracker $mn ops/s ($(latency "$mn") us), ratio $(awk -v a="$mp" -v b="$mn" 'BEGIN {printf "%.2f", a/b}')x; median of the rounds' ratios $(median "${ratios[@]}")x"
echo "median CPU per request: typedcache proxy $(median "${proxy_cpu[@]}") us, nutcracker $(median "${nut_cpu[@]}") us"
