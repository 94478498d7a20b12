package io.peftfoundry.engine.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The weights of a Hugging Face model directory, read tensor by tensor: either one {@code model.safetensors} or the
 * shards a {@code model.safetensors.index.json} names in its {@code weight_map} (tensor name → shard file), as
 * transformers' {@code save_pretrained(max_shard_size=…)} writes them. Opening reads only the headers; every tensor
 * the index names must be in the shard it names. Shard names must be plain file names inside the directory.
 */
public final class CheckpointWeights implements AutoCloseable {

    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A real index is a few hundred KB; anything far larger is not one. */
    private static final long MAX_INDEX_BYTES = 64L * 1024 * 1024;

    private final Path dir;
    private final Map<String, SafeTensorsFile> byTensor;
    private final Map<String, SafeTensorsFile> files;

    private CheckpointWeights(Path dir, Map<String, SafeTensorsFile> byTensor, Map<String, SafeTensorsFile> files) {
        this.dir = dir;
        this.byTensor = Collections.unmodifiableMap(byTensor);
        this.files = files;
    }

    /** True when {@code dir} holds {@code model.safetensors} or {@code model.safetensors.index.json}. */
    public static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve(SINGLE)) || Files.isRegularFile(dir.resolve(INDEX));
    }

    /** Opens the weights of {@code dir}; the index wins when both a single file and an index are there. */
    public static CheckpointWeights open(Path dir) throws IOException {
        Path index = dir.resolve(INDEX);
        Map<String, SafeTensorsFile> files = new LinkedHashMap<>();
        Map<String, SafeTensorsFile> byTensor = new LinkedHashMap<>();
        try {
            if (Files.isRegularFile(index)) {
                for (Map.Entry<String, String> e : weightMap(index).entrySet()) {
                    String shard = e.getValue();
                    SafeTensorsFile f = files.get(shard);
                    if (f == null) {
                        Path p = dir.resolve(shard);
                        if (!Files.isRegularFile(p)) {
                            throw new IOException(index + ": weight_map names shard '" + shard + "' for tensor '"
                                    + e.getKey() + "', but " + p + " is not a file");
                        }
                        f = SafeTensorsFile.open(p);
                        files.put(shard, f);
                    }
                    if (!f.entries().containsKey(e.getKey())) {
                        throw new IOException(index + ": weight_map puts tensor '" + e.getKey() + "' in '" + shard
                                + "', which has no such tensor");
                    }
                    byTensor.put(e.getKey(), f);
                }
            } else if (Files.isRegularFile(dir.resolve(SINGLE))) {
                SafeTensorsFile f = SafeTensorsFile.open(dir.resolve(SINGLE));
                files.put(SINGLE, f);
                f.entries().keySet().forEach(n -> byTensor.put(n, f));
            } else {
                throw new IOException(dir + ": no " + SINGLE + " and no " + INDEX);
            }
        } catch (IOException | RuntimeException e) {
            for (SafeTensorsFile f : files.values()) {
                f.close();
            }
            throw e;
        }
        return new CheckpointWeights(dir, byTensor, files);
    }

    private static Map<String, String> weightMap(Path index) throws IOException {
        if (Files.size(index) > MAX_INDEX_BYTES) {
            throw new IOException(index + ": " + Files.size(index) + " bytes, larger than any real index ("
                    + MAX_INDEX_BYTES + ")");
        }
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new IOException(index + ": not valid JSON: " + e.getMessage());
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new IOException(index + ": needs a non-empty object 'weight_map' (tensor name -> shard file)");
        }
        Map<String, String> out = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = map.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String shard = e.getValue().isTextual() ? e.getValue().asText() : "";
            if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals(".")
                    || shard.equals("..") || !shard.endsWith(".safetensors")) {
                throw new IOException(index + ": weight_map['" + e.getKey() + "'] = " + e.getValue()
                        + " is not a .safetensors file name in this directory");
            }
            out.put(e.getKey(), shard);
        }
        return out;
    }

    public Path dir() {
        return dir;
    }

    public Set<String> names() {
        return byTensor.keySet();
    }

    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    /** The file a tensor lives in (for error messages). */
    public Path fileOf(String name) {
        return file(name).file();
    }

    /** Byte offset of a tensor's first byte in {@link #fileOf its file}. */
    public long fileOffset(String name) {
        return file(name).fileOffset(name);
    }

    public SafeTensorsFile.Entry entry(String name) {
        return file(name).entry(name);
    }

    /** Number of files the weights are spread over (1 without an index). */
    public int shardCount() {
        return files.size();
    }

    /** See {@link SafeTensorsFile#toNDArray}: streamed into native memory, never whole into the heap. */
    public NDArray toNDArray(String name, NDManager manager, DataType floatType) throws IOException {
        return file(name).toNDArray(name, manager, floatType);
    }

    private SafeTensorsFile file(String name) {
        SafeTensorsFile f = byTensor.get(name);
        if (f == null) {
            throw new IllegalArgumentException(dir + ": no tensor '" + name + "' in the checkpoint");
        }
        return f;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (SafeTensorsFile f : files.values()) {
            try {
                f.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
