package io.peftfoundry.support.paging;

import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.contracts.Problem;
import io.peftfoundry.support.problem.ProblemException;

import java.util.List;

/**
 * The query of a list endpoint, as OpenAI's lists take it: {@code limit} items (1–{@value #MAX_LIMIT}, default
 * {@value #DEFAULT_LIMIT} unless an endpoint documents another) after the item whose id is {@code after} (the
 * {@code last_id} of the previous page), or from the start when {@code after} is absent.
 *
 * <p>Repositories fetch {@link #fetchSize()} rows (one more than asked) with a keyset condition on their sort key —
 * e.g. {@code (created_at, id) < (SELECT created_at, id FROM t WHERE id = ?)} for newest first — never an offset, so a
 * page costs the same however deep and stays stable while rows are added; {@link Page#of} turns the extra row into
 * {@code has_more}.
 */
public record PageRequest(int limit, String after) {

    public static final int DEFAULT_LIMIT = 20;
    public static final int MAX_LIMIT = 100;

    /** {@code limit} and {@code after} from the query string with the default limit. */
    public static PageRequest of(Integer limit, String after) {
        return of(limit, after, DEFAULT_LIMIT);
    }

    /** As {@link #of(Integer, String)} with an endpoint's own default; a bad {@code limit} is a 400 naming it. */
    public static PageRequest of(Integer limit, String after, int defaultLimit) {
        if (defaultLimit < 1 || defaultLimit > MAX_LIMIT) {
            throw new IllegalArgumentException("default limit must be 1–" + MAX_LIMIT + ", got " + defaultLimit);
        }
        if (limit != null && (limit < 1 || limit > MAX_LIMIT)) {
            throw invalid("limit", "must be 1–" + MAX_LIMIT + ", got " + limit);
        }
        if (after != null && after.length() > 255) {
            throw invalid("after", "must be the id of an item of the list (at most 255 characters)");
        }
        return new PageRequest(limit == null ? defaultLimit : limit, after == null || after.isBlank() ? null : after);
    }

    /** Rows to fetch: one more than {@link #limit()}, so the page knows whether more follow. */
    public int fetchSize() {
        return limit + 1;
    }

    /** The 400 for an {@code after} that names no item of this list (or one the caller may not see). */
    public ProblemException unknownAfter(String what) {
        return invalid("after", "no " + what + " '" + after + "' in this list to continue after");
    }

    private static ProblemException invalid(String field, String message) {
        FieldError error = new FieldError(field, message);
        return new ProblemException(400, Problem.TYPE_VALIDATION, "Invalid request", error.toString(), List.of(error));
    }
}
