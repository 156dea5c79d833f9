package logplatform.testengine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import org.codelibs.opensearch.runner.OpenSearchRunner;

/**
 * Starts one OpenSearch node for the test suite and blocks until the JVM is told to stop.
 *
 * Why not the runner's own main(): its default node roles lack "ingest" (every pipeline call
 * then fails with "There are no ingest nodes in this cluster"), a busy HTTP port silently moves
 * the node to the next one, and a failed start exits 1 without a message. Here the roles, the
 * exact port and the loopback binding are fixed, and a failure is printed before exiting.
 *
 * Usage: TestEngine <basePath> <httpPort>
 * Prints "LOGPLATFORM-ENGINE-READY <port>" once the cluster is yellow or green.
 */
public final class TestEngine {

    private TestEngine() {
    }

    public static void main(final String[] args) throws Exception {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: TestEngine <basePath> <httpPort> [<path.repo>]");
            System.exit(2);
        }
        final Path basePath = Path.of(args[0]).toAbsolutePath();
        final int httpPort = Integer.parseInt(args[1]);
        final String snapshots = args.length > 2 ? Path.of(args[2]).toAbsolutePath().toString() : null;
        Files.createDirectories(basePath);

        final OpenSearchRunner runner = new OpenSearchRunner();
        runner.setMaxHttpPort(-1); // never move to another port: the caller chose this one
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (final Exception e) {
                System.err.println("engine: close failed: " + e);
            }
            stopped.countDown();
        }));

        try {
            runner.onBuild((index, settings) -> {
                settings.putList("node.roles", "cluster_manager", "data", "ingest");
                settings.put("http.port", String.valueOf(httpPort));
                settings.put("network.host", "127.0.0.1");
                settings.put("transport.port", String.valueOf(httpPort + 100));
                settings.put("discovery.type", "single-node");
                if (snapshots != null) {
                    settings.putList("path.repo", snapshots); // where fs snapshot repositories may live
                }
                settings.put("action.auto_create_index", "true");
                // Disk watermarks would make indices read-only on a nearly full CI disk.
                settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
            }).build(OpenSearchRunner.newConfigs()
                    .basePath(basePath.toString())
                    .numOfNode(1)
                    .clusterName("logplatform-test")
                    .printOnFailure());
            runner.ensureYellow();
        } catch (final Throwable t) {
            System.err.println("engine: failed to start: " + t);
            t.printStackTrace();
            System.exit(1);
        }
        System.out.println("LOGPLATFORM-ENGINE-READY " + httpPort);
        System.out.flush();
        stopped.await();
    }
}
