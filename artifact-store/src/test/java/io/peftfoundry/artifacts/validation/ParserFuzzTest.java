package io.peftfoundry.artifacts.validation;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.FieldError;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzing (jqwik) of what artifact-store reads from uploads. The JSONL validator returns a report for any bytes —
 * never throws — and each fault it reports names a line of the file (or is about the whole file); the zip reader opens an archive or refuses it with
 * {@link ZipLayout.InvalidArchiveException}, and never lists an entry that escapes the directory.
 */
class ParserFuzzTest {

    private static final int MAX_REPORTED = 5;

    private final DatasetValidator validator = new DatasetValidator(new ObjectMapper(), MAX_REPORTED);

    @Property
    void anyBytesGiveADatasetReportWhoseFaultsNameTheirLine(@ForAll("datasets") byte[] bytes,
                                                            @ForAll("tasks") DatasetTask declared) throws IOException {
        DatasetReport report = validator.validate(new ByteArrayInputStream(bytes), declared);
        assertNotNull(report);
        assertTrue(report.errors().size() <= MAX_REPORTED, "at most the first " + MAX_REPORTED + " faults are listed");
        assertTrue(report.totalErrors() >= report.errors().size());
        assertEquals(report.totalErrors() == 0, report.valid());
        long lines = lines(bytes);
        for (FieldError error : report.errors()) {
            assertFalse(error.message().isBlank(), "a fault says what is wrong: " + error);
            if (error.line() == null) {
                continue; // about the whole file: no examples, fewer than two labels
            }
            assertTrue(error.line() >= 1 && error.line() <= lines + 1,
                    "a fault names a line of the file (1.." + lines + "): " + error);
        }
        if (report.valid() && !report.plainText() && report.task() == DatasetTask.CLASSIFICATION) {
            assertTrue(report.labels().size() >= 2, "a valid classification set has two labels or more");
        }
    }

    @Property
    void anyZipOpensOrIsRefusedAndNoEntryEscapes(@ForAll("zips") byte[] bytes) throws IOException {
        Path file = Files.createTempFile("fuzz-", ".zip");
        try {
            Files.write(file, bytes);
            try (ZipLayout layout = ZipLayout.open(file)) {
                for (ZipEntry e : layout.files()) {
                    String name = e.getName().replace('\\', '/');
                    assertFalse(name.startsWith("/") || ("/" + name + "/").contains("/../"),
                            "an accepted entry stays inside the directory: " + name);
                    assertFalse(e.isDirectory());
                }
                layout.find("config.json");
            } catch (ZipLayout.InvalidArchiveException refused) {
                assertFalse(refused.getMessage().isBlank(), "a refusal says why");
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Lines as the validator counts them: ended by \n, \r\n or \r, plus an unterminated last one. */
    private static long lines(byte[] bytes) {
        long n = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '\n' || (bytes[i] == '\r' && (i + 1 == bytes.length || bytes[i + 1] != '\n'))) {
                n++;
            }
        }
        return bytes.length == 0 || bytes[bytes.length - 1] == '\n' || bytes[bytes.length - 1] == '\r' ? n : n + 1;
    }

    @Provide
    Arbitrary<DatasetTask> tasks() {
        return Arbitraries.oneOf(Arbitraries.of(DatasetTask.class), Arbitraries.just(null));
    }

    /** JSONL-like documents: lines of records with the fields the tasks need, broken JSON, odd bytes, CR/LF mixes. */
    @Provide
    Arbitrary<byte[]> datasets() {
        Arbitrary<String> fieldValue = Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(12).map(s -> quote(s)),
                Arbitraries.of("null", "true", "1", "-0.5e3", "[]", "{}", "[\"a\"]", "{\"a\":1}", "\"\"", "\" \""));
        Arbitrary<String> record = Combinators.combine(
                Arbitraries.of("text", "label", "prompt", "completion", "text_pair", "messages", "role", "content", "x")
                        .list().ofMaxSize(4),
                fieldValue.list().ofSize(4))
                .as((keys, values) -> {
                    StringBuilder sb = new StringBuilder("{");
                    for (int i = 0; i < keys.size(); i++) {
                        sb.append(i > 0 ? "," : "").append(quote(keys.get(i))).append(':').append(values.get(i));
                    }
                    return sb.append('}').toString();
                });
        Arbitrary<String> line = Arbitraries.oneOf(record, record, record,
                Arbitraries.strings().withChars("{}[]\":,ab \\\t").ofMaxLength(30),
                Arbitraries.strings().all().ofMaxLength(30),
                Arbitraries.of("", "   ", "\uFEFF{\"text\":\"a\"}", "plain text line"));
        Arbitrary<String> end = Arbitraries.of("\n", "\r\n", "\r", "");
        Arbitrary<byte[]> text = Combinators.combine(line, end).as((l, e) -> l + e).list().ofMaxSize(12)
                .map(lines -> String.join("", lines).getBytes(StandardCharsets.UTF_8));
        Arbitrary<byte[]> raw = Arbitraries.bytes().array(byte[].class).ofMaxSize(200);
        return Arbitraries.oneOf(text, text, text, raw, spliced(text, raw));
    }

    /** Valid zips built here, then truncated or with bytes overwritten, beside random bytes. */
    @Provide
    Arbitrary<byte[]> zips() {
        Arbitrary<String> names = Arbitraries.oneOf(
                Arbitraries.of("config.json", "model.safetensors", "tokenizer.json", "adapter_config.json",
                        "dir/config.json", "dir/", "../evil", "a/../../evil", "/abs", "C:/win", "a\\..\\b", "x/y/z"),
                Arbitraries.strings().ofMinLength(1).ofMaxLength(10));
        Arbitrary<byte[]> zip = Combinators.combine(names, Arbitraries.bytes().array(byte[].class).ofMaxSize(64))
                .as(Tuple::of).list().ofMaxSize(5).map(ParserFuzzTest::zip);
        Arbitrary<byte[]> raw = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
        Arbitrary<byte[]> damaged = Combinators.combine(zip, Arbitraries.integers().between(0, 400),
                Arbitraries.bytes(), Arbitraries.of(true, false)).as((z, at, b, truncate) -> {
                    if (z.length == 0) {
                        return z;
                    }
                    int i = at % z.length;
                    if (truncate) {
                        return java.util.Arrays.copyOf(z, i);
                    }
                    byte[] copy = z.clone();
                    copy[i] = b;
                    return copy;
                });
        return Arbitraries.oneOf(zip, damaged, damaged, raw);
    }

    private static byte[] zip(List<Tuple.Tuple2<String, byte[]>> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<String> seen = new ArrayList<>();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Tuple.Tuple2<String, byte[]> e : entries) {
                if (seen.contains(e.get1())) {
                    continue;
                }
                seen.add(e.get1());
                zip.putNextEntry(new ZipEntry(e.get1()));
                if (!e.get1().endsWith("/")) {
                    zip.write(e.get2());
                }
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    private static Arbitrary<byte[]> spliced(Arbitrary<byte[]> a, Arbitrary<byte[]> b) {
        return Combinators.combine(a, b).as((x, y) -> {
            byte[] r = java.util.Arrays.copyOf(x, x.length + y.length);
            System.arraycopy(y, 0, r, x.length, y.length);
            return r;
        });
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
