"""Throughput of kazoo's async API, for bench/ZooKeeperBench: getData or setData with a fixed number of
requests in flight. Usage: /usr/bin/python3 kazoo_bench.py <hosts> <path> <get|set> <inFlight> <seconds>
Prints one line: ops/s."""
import sys
import threading
import time

from kazoo.client import KazooClient


def main():
    hosts, path, op, in_flight, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    zk = KazooClient(hosts=hosts, timeout=10.0)
    zk.start()
    data = b"x" * 100
    slots = threading.Semaphore(in_flight)
    done = [0]
    lock = threading.Lock()

    def completed(result):
        result.get()
        with lock:
            done[0] += 1
        slots.release()

    def run(until):
        while time.monotonic() < until:
            slots.acquire()
            result = zk.set_async(path, data) if op == "set" else zk.get_async(path)
            result.rawlink(completed)
        for _ in range(in_flight):
            slots.acquire()
        for _ in range(in_flight):
            slots.release()

    run(time.monotonic() + 1.0)
    done[0] = 0
    start = time.monotonic()
    run(start + seconds)
    print("%.0f" % (done[0] / (time.monotonic() - start)))
    zk.stop()
    zk.close()


if __name__ == "__main__":
    main()
