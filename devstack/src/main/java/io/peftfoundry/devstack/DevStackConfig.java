package io.peftfoundry.devstack;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * Where and how the devstack runs: host, ports, data folder and credentials.
 *
 * <p>Every value comes, in order of precedence, from a command-line flag, a Java system property
 * (named like the environment variable, e.g. {@code -DFOUNDRY_KAFKA_PORT=19092}), an environment
 * variable, or the team default.
 */
public final class DevStackConfig {

    /** A setting with its environment variable, command-line flag and default. */
    public enum Setting {
        HOST("FOUNDRY_HOST", "--host", "127.0.0.1"),
        KAFKA_PORT("FOUNDRY_KAFKA_PORT", "--kafka-port", "9092"),
        KAFKA_CONTROLLER_PORT("FOUNDRY_KAFKA_CONTROLLER_PORT", "--kafka-controller-port", "9093"),
        POSTGRES_PORT("FOUNDRY_PG_PORT", "--pg-port", "5433"),
        S3_PORT("FOUNDRY_S3_PORT", "--s3-port", "9000"),
        CONTROL_PORT("FOUNDRY_DEVSTACK_PORT", "--devstack-port", "9094"),
        DATA_DIR("FOUNDRY_DATA_DIR", "--data-dir", ".foundry/data"),
        S3_ACCESS_KEY("FOUNDRY_S3_ACCESS_KEY", "--s3-access-key", "foundry"),
        S3_SECRET_KEY("FOUNDRY_S3_SECRET_KEY", "--s3-secret-key", "foundry-secret"),
        S3_BUCKET("FOUNDRY_S3_BUCKET", "--s3-bucket", "foundry"),
        PG_PASSWORD("FOUNDRY_PG_PASSWORD", "--pg-password", "foundry");

        private final String variable;
        private final String flag;
        private final String defaultValue;

        Setting(String variable, String flag, String defaultValue) {
            this.variable = variable;
            this.flag = flag;
            this.defaultValue = defaultValue;
        }

        public String variable() {
            return variable;
        }

        public String flag() {
            return flag;
        }

        public String defaultValue() {
            return defaultValue;
        }
    }

    private final String host;
    private final int kafkaPort;
    private final int kafkaControllerPort;
    private final int postgresPort;
    private final int s3Port;
    private final int controlPort;
    private final Path dataDir;
    private final boolean fresh;
    private final String s3AccessKey;
    private final String s3SecretKey;
    private final String s3Bucket;
    private final String postgresPassword;

    private DevStackConfig(Builder b) {
        this.host = Objects.requireNonNull(b.host, "host");
        this.kafkaPort = checkPort(b.kafkaPort, Setting.KAFKA_PORT);
        this.kafkaControllerPort = checkPort(b.kafkaControllerPort, Setting.KAFKA_CONTROLLER_PORT);
        this.postgresPort = checkPort(b.postgresPort, Setting.POSTGRES_PORT);
        this.s3Port = checkPort(b.s3Port, Setting.S3_PORT);
        this.controlPort = checkPort(b.controlPort, Setting.CONTROL_PORT);
        this.dataDir = Objects.requireNonNull(b.dataDir, "dataDir").toAbsolutePath().normalize();
        this.fresh = b.fresh;
        this.s3AccessKey = Objects.requireNonNull(b.s3AccessKey, "s3AccessKey");
        this.s3SecretKey = Objects.requireNonNull(b.s3SecretKey, "s3SecretKey");
        this.s3Bucket = Objects.requireNonNull(b.s3Bucket, "s3Bucket");
        this.postgresPassword = Objects.requireNonNull(b.postgresPassword, "postgresPassword");
    }

