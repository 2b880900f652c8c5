// Throughput of the official ZooKeeper Java client, for bench/ZooKeeperBench: getData or setData with a fixed
// number of requests in flight. Usage: java ZkJavaBench <connectString> <path> <get|set> <inFlight> <seconds>
// Prints one line: ops/s.
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.ZooKeeper;

public final class ZkJavaBench {
    public static void main(String[] args) throws Exception {
        String connect = args[0];
        String path = args[1];
        boolean set = args[2].equals("set");
        int inFlight = Integer.parseInt(args[3]);
        long seconds = Long.parseLong(args[4]);
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, 10000, e -> {
            if (e.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        connected.await(10, TimeUnit.SECONDS);
        byte[] data = new byte[100];
        Semaphore slots = new Semaphore(inFlight);
        AtomicLong done = new AtomicLong();
        AsyncCallback.DataCallback onGet = (rc, p, ctx, d, stat) -> { if (rc != 0) throw new IllegalStateException("rc " + rc); done.incrementAndGet(); slots.release(); };
        AsyncCallback.StatCallback onSet = (rc, p, ctx, stat) -> { if (rc != 0) throw new IllegalStateException("rc " + rc); done.incrementAndGet(); slots.release(); };
        // Warm-up, then the measured window.
        run(zk, path, set, data, slots, onGet, onSet, System.nanoTime() + 1_000_000_000L);
        slots.acquire(inFlight);
        slots.release(inFlight);
        done.set(0);
        long start = System.nanoTime();
        run(zk, path, set, data, slots, onGet, onSet, start + seconds * 1_000_000_000L);
        slots.acquire(inFlight);
        double elapsed = (System.nanoTime() - start) / 1e9;
        System.out.println(String.format("%.0f", done.get() / elapsed));
        zk.close();
    }

    private static void run(ZooKeeper zk, String path, boolean set, byte[] data, Semaphore slots,
                            AsyncCallback.DataCallback onGet, AsyncCallback.StatCallback onSet, long until) throws InterruptedException {
        while (System.nanoTime() < until) {
            slots.acquire();
            if (set) zk.setData(path, data, -1, onSet, null);
            else zk.getData(path, false, onGet, null);
        }
    }
}
