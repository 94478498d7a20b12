package io.peftfoundry.engine.task.causal.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What Hugging Face chat templates expect of their Jinja environment, on HubSpot's Jinjava. transformers renders them in
 * a sandboxed jinja2 environment with {@code trim_blocks} and {@code lstrip_blocks}, the globals
 * {@code raise_exception(msg)} and {@code strftime_now(fmt)}, a {@code tojson} filter that is Python's
 * {@code json.dumps(ensure_ascii=False)} (", " and ": " separators, optional {@code indent}), a
 * {@code {% generation %}} block (marks assistant text for {@code return_assistant_tokens_mask}; here it only renders
 * its body, assistant spans come from prefix rendering) and Python's str methods ({@code .strip()},
 * {@code .startswith(…)}, {@code .split(…)} …), which Jinjava does not know.
 */
public final class JinjaCompat {

    private JinjaCompat() {}

    /** Thrown by the template's {@code raise_exception(message)}. */
    static final class TemplateRaised extends RuntimeException {
        TemplateRaised(String message) {
            super(message);
        }
    }

    static Jinjava environment() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(resolver)
                .withMaxOutputSize(64L << 20)
                .build();
        Jinjava jinjava = new Jinjava(config);
        try {
            jinjava.registerFunction(new ELFunctionDefinition("", "raise_exception",
                    JinjaCompat.class.getDeclaredMethod("raiseException", String.class)));
            jinjava.registerFunction(new ELFunctionDefinition("", "strftime_now",
                    JinjaCompat.class.getDeclaredMethod("strftimeNow", String.class)));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
        jinjava.registerFilter(new PythonToJson());
        jinjava.registerTag(new GenerationTag());
        return jinjava;
    }

    public static String raiseException(String message) {
        throw new TemplateRaised(message);
    }

    /** Python's {@code datetime.now().strftime(fmt)} for the directives templates use (%d %b %Y %B %m %H %M %S …). */
    public static String strftimeNow(String format) {
        return strftime(ZonedDateTime.now(), format);
    }

