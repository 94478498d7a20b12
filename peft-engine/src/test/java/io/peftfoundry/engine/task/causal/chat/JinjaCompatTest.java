package io.peftfoundry.engine.task.causal.chat;

import org.junit.jupiter.api.Test;

import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Jinja features Hugging Face chat templates use, with the output Python's jinja2 gives (transformers' environment). */
class JinjaCompatTest {

    static String render(String template, Map<String, Object> extra) {
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("a", 1);
        java.util.ArrayList<Object> b = new java.util.ArrayList<>();
        b.add(true);
        b.add(null);
        b.add("é\"");
        x.put("b", b);
        x.put("c", Map.of());
        Map<String, Object> msg0 = Map.of("role", "user", "content", "q");
        Map<String, Object> msg1 = Map.of("role", "assistant", "content", "a");
        ChatTemplate t = new ChatTemplate(template, "test", Map.of("bos_token", "<s>"));
        Map<String, Object> ctx = new LinkedHashMap<>(extra);
        ctx.put("x", x);
        return t.render(List.of(msg0, msg1), false, List.of(x));
    }

    @Test
    void tojsonIsPythonJsonDumps() {
        // jinja2 + transformers: {{ x | tojson }} and tojson(indent=2) of {'a': 1, 'b': [True, None, 'é"'], 'c': {}}
        assertEquals("{\"a\": 1, \"b\": [true, null, \"é\\\"\"], \"c\": {}}", render("{{ tools[0] | tojson }}", Map.of()));
        assertEquals("{\n  \"a\": 1,\n  \"b\": [\n    true,\n    null,\n    \"é\\\"\"\n  ],\n  \"c\": {}\n}",
                render("{{ tools[0] | tojson(indent=2) }}", Map.of()));
    }

    @Test
    void pythonStringMethodsLoopAndNamespaceBehaveAsInJinja2() {
        assertEquals("a b|yes|4|x/y|user,assistant|2|<s>", render("{{ '  a b  '.strip() }}|{% if 'abc'.startswith('ab') %}yes{% endif %}"
                + "|{{ 'a,b,,c'.split(',') | length }}|{{ ' x  y '.split() | join('/') }}"
                + "|{% for m in messages %}{{ m.role }}{% if not loop.last %},{% endif %}{% endfor %}"
                + "|{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}"
                + "|{{ bos_token }}", Map.of()));
    }

    @Test
    void trimAndLstripBlocksAsTransformersConfiguresJinja2() {
        // jinja2 with trim_blocks + lstrip_blocks renders "[q][a]\nEND" for this layout
        assertEquals("[q][a]\nEND", render("{% for m in messages %}\n  {% if m.content %}\n[{{ m.content }}]\n{%- endif %}\n{% endfor %}\n\nEND",
                Map.of()));
    }

    @Test
    void strftimeNowFollowsPythonDirectives() {
        ZonedDateTime t = ZonedDateTime.of(2024, 7, 26, 9, 5, 3, 0, ZoneId.of("UTC"));
        // datetime(2024, 7, 26, 9, 5, 3).strftime("%d %b %Y, %A %H:%M:%S %% %j") in Python
        assertEquals("26 Jul 2024, Friday 09:05:03 % 208", JinjaCompat.strftime(t, "%d %b %Y, %A %H:%M:%S %% %j"));
        assertEquals(String.valueOf(java.time.Year.now().getValue()), render("{{ strftime_now('%Y') }}", Map.of()));
    }
}