    private static int checkPort(int port, Setting setting) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(setting.variable() + " must be a port between 1 and 65535, got " + port);
        }
        return port;
    }

    /** Configuration from system properties, environment variables and defaults. */
    public static DevStackConfig fromEnvironment() {
        return fromArgs(new String[0], System.getenv());
    }

    /** Configuration from command-line flags, then system properties, environment variables and defaults. */
    public static DevStackConfig fromArgs(String[] args) {
        return fromArgs(args, System.getenv());
    }

    static DevStackConfig fromArgs(String[] args, Map<String, String> env) {
        Map<Setting, String> flags = new java.util.EnumMap<>(Setting.class);
        boolean fresh = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--fresh")) {
                fresh = true;
                continue;
            }
            if (arg.equals("--exit-on-stdin-eof")) {
                continue; // handled by Main
            }
            Setting matched = null;
            String value = null;
            for (Setting s : Setting.values()) {
                if (arg.equals(s.flag())) {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(s.flag() + " needs a value");
                    }
                    matched = s;
                    value = args[++i];
                    break;
                }
                if (arg.startsWith(s.flag() + "=")) {
                    matched = s;
                    value = arg.substring(s.flag().length() + 1);
                    break;
                }
            }
            if (matched == null) {
                throw new IllegalArgumentException("unknown option '" + arg + "'");
            }
            flags.put(matched, value);
        }
        Builder b = builder();
        b.host(resolve(Setting.HOST, flags, env));
        b.kafkaPort(port(Setting.KAFKA_PORT, flags, env));
        b.kafkaControllerPort(port(Setting.KAFKA_CONTROLLER_PORT, flags, env));
        b.postgresPort(port(Setting.POSTGRES_PORT, flags, env));
        b.s3Port(port(Setting.S3_PORT, flags, env));
        b.controlPort(port(Setting.CONTROL_PORT, flags, env));
        b.dataDir(Path.of(resolve(Setting.DATA_DIR, flags, env)));
        b.s3AccessKey(resolve(Setting.S3_ACCESS_KEY, flags, env));
        b.s3SecretKey(resolve(Setting.S3_SECRET_KEY, flags, env));
        b.s3Bucket(resolve(Setting.S3_BUCKET, flags, env));
        b.postgresPassword(resolve(Setting.PG_PASSWORD, flags, env));
        b.fresh(fresh || Boolean.parseBoolean(System.getProperty("FOUNDRY_DEVSTACK_FRESH", "false")));
        return b.build();
    }

    private static String resolve(Setting s, Map<Setting, String> flags, Map<String, String> env) {
        String v = flags.get(s);
        if (v == null || v.isBlank()) {
            v = System.getProperty(s.variable());
        }
        if (v == null || v.isBlank()) {
            v = env.get(s.variable());
        }
        if (v == null || v.isBlank()) {
            v = s.defaultValue();
        }
        return v.trim();
    }

    private static int port(Setting s, Map<Setting, String> flags, Map<String, String> env) {
        String v = resolve(s, flags, env);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(s.variable() + " (" + s.flag() + ") must be a port number, got '" + v + "'");
        }
    }

    public static Builder builder() {
        Builder b = new Builder();
        b.host = Setting.HOST.defaultValue();
        b.kafkaPort = Integer.parseInt(Setting.KAFKA_PORT.defaultValue());
        b.kafkaControllerPort = Integer.parseInt(Setting.KAFKA_CONTROLLER_PORT.defaultValue());
        b.postgresPort = Integer.parseInt(Setting.POSTGRES_PORT.defaultValue());
        b.s3Port = Integer.parseInt(Setting.S3_PORT.defaultValue());
        b.controlPort = Integer.parseInt(Setting.CONTROL_PORT.defaultValue());
        b.dataDir = Path.of(Setting.DATA_DIR.defaultValue());
        b.s3AccessKey = Setting.S3_ACCESS_KEY.defaultValue();
        b.s3SecretKey = Setting.S3_SECRET_KEY.defaultValue();
        b.s3Bucket = Setting.S3_BUCKET.defaultValue();
        b.postgresPassword = Setting.PG_PASSWORD.defaultValue();
        return b;
    }

    /** A builder pre-filled with this configuration's values. */
    public Builder toBuilder() {
        return builder().host(host).kafkaPort(kafkaPort).kafkaControllerPort(kafkaControllerPort)
                .postgresPort(postgresPort).s3Port(s3Port).controlPort(controlPort).dataDir(dataDir).fresh(fresh)
                .s3AccessKey(s3AccessKey).s3SecretKey(s3SecretKey).s3Bucket(s3Bucket).postgresPassword(postgresPassword);
    }

    public String host() {
        return host;
    }

    public int kafkaPort() {
        return kafkaPort;
    }

    public int kafkaControllerPort() {
        return kafkaControllerPort;
    }

    public int postgresPort() {
        return postgresPort;
    }

    public int s3Port() {
        return s3Port;
    }

    public int controlPort() {
        return controlPort;
    }

    public Path dataDir() {
        return dataDir;
    }

    public boolean fresh() {
        return fresh;
    }

    public String s3AccessKey() {
        return s3AccessKey;
    }

    public String s3SecretKey() {
        return s3SecretKey;
    }

    public String s3Bucket() {
        return s3Bucket;
    }

    public String postgresPassword() {
        return postgresPassword;
    }

    public Path kafkaDir() {
        return dataDir.resolve("kafka");
    }

    public Path postgresDir() {
        return dataDir.resolve("postgres");
    }

    public Path s3Dir() {
        return dataDir.resolve("s3");
    }

    public Path logsDir() {
        return dataDir.resolve("logs");
    }

    /** {@code host:port} for Kafka clients. */
    public String kafkaBootstrapServers() {
        return host + ":" + kafkaPort;
    }

    /** JDBC URL of the {@code foundry} database. */
    public String postgresJdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + postgresPort + "/foundry";
    }

    /** Base URL of the S3 API. */
    public String s3Endpoint() {
        return "http://" + host + ":" + s3Port;
    }

    @Override
    public String toString() {
        return "DevStackConfig{host=" + host + ", kafka=" + kafkaPort + ", kafkaController=" + kafkaControllerPort
                + ", postgres=" + postgresPort + ", s3=" + s3Port + ", control=" + controlPort
                + ", dataDir=" + dataDir + ", fresh=" + fresh + ", bucket=" + s3Bucket + "}";
    }

    /** Builds a {@link DevStackConfig}; starts from the team defaults. */
    public static final class Builder {
        private String host;
        private int kafkaPort;
        private int kafkaControllerPort;
        private int postgresPort;
        private int s3Port;
        private int controlPort;
        private Path dataDir;
        private boolean fresh;
        private String s3AccessKey;
        private String s3SecretKey;
        private String s3Bucket;
        private String postgresPassword;

        private Builder() {
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        public Builder kafkaPort(int port) {
            this.kafkaPort = port;
            return this;
        }

        public Builder kafkaControllerPort(int port) {
            this.kafkaControllerPort = port;
            return this;
        }

        public Builder postgresPort(int port) {
            this.postgresPort = port;
            return this;
        }

        public Builder s3Port(int port) {
            this.s3Port = port;
            return this;
        }

        public Builder controlPort(int port) {
            this.controlPort = port;
            return this;
        }

        public Builder dataDir(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        public Builder fresh(boolean fresh) {
            this.fresh = fresh;
            return this;
        }

        public Builder s3AccessKey(String key) {
            this.s3AccessKey = key;
            return this;
        }

        public Builder s3SecretKey(String key) {
            this.s3SecretKey = key;
            return this;
        }

        public Builder s3Bucket(String bucket) {
            this.s3Bucket = bucket;
            return this;
        }

        public Builder postgresPassword(String password) {
            this.postgresPassword = password;
            return this;
        }

        public DevStackConfig build() {
            return new DevStackConfig(this);
        }
    }
}
