package io.peftfoundry.engine.importer;

/** Progress of long work (bytes read, tensors written): the CLI draws it as a bar. */
@FunctionalInterface
public interface Progress {
    void update(String phase, long done, long total);

    Progress NONE = (p, d, t) -> { };
}
