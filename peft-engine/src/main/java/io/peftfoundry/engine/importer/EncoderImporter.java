package io.peftfoundry.engine.importer;

import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertConfig;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Turns a pretrained encoder's ONNX export into a Hugging Face layout directory. Embedding,
 * LayerNorm and bias tensors keep their HF names in the ONNX file; the Linear weights are named
 * {@code onnx::MatMul_N} and stored (in, out): each belongs to the layer whose bias is added by
 * the {@code Add} node that consumes the MatMul's output. They are transposed to (out, in).
 */
public final class EncoderImporter {

    private EncoderImporter() {}

    /** Reads the ONNX file of {@code encoder} from the classpath. */
    public static byte[] readOnnx(PretrainedEncoder encoder, Progress progress) throws IOException {
        ClassLoader cl = EncoderImporter.class.getClassLoader();
        URL url = cl.getResource(encoder.onnxResource);
        if (url == null) {
            throw new IOException(encoder.onnxResource + " not on the classpath: the jar " + encoder.source
                    + " must be in peft-engine's lib/ (it is a runtime dependency of peft-engine)");
        }
        long total = url.openConnection().getContentLengthLong();
        try (InputStream in = url.openStream()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(total > 0 ? (int) total : 1 << 20);
            byte[] b = new byte[1 << 20];
            long done = 0;
            int n;
            while ((n = in.read(b)) > 0) {
                out.write(b, 0, n);
                done += n;
                progress.update("reading " + encoder.onnxResource, done, total);
            }
            return out.toByteArray();
        }
    }

    /** HF name → tensor (weights transposed to (out, in)); fails naming any Linear it cannot place. */
    public static Map<String, Tensor> hfTensors(OnnxReader.Graph graph) throws IOException {
        Map<String, OnnxReader.Initializer> inits = graph.initializers();
        Map<String, OnnxReader.Node> consumerAdd = new HashMap<>();
        for (OnnxReader.Node n : graph.nodes()) {
            if ("Add".equals(n.opType())) {
                for (String in : n.inputs()) {
                    consumerAdd.put(in, n);
                }
            }
        }
        Map<String, Tensor> out = new TreeMap<>();
        for (OnnxReader.Node n : graph.nodes()) {
            if (!"MatMul".equals(n.opType()) || n.inputs().size() != 2 || !inits.containsKey(n.inputs().get(1))) {
                continue; // attention's MatMuls multiply activations, not weights
            }
            OnnxReader.Initializer w = inits.get(n.inputs().get(1));
            OnnxReader.Node add = consumerAdd.get(n.outputs().get(0));
            String bias = add == null ? null
                    : add.inputs().stream().filter(s -> s.endsWith(".bias") && inits.containsKey(s)).findFirst().orElse(null);
            if (bias == null) {
                throw new IOException("ONNX weight '" + w.name() + "' (MatMul " + n.name()
                        + "): no Add node with a '*.bias' initializer consumes its output, so its layer is unknown");
            }
            String name = bias.substring(0, bias.length() - ".bias".length()) + ".weight";
            if (w.dims().length != 2) {
                throw new IOException("ONNX weight '" + w.name() + "' for " + name + " is not 2-D");
            }
            int in = (int) w.dims()[0];
            int o = (int) w.dims()[1];
            float[] t = new float[in * o];
            float[] src = w.floats();
            for (int i = 0; i < in; i++) {
                for (int j = 0; j < o; j++) {
                    t[j * in + i] = src[i * o + j];
                }
            }
            out.put(name, Tensor.ofFloats(new long[] {o, in}, t));
        }
        for (OnnxReader.Initializer i : inits.values()) {
            if (i.floats() != null && (i.name().startsWith("embeddings.") || i.name().startsWith("encoder."))
                    && !i.name().startsWith("onnx::")) {
                out.put(i.name(), Tensor.ofFloats(i.dims(), i.floats()));
            }
        }
        return out;
    }

