package io.peftfoundry.eval.openai;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error of the OpenAI-compatible endpoints, answered in OpenAI's shape
 * {@code {"error": {"message", "type", "param", "code"}}} (what the official clients parse), not problem+json.
 */
public class OpenAiException extends RuntimeException {

    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public OpenAiException(int status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400 invalid_request_error naming the offending field. */
    public static OpenAiException invalid(String param, String message) {
        return new OpenAiException(400, "invalid_request_error", param, null, message);
    }

    public static OpenAiException invalid(String param, String code, String message) {
        return new OpenAiException(400, "invalid_request_error", param, code, message);
    }

    /** 404 model_not_found (also for another tenant's adapter: its existence is not revealed). */
    public static OpenAiException modelNotFound(String model) {
        return new OpenAiException(404, "invalid_request_error", "model", "model_not_found",
                "The model '" + model + "' does not exist or you do not have access to it.");
    }

    public Response toResponse() {
        return response(status, type, param, code, getMessage());
    }

    public static Response response(int status, String type, String param, String code, String message) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", message);
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(Map.of("error", error)).build();
    }

    @Provider
    public static class Mapper implements ExceptionMapper<OpenAiException> {
        @Override
        public Response toResponse(OpenAiException e) {
            return e.toResponse();
        }
    }
}
