package io.peftfoundry.artifacts.rest;

import io.peftfoundry.artifacts.service.Artifact;
import io.peftfoundry.support.paging.Page;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** JSON shapes of the public API (OpenAI-like objects and lists). */
public final class Views {

    private Views() {
    }

    /** The shared list object ({@link Page#body}): {@code object, data, has_more, first_id, last_id}. */
    public static Map<String, Object> list(Page<Artifact> page, Function<Artifact, Map<String, Object>> view) {
        return page.body(view, Artifact::id);
    }

    private static Map<String, Object> common(Artifact a, String object) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", a.id());
        m.put("object", object);
        m.put("bytes", a.size());
        m.put("created_at", a.createdAt().toEpochSecond());
        m.put("digest", "sha256:" + a.digest());
        m.put("media_type", a.mediaType());
        return m;
    }

    public static Map<String, Object> file(Artifact a) {
        Map<String, Object> m = common(a, "file");
        m.put("filename", a.name());
        m.put("purpose", a.purpose());
        m.put("task", a.task());
        m.put("line_count", a.lineCount());
        if (a.labels() != null) {
            m.put("labels", a.labels());
        }
        if (a.annotations() != null && a.annotations().has("chat_examples")) {
            m.put("chat_examples", a.annotations().get("chat_examples").asLong());
        }
        m.put("status", "processed");
        return m;
    }

    public static Map<String, Object> adapter(Artifact a) {
        Map<String, Object> m = common(a, "adapter");
        m.put("name", a.name());
        m.put("job_id", a.jobId());
        m.put("lineage", a.annotations());
        return m;
    }

    public static Map<String, Object> checkpoint(Artifact a) {
        Map<String, Object> m = common(a, "checkpoint");
        m.put("job_id", a.jobId());
        m.put("attempt", a.attempt());
        m.put("step", a.step());
        return m;
    }

    public static Map<String, Object> model(Artifact a) {
        Map<String, Object> m = common(a, "model");
        m.put("name", a.name());
        m.put("owned_by", a.tenant());
        m.put("model_type", a.annotations().path("model_type").asText(null));
        m.put("family", a.annotations().path("model_type").asText(null));
        m.put("parameters", a.annotations().path("parameters").isNumber() ? a.annotations().get("parameters").asLong() : null);
        m.put("dtype", a.annotations().path("dtype").asText(null));
        m.put("chat_template", a.annotations().path("chat_template").asBoolean(false));
        m.put("annotations", a.annotations());
        return m;
    }
}