    /** Derives the config from tensor shapes and the known head count. */
    public static BertConfig config(Map<String, Tensor> t, int heads) throws IOException {
        Tensor word = require(t, "embeddings.word_embeddings.weight");
        Tensor pos = require(t, "embeddings.position_embeddings.weight");
        Tensor type = require(t, "embeddings.token_type_embeddings.weight");
        Tensor inter = require(t, "encoder.layer.0.intermediate.dense.weight");
        int layers = 0;
        while (t.containsKey("encoder.layer." + layers + ".attention.self.query.weight")) {
            layers++;
        }
        return new BertConfig((int) word.shape()[0], (int) word.shape()[1], layers, heads, (int) inter.shape()[0], "gelu",
                0.1f, 0.1f, (int) pos.shape()[0], (int) type.shape()[0], 1e-12f, 0);
    }

    private static Tensor require(Map<String, Tensor> t, String name) throws IOException {
        Tensor x = t.get(name);
        if (x == null) {
            throw new IOException("ONNX model lacks '" + name + "'");
        }
        return x;
    }

    /** Writes config.json, model.safetensors, tokenizer.json, LICENSE and README.md into {@code out}. */
    public static BertConfig importTo(PretrainedEncoder encoder, Path out, Progress progress) throws IOException {
        byte[] onnx = readOnnx(encoder, progress);
        progress.update("parsing ONNX", 0, 1);
        OnnxReader.Graph graph = OnnxReader.read(onnx);
        onnx = null;
        Map<String, Tensor> tensors = hfTensors(graph);
        BertConfig config = config(tensors, encoder.numAttentionHeads);
        Set<String> expected = BertCheckpoint.backboneNames(config);
        for (String name : expected) {
            require(tensors, name);
        }
        Map<String, Tensor> ordered = new LinkedHashMap<>();
        for (String name : expected) {
            ordered.put(name, tensors.get(name));
        }
        progress.update("writing model.safetensors", 0, 1);
        Files.createDirectories(out);
        config.write(out.resolve(BertCheckpoint.CONFIG));
        SafeTensors.write(out.resolve(BertCheckpoint.WEIGHTS), ordered, Map.of("format", "pt", "source", encoder.source));
        try (InputStream tok = EncoderImporter.class.getClassLoader().getResourceAsStream(encoder.tokenizerResource)) {
            if (tok == null) {
                throw new IOException(encoder.tokenizerResource + " not on the classpath");
            }
            Files.copy(tok, out.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Files.writeString(out.resolve("LICENSE"), licenseText(encoder), StandardCharsets.UTF_8);
        Files.writeString(out.resolve("README.md"), "# " + encoder.id + "\n\n"
                + "Imported by `peft-engine import " + encoder.id + "` from " + encoder.source + ".\n\n"
                + "Original model: https://huggingface.co/" + encoder.huggingFaceId + " — licence " + encoder.license
                + " (see LICENSE).\n\n"
                + "Layout: Hugging Face `BertModel` (`config.json`, `model.safetensors` float32, `tokenizer.json`), no pooler.\n",
                StandardCharsets.UTF_8);
        progress.update("done", 1, 1);
        return config;
    }

    static String licenseText(PretrainedEncoder e) {
        String head = e.huggingFaceId + " is distributed under the " + e.license + " licence by its authors"
                + " (model card: https://huggingface.co/" + e.huggingFaceId + ").\n"
                + "The copy imported here comes from the Maven artifact " + e.source
                + ", itself published under the Apache License 2.0.\n"
                + "The jar carries no separate NOTICE file.\n\n";
        if ("MIT".equals(e.license)) {
            return head + "MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this"
                    + " software and associated documentation files (the \"Software\"), to deal in the Software without"
                    + " restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute,"
                    + " sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished"
                    + " to do so, subject to the following conditions:\n\nThe above copyright notice and this permission notice"
                    + " shall be included in all copies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED"
                    + " \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES"
                    + " OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS"
                    + " OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF"
                    + " CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER"
                    + " DEALINGS IN THE SOFTWARE.\n";
        }
        return head + "Licensed under the Apache License, Version 2.0 (the \"License\"); you may not use these files except"
                + " in compliance with the License. You may obtain a copy of the License at\n\n"
                + "    http://www.apache.org/licenses/LICENSE-2.0\n\n"
                + "Unless required by applicable law or agreed to in writing, software distributed under the License is"
                + " distributed on an \"AS IS\" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied."
                + " See the License for the specific language governing permissions and limitations under the License.\n";
    }
}
