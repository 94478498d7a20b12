package io.peftfoundry.artifacts;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Builds test inputs: safetensors files, zips, unique datasets. */
public final class TestArtifacts {

    public static final String KEY_A = "key-tenant-a";
    public static final String KEY_B = "key-tenant-b";
    public static final String KEY_ADMIN = "key-admin";

    private TestArtifacts() {
    }

    /** A safetensors file with zero-filled F32 tensors of the given shapes. */
    public static byte[] safetensors(Map<String, long[]> shapes) {
        return safetensors(shapes, "F32", 4);
    }

    /** Zero-filled tensors of one dtype ({@code BF16}, 2 bytes an element; {@code F32}, 4). */
    public static byte[] safetensors(Map<String, long[]> shapes, String dtype, int elementBytes) {
        StringBuilder header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long n = 1;
            StringBuilder shape = new StringBuilder("[");
            for (int i = 0; i < e.getValue().length; i++) {
                n *= e.getValue()[i];
                shape.append(i == 0 ? "" : ",").append(e.getValue()[i]);
            }
            shape.append("]");
            long bytes = n * elementBytes;
            header.append(",\"").append(e.getKey()).append("\":{\"dtype\":\"").append(dtype).append("\",\"shape\":").append(shape)
                    .append(",\"data_offsets\":[").append(offset).append(",").append(offset + bytes).append("]}");
            offset += bytes;
        }
        header.append("}");
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + json.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(json.length);
        buf.put(json);
        return buf.array();
    }

    public static Path zip(Map<String, byte[]> entries) throws IOException {
        Path zip = Files.createTempFile("test-", ".zip");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                out.putNextEntry(new ZipEntry(e.getKey()));
                out.write(e.getValue());
                out.closeEntry();
            }
        }
        Files.write(zip, bytes.toByteArray());
        return zip;
    }

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A classification dataset unique to this call (so dedupe across tests never interferes). */
    public static String classification(int lines) {
        String nonce = UUID.randomUUID().toString();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines; i++) {
            sb.append("{\"text\":\"example ").append(i).append(' ').append(nonce).append("\",\"label\":\"")
                    .append(i % 2 == 0 ? "pos" : "neg").append("\"}\n");
        }
        return sb.toString();
    }

    /** A LoRA adapter directory as PEFT writes it (BERT key names), optionally with extra tensors. */
    public static Map<String, byte[]> loraAdapter(Map<String, long[]> extraTensors, String modulesToSaveJson) {
        Map<String, long[]> tensors = new LinkedHashMap<>();
        tensors.put("base_model.model.encoder.layer.0.attention.self.query.lora_A.weight", new long[]{8, 32});
        tensors.put("base_model.model.encoder.layer.0.attention.self.query.lora_B.weight", new long[]{32, 8});
        tensors.putAll(extraTensors);
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("adapter_config.json", utf8("{\"peft_type\":\"LORA\",\"r\":8,\"lora_alpha\":16,"
                + "\"target_modules\":[\"query\",\"value\"],\"modules_to_save\":" + modulesToSaveJson + "}"));
        files.put("adapter_model.safetensors", safetensors(tensors));
        return files;
    }

    /**
     * A full fine-tune's output as the worker uploads it: a BertForSequenceClassification directory (config.json with
     * id2label, model.safetensors with bert.* and classifier.*, tokenizer.json with {@code vocab} tokens, labels.json).
     */
    public static Map<String, byte[]> fullModel(int vocab, int hidden, int layers, String... labels) {
        StringBuilder id2label = new StringBuilder("{");
        for (int i = 0; i < labels.length; i++) {
            id2label.append(i == 0 ? "" : ",").append('"').append(i).append("\":\"").append(labels[i]).append('"');
        }
        id2label.append("}");
        Map<String, long[]> tensors = new LinkedHashMap<>();
        tensors.put("bert.embeddings.word_embeddings.weight", new long[]{vocab, hidden});
        tensors.put("bert.embeddings.LayerNorm.weight", new long[]{hidden});
        for (int l = 0; l < layers; l++) {
            tensors.put("bert.encoder.layer." + l + ".attention.self.query.weight", new long[]{hidden, hidden});
        }
        tensors.put("classifier.weight", new long[]{labels.length, hidden});
        tensors.put("classifier.bias", new long[]{labels.length});
        StringBuilder tokens = new StringBuilder("{");
        for (int i = 0; i < vocab; i++) {
            tokens.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":").append(i);
        }
        tokens.append("}");
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", utf8("{\"architectures\":[\"BertForSequenceClassification\"],\"model_type\":\"bert\","
                + "\"vocab_size\":" + vocab + ",\"hidden_size\":" + hidden + ",\"num_hidden_layers\":" + layers
                + ",\"id2label\":" + id2label + "}"));
        files.put("model.safetensors", safetensors(tensors));
        files.put("tokenizer.json", utf8("{\"model\":{\"type\":\"WordPiece\",\"vocab\":" + tokens + "}}"));
        files.put("labels.json", utf8("{\"id2label\":" + id2label + ",\"pooling\":\"mean\"}"));
        return files;
    }

    /** A causal job's full fine-tune: a GPT-2 directory (config.json, model.safetensors with transformer.*, tokenizer.json). */
    public static Map<String, byte[]> gpt2FullModel(int vocab, int embd, int layers) {
        Map<String, long[]> tensors = new LinkedHashMap<>();
        tensors.put("transformer.wte.weight", new long[]{vocab, embd});
        tensors.put("transformer.wpe.weight", new long[]{16, embd});
        for (int l = 0; l < layers; l++) {
            tensors.put("transformer.h." + l + ".attn.c_attn.weight", new long[]{embd, 3L * embd});
        }
        tensors.put("transformer.ln_f.weight", new long[]{embd});
        StringBuilder tokens = new StringBuilder("{");
        for (int i = 0; i < vocab; i++) {
            tokens.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":").append(i);
        }
        tokens.append("}");
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", utf8("{\"architectures\":[\"GPT2LMHeadModel\"],\"model_type\":\"gpt2\",\"vocab_size\":"
                + vocab + ",\"n_embd\":" + embd + ",\"n_layer\":" + layers + ",\"n_head\":2}"));
        files.put("model.safetensors", safetensors(tensors));
        files.put("tokenizer.json", utf8("{\"model\":{\"type\":\"BPE\",\"vocab\":" + tokens + "}}"));
        return files;
    }
}
