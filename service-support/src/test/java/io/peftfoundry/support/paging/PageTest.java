package io.peftfoundry.support.paging;

import io.peftfoundry.support.problem.ProblemException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PageTest {

    private static final List<String> ITEMS = IntStream.rangeClosed(1, 7).mapToObj(i -> "item-" + i).toList();

    @Test
    void limitDefaultsAndIsBounded() {
        assertEquals(PageRequest.DEFAULT_LIMIT, PageRequest.of(null, null).limit());
        assertEquals(100, PageRequest.of(null, null, 100).limit());
        assertEquals(PageRequest.MAX_LIMIT, PageRequest.of(PageRequest.MAX_LIMIT, null).limit());
        for (int bad : new int[] {0, -1, PageRequest.MAX_LIMIT + 1}) {
            ProblemException e = assertThrows(ProblemException.class, () -> PageRequest.of(bad, null));
            assertEquals(400, e.status());
            assertEquals("limit", e.errors().get(0).field());
        }
        assertNull(PageRequest.of(5, " ").after(), "a blank after starts at the beginning");
        assertEquals("after", assertThrows(ProblemException.class, () -> PageRequest.of(5, "x".repeat(256)))
                .errors().get(0).field());
    }

    @Test
    void aFetchedRowBeyondTheLimitMeansMoreFollow() {
        PageRequest three = PageRequest.of(3, null);
        assertEquals(4, three.fetchSize());
        Page<String> page = Page.of(ITEMS.subList(0, 4), three);
        assertEquals(ITEMS.subList(0, 3), page.data());
        assertTrue(page.hasMore());
        Page<String> last = Page.of(ITEMS.subList(0, 3), three);
        assertEquals(3, last.data().size());
        assertFalse(last.hasMore());
    }

    /** Following last_id page by page (as the SDKs do) visits every item once, in order, and stops. */
    @Test
    void walkingSlicesByLastIdVisitsEveryItemOnce() {
        List<String> seen = new ArrayList<>();
        String after = null;
        int pages = 0;
        while (true) {
            Map<String, Object> body = Page.slice(ITEMS, PageRequest.of(3, after), s -> s, "item")
                    .body(s -> Map.of("id", s), s -> s);
            pages++;
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> data = (List<Map<String, Object>>) body.get("data");
            data.forEach(d -> seen.add((String) d.get("id")));
            assertEquals("list", body.get("object"));
            assertEquals(data.get(0).get("id"), body.get("first_id"));
            assertEquals(data.get(data.size() - 1).get("id"), body.get("last_id"));
            if (!(Boolean) body.get("has_more")) {
                break;
            }
            after = (String) body.get("last_id");
        }
        assertEquals(ITEMS, seen);
        assertEquals(3, pages, "7 items, 3 a page: 3 + 3 + 1");
    }

    @Test
    void anEmptyListHasNullEndsAndNoMore() {
        Map<String, Object> body = Page.slice(List.<String>of(), PageRequest.of(null, null), s -> s, "item")
                .body(Function.identity(), s -> s);
        assertEquals(List.of(), body.get("data"));
        assertEquals(false, body.get("has_more"));
        assertNull(body.get("first_id"));
        assertNull(body.get("last_id"));
    }

    @Test
    void anUnknownAfterIsA400NamingAfter() {
        ProblemException e = assertThrows(ProblemException.class,
                () -> Page.slice(ITEMS, PageRequest.of(3, "item-99"), s -> s, "item"));
        assertEquals(400, e.status());
        assertEquals("after", e.errors().get(0).field());
        assertTrue(e.getMessage().contains("item-99"), e.getMessage());
    }
}
