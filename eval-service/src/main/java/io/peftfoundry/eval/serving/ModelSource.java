package io.peftfoundry.eval.serving;

import java.io.IOException;
import java.nio.file.Path;

/** Where the serving layer finds local directories for backbones and adapters (artifact-store in production). */
public interface ModelSource {

    /** An HF-layout backbone directory (config.json, model.safetensors, tokenizer.json); equal content, equal path. */
    Path backbone(String model) throws IOException;

    /** An unpacked adapter directory (PEFT or full-model layout); equal content, equal path. */
    Path adapter(String adapterId) throws IOException;
}
