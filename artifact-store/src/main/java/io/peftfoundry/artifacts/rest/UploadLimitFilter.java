package io.peftfoundry.artifacts.rest;

import io.peftfoundry.contracts.Problem;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.artifacts.config.ArtifactsConfig;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Answers 413 before reading the body when a POST to /v1 announces (Content-Length) more than
 * {@code foundry.artifacts.max-upload-bytes} plus room for the multipart envelope, so an oversized
 * upload is never written to disk. Uploads without a Content-Length, or within the envelope room,
 * are measured exactly after the multipart parse ({@code ArtifactStorage.checkUploadSize}).
 */
@ApplicationScoped
public class UploadLimitFilter {

    /** Room for multipart boundaries, part headers and small form fields (lineage JSON, ids). */
    static final long MULTIPART_ENVELOPE_BYTES = 1024 * 1024;

    void install(@Observes Router router, ArtifactsConfig config, ObjectMapper mapper) {
        long limit = config.maxUploadBytes();
        router.route().order(Integer.MIN_VALUE + 100).handler(ctx -> {
            var request = ctx.request();
            if (request.method() == HttpMethod.POST && request.path().startsWith("/v1/")) {
                String header = request.getHeader("Content-Length");
                long announced = -1;
                try {
                    announced = header == null ? -1 : Long.parseLong(header.trim());
                } catch (NumberFormatException ignored) {
                    // malformed: let the HTTP layer reject it
                }
                if (announced > limit + MULTIPART_ENVELOPE_BYTES) {
                    Problem p = new Problem("/problems/upload-too-large", "Payload too large", 413,
                            "the request announces " + announced + " bytes; the upload limit (foundry.artifacts.max-upload-bytes) is "
                                    + limit + " bytes", request.path(), null);
                    String body;
                    try {
                        body = mapper.writeValueAsString(p);
                    } catch (JsonProcessingException e) {
                        body = "{\"status\":413}";
                    }
                    ctx.response().setStatusCode(413)
                            .putHeader("Content-Type", Problem.MEDIA_TYPE)
                            .putHeader("Connection", "close")
                            .end(body);
                    return;
                }
            }
            ctx.next();
        });
    }
}
