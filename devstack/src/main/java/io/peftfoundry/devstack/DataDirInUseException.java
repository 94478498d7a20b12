package io.peftfoundry.devstack;

import java.nio.file.Path;

/** Another running devstack uses the data directory (its PostgreSQL or Kafka lock is held). */
public class DataDirInUseException extends DevStackException {

    public DataDirInUseException(Path dataDir) {
        super("data directory " + dataDir + " is in use by another running devstack; stop that one"
                + " or choose another directory with --data-dir / FOUNDRY_DATA_DIR");
    }
}
