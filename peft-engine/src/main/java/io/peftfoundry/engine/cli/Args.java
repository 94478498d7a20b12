package io.peftfoundry.engine.cli;

import ai.djl.Device;
import io.peftfoundry.engine.job.Devices;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code --name value} options plus positional arguments. */
record Args(Map<String, String> options, List<String> positional) {

    static Args parse(String[] args) {
        Map<String, String> opts = new HashMap<>();
        List<String> pos = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("--")) {
                if (i + 1 >= args.length) {
                    throw new Main.UsageException("option " + args[i] + " needs a value");
                }
                opts.put(args[i].substring(2), args[++i]);
            } else {
                pos.add(args[i]);
            }
        }
        return new Args(opts, pos);
    }

    Optional<String> opt(String name) {
        return Optional.ofNullable(options.get(name));
    }

    String required(String name) {
        String v = options.get(name);
        if (v == null) {
            throw new Main.UsageException("missing --" + name);
        }
        return v;
    }

    Path path(String name) {
        return Path.of(required(name));
    }

    /** {@code --device}, else the {@code FOUNDRY_DEVICE} environment variable, else auto ({@link Devices}). */
    Device device() {
        String setting = opt("device").orElse(System.getenv(Devices.ENV));
        try {
            return Devices.select(setting);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new Main.UsageException(e.getMessage());
        }
    }

    Optional<Integer> threads() {
        return opt("threads").map(s -> {
            try {
                int n = Integer.parseInt(s);
                if (n < 1) {
                    throw new NumberFormatException();
                }
                return n;
            } catch (NumberFormatException e) {
                throw new Main.UsageException("--threads must be a positive integer, got '" + s + "'");
            }
        });
    }
}
