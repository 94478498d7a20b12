package io.peftfoundry.artifacts.validation;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A zip of a directory (PEFT adapter, HF model, checkpoint). Refuses entries that would escape the
 * directory when unpacked (zip-slip: absolute paths, drive letters, '..' segments). The directory's
 * files may sit at the zip root or under one top-level folder.
 */
public final class ZipLayout implements AutoCloseable {

    /** More entries than this is no model, adapter or checkpoint directory (a central directory bomb). */
    public static final int MAX_ENTRIES = 10_000;
    /** A JSON config (config.json, adapter_config.json) larger than this uncompressed is refused before parsing. */
    public static final int MAX_JSON_BYTES = 1024 * 1024;

    private final ZipFile zip;
    private final List<ZipEntry> files = new ArrayList<>();

    private ZipLayout(ZipFile zip) {
        this.zip = zip;
    }

    /** @throws InvalidArchiveException when the file is not a zip or an entry is unsafe */
    public static ZipLayout open(Path file) throws InvalidArchiveException {
        ZipFile zf;
        try {
            zf = new ZipFile(file.toFile());
        } catch (IOException e) {
            throw new InvalidArchiveException("the upload is not a readable zip archive");
        }
        ZipLayout layout = new ZipLayout(zf);
        try {
            if (zf.size() > MAX_ENTRIES) {
                throw new InvalidArchiveException("the zip has " + zf.size() + " entries; at most " + MAX_ENTRIES
                        + " are accepted");
            }
            Enumeration<? extends ZipEntry> en = zf.entries();
            while (en.hasMoreElements()) {
                ZipEntry e = en.nextElement();
                String name = e.getName().replace('\\', '/');
                if (name.startsWith("/") || name.matches("^[A-Za-z]:.*") || ("/" + name + "/").contains("/../")) {
                    throw new InvalidArchiveException("zip entry '" + name + "' would escape the directory (zip-slip); refused");
                }
                if (!e.isDirectory()) {
                    layout.files.add(e);
                }
            }
        } catch (InvalidArchiveException | RuntimeException e) {
            layout.close();
            throw e instanceof InvalidArchiveException iae ? iae : new InvalidArchiveException("unreadable zip: " + e.getMessage());
        }
        return layout;
    }

    /**
     * The file with this name at the directory root: either the zip root or "{folder}/" when every
     * file sits under one top-level folder.
     */
    public Optional<ZipEntry> find(String fileName) {
        String prefix = rootPrefix();
        return files.stream().filter(e -> e.getName().replace('\\', '/').equals(prefix + fileName)).findFirst();
    }

    private String rootPrefix() {
        String common = null;
        for (ZipEntry e : files) {
            String n = e.getName().replace('\\', '/');
            int slash = n.indexOf('/');
            if (slash < 0) {
                return "";
            }
            String top = n.substring(0, slash + 1);
            if (common == null) {
                common = top;
            } else if (!common.equals(top)) {
                return "";
            }
        }
        return common == null ? "" : common;
    }

    public java.io.InputStream open(ZipEntry e) throws IOException {
        return zip.getInputStream(e);
    }

    /**
     * Parses a JSON entry, reading at most {@link #MAX_JSON_BYTES} inflated bytes whatever the entry declares.
     *
     * @throws InvalidArchiveException when it is larger, naming the entry
     * @throws IOException             when it is not JSON
     */
    public com.fasterxml.jackson.databind.JsonNode readJson(ZipEntry e, com.fasterxml.jackson.databind.ObjectMapper mapper)
            throws IOException {
        String name = e.getName().replace('\\', '/');
        String tooLarge = name + " is larger than " + (MAX_JSON_BYTES >> 20) + " MiB uncompressed; a JSON config may"
                + " be at most that";
        if (e.getSize() > MAX_JSON_BYTES) {
            throw new InvalidArchiveException(tooLarge);
        }
        byte[] bytes;
        try (java.io.InputStream in = zip.getInputStream(e)) {
            bytes = in.readNBytes(MAX_JSON_BYTES + 1);
        }
        if (bytes.length > MAX_JSON_BYTES) {
            throw new InvalidArchiveException(tooLarge);
        }
        return mapper.readTree(bytes);
    }

    public List<ZipEntry> files() {
        return files;
    }

    @Override
    public void close() {
        try {
            zip.close();
        } catch (IOException ignored) {
            // read-only: nothing to lose
        }
    }

    /** A zip that cannot be accepted; the message says why. */
    public static class InvalidArchiveException extends IOException {
        public InvalidArchiveException(String message) {
            super(message);
        }
    }
}
