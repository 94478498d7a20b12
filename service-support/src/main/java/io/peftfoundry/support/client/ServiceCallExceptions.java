package io.peftfoundry.support.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.rest.client.ext.ResponseExceptionMapper;

/**
 * Turns an error answer of another service into a {@link ServiceCallException} carrying its status and the
 * problem+json {@code detail} (register on a client with {@code @RegisterProvider}); 5xx and 429 become
 * {@link ServiceCallException.Transient}, which the clients' {@code @Retry} retries.
 */
public class ServiceCallExceptions implements ResponseExceptionMapper<ServiceCallException> {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_DETAIL = 2000;

    @Override
    public ServiceCallException toThrowable(Response response) {
        int status = response.getStatus();
        String detail = detail(response);
        return status >= 500 || status == 429
                ? new ServiceCallException.Transient(status, detail)
                : new ServiceCallException(status, detail);
    }

    @Override
    public boolean handles(int status, jakarta.ws.rs.core.MultivaluedMap<String, Object> headers) {
        return status >= 400;
    }

    private static String detail(Response response) {
        String body;
        try {
            body = response.hasEntity() ? response.readEntity(String.class) : "";
        } catch (RuntimeException e) {
            return "";
        }
        if (body == null) {
            return "";
        }
        try {
            JsonNode n = JSON.readTree(body);
            if (n != null && n.hasNonNull("detail")) {
                return n.get("detail").asText();
            }
        } catch (Exception notJson) {
            // fall through to the raw body
        }
        return body.length() > MAX_DETAIL ? body.substring(0, MAX_DETAIL) + "…" : body;
    }
}
