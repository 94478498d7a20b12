package io.peftfoundry.support.paging;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One page of a list and whether more follow; {@link #body} is the list object every list endpoint answers with:
 * {@code {"object": "list", "data": [...], "has_more": bool, "first_id": id|null, "last_id": id|null}} — what the
 * official OpenAI clients' cursor pagination reads (they ask again with {@code after=last_id} while {@code has_more}).
 */
public record Page<T>(List<T> data, boolean hasMore) {

    public Page {
        data = List.copyOf(data);
    }

    /** The page from rows fetched with {@link PageRequest#fetchSize()}: a row beyond the limit means more follow. */
    public static <T> Page<T> of(List<T> fetched, PageRequest request) {
        boolean more = fetched.size() > request.limit();
        return new Page<>(more ? fetched.subList(0, request.limit()) : fetched, more);
    }

    /**
     * A page of a list that is already in memory in its final order (small lists assembled from several sources, e.g.
     * base models and adapters): the items after the one whose id is {@code after}; an unknown {@code after} is a 400.
     */
    public static <T> Page<T> slice(List<T> all, PageRequest request, Function<T, String> id, String what) {
        int from = 0;
        if (request.after() != null) {
            from = -1;
            for (int i = 0; i < all.size(); i++) {
                if (request.after().equals(id.apply(all.get(i)))) {
                    from = i + 1;
                    break;
                }
            }
            if (from < 0) {
                throw request.unknownAfter(what);
            }
        }
        int to = Math.min(all.size(), from + request.limit());
        return new Page<>(all.subList(from, to), to < all.size());
    }

    public <R> Page<R> map(Function<T, R> f) {
        return new Page<>(data.stream().map(f).toList(), hasMore);
    }

    /** The list object, each item rendered by {@code view}; {@code first_id}/{@code last_id} are {@code id} of the ends. */
    public Map<String, Object> body(Function<T, ?> view, Function<T, String> id) {
        List<Object> items = new ArrayList<>(data.size());
        data.forEach(t -> items.add(view.apply(t)));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("object", "list");
        m.put("data", items);
        m.put("has_more", hasMore);
        m.put("first_id", data.isEmpty() ? null : id.apply(data.get(0)));
        m.put("last_id", data.isEmpty() ? null : id.apply(data.get(data.size() - 1)));
        return m;
    }
}