    static String strftime(ZonedDateTime t, String format) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            char d = format.charAt(++i);
            String pattern = switch (d) {
                case 'd' -> "dd";
                case 'm' -> "MM";
                case 'Y' -> "yyyy";
                case 'y' -> "yy";
                case 'b' -> "MMM";
                case 'B' -> "MMMM";
                case 'a' -> "EEE";
                case 'A' -> "EEEE";
                case 'H' -> "HH";
                case 'I' -> "hh";
                case 'M' -> "mm";
                case 'S' -> "ss";
                case 'p' -> "a";
                case 'j' -> "DDD";
                default -> null;
            };
            if (d == '%') {
                out.append('%');
            } else if (pattern == null) {
                out.append('%').append(d);
            } else {
                out.append(DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH).format(t));
            }
        }
        return out.toString();
    }

    /** {@code {% generation %}…{% endgeneration %}}: renders the body. */
    static final class GenerationTag implements Tag {
        @Override
        public String getName() {
            return "generation";
        }

        @Override
        public String getEndTagName() {
            return "endgeneration";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            StringBuilder out = new StringBuilder();
            for (Node child : tagNode.getChildren()) {
                out.append(child.render(interpreter).getValue());
            }
            return out.toString();
        }
    }

    /** Python's {@code json.dumps(value, ensure_ascii=False, indent=indent)}, as transformers' tojson filter. */
    static final class PythonToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            Integer indent = args.length > 0 && args[0] != null ? Integer.valueOf(args[0]) : null;
            return dumps(var, indent);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
            return dumps(var, indent == null ? null : ((Number) (indent instanceof String s ? Integer.valueOf(s) : indent)).intValue());
        }
    }

    static String dumps(Object value, Integer indent) {
        StringBuilder out = new StringBuilder();
        write(out, value, indent, 0);
        return out.toString();
    }

    private static void write(StringBuilder out, Object v, Integer indent, int depth) {
        if (v == null) {
            out.append("null");
        } else if (v instanceof Boolean b) {
            out.append(b ? "true" : "false");
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            out.append(d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 1e16 ? String.format(Locale.ROOT, "%.1f", d)
                    : Double.toString(d));
        } else if (v instanceof Number n) {
            out.append(n);
        } else if (v instanceof Map<?, ?> m) {
            writeContainer(out, '{', '}', new ArrayList<>(m.entrySet()), indent, depth, (e, o) -> {
                Map.Entry<?, ?> entry = (Map.Entry<?, ?>) e;
                quote(o, String.valueOf(entry.getKey()));
                o.append(": ");
                write(o, entry.getValue(), indent, depth + 1);
            });
        } else if (v instanceof Iterable<?> it) {
            List<Object> items = new ArrayList<>();
            it.forEach(items::add);
            writeContainer(out, '[', ']', items, indent, depth, (e, o) -> write(o, e, indent, depth + 1));
        } else if (v instanceof Object[] arr) {
            writeContainer(out, '[', ']', Arrays.asList(arr), indent, depth, (e, o) -> write(o, e, indent, depth + 1));
        } else {
            quote(out, v.toString());
        }
    }

    private interface ItemWriter {
        void write(Object item, StringBuilder out);
    }

    private static void writeContainer(StringBuilder out, char open, char close, List<?> items, Integer indent, int depth,
            ItemWriter w) {
        out.append(open);
        if (items.isEmpty()) {
            out.append(close);
            return;
        }
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                out.append(indent == null ? ", " : ",");
            }
            if (indent != null) {
                out.append('\n').append(" ".repeat(indent * (depth + 1)));
            }
            w.write(items.get(i), out);
        }
        if (indent != null) {
            out.append('\n').append(" ".repeat(indent * depth));
        }
        out.append(close);
    }

    private static void quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** Python str methods on Java strings ({@code 'x'.startswith('y')}); other calls fall through to Jinjava's resolver. */
    static final class PythonStringMethods extends ELResolver {
        @Override
        public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
            if (!(base instanceof String s) || !(method instanceof String name)) {
                return null;
            }
            Object[] p = params == null ? new Object[0] : params;
            Object result = switch (name) {
                case "startswith" -> p.length == 1 ? startsOrEnds(s, p[0], true) : null;
                case "endswith" -> p.length == 1 ? startsOrEnds(s, p[0], false) : null;
                case "strip" -> p.length == 0 ? s.strip() : stripChars(stripChars(s, str(p[0]), true), str(p[0]), false);
                case "lstrip" -> p.length == 0 ? s.stripLeading() : stripChars(s, str(p[0]), true);
                case "rstrip" -> p.length == 0 ? s.stripTrailing() : stripChars(s, str(p[0]), false);
                case "upper" -> p.length == 0 ? s.toUpperCase(Locale.ROOT) : null;
                case "lower" -> p.length == 0 ? s.toLowerCase(Locale.ROOT) : null;
                case "title" -> p.length == 0 ? title(s) : null;
                case "capitalize" -> p.length == 0 && !s.isEmpty()
                        ? s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT) : p.length == 0 ? s : null;
                case "replace" -> p.length == 2 ? s.replace(str(p[0]), str(p[1])) : null;
                case "split" -> split(s, p);
                case "find" -> p.length == 1 ? (Object) (long) s.indexOf(str(p[0])) : null;
                case "count" -> p.length == 1 ? (Object) count(s, str(p[0])) : null;
                default -> null;
            };
            if (result != null) {
                context.setPropertyResolved(true);
            }
            return result;
        }

        private static String str(Object o) {
            return o == null ? null : o.toString();
        }

        private static Object startsOrEnds(String s, Object arg, boolean start) {
            List<String> options = new ArrayList<>();
            if (arg instanceof Iterable<?> it) {
                it.forEach(o -> options.add(String.valueOf(o)));
            } else {
                options.add(String.valueOf(arg));
            }
            return options.stream().anyMatch(o -> start ? s.startsWith(o) : s.endsWith(o));
        }

        private static String stripChars(String s, String chars, boolean leading) {
            if (chars == null) {
                return leading ? s.stripLeading() : s.stripTrailing();
            }
            int a = 0;
            int b = s.length();
            if (leading) {
                while (a < b && chars.indexOf(s.charAt(a)) >= 0) {
                    a++;
                }
            } else {
                while (b > a && chars.indexOf(s.charAt(b - 1)) >= 0) {
                    b--;
                }
            }
            return s.substring(a, b);
        }

        private static String title(String s) {
            StringBuilder out = new StringBuilder(s.length());
            boolean prevLetter = false;
            for (char c : s.toCharArray()) {
                out.append(prevLetter ? Character.toLowerCase(c) : Character.toUpperCase(c));
                prevLetter = Character.isLetter(c);
            }
            return out.toString();
        }

        private static long count(String s, String sub) {
            if (sub.isEmpty()) {
                return s.length() + 1L;
            }
            long n = 0;
            for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
                n++;
            }
            return n;
        }

        /** Python split: no separator = runs of whitespace, empty parts dropped; otherwise literal, optional maxsplit. */
        private static List<String> split(String s, Object[] p) {
            String sep = p.length > 0 ? str(p[0]) : null;
            int max = p.length > 1 ? ((Number) p[1]).intValue() : -1;
            List<String> out = new ArrayList<>();
            if (sep == null) {
                for (String part : s.strip().split("\\s+", max < 0 ? 0 : max + 1)) {
                    if (!part.isEmpty()) {
                        out.add(part);
                    }
                }
                return out;
            }
            int from = 0;
            for (int i = s.indexOf(sep); i >= 0 && (max < 0 || out.size() < max); i = s.indexOf(sep, from)) {
                out.add(s.substring(from, i));
                from = i + sep.length();
            }
            out.add(s.substring(from));
            return out;
        }

        @Override
        public Object getValue(ELContext context, Object base, Object property) {
            return null;
        }

        @Override
        public Class<?> getType(ELContext context, Object base, Object property) {
            return null;
        }

        @Override
        public void setValue(ELContext context, Object base, Object property, Object value) {}

        @Override
        public boolean isReadOnly(ELContext context, Object base, Object property) {
            return true;
        }

        @Override
        public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
            return null;
        }

        @Override
        public Class<?> getCommonPropertyType(ELContext context, Object base) {
            return null;
        }
    }
}
