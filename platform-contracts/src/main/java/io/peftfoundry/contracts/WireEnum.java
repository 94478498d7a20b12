package io.peftfoundry.contracts;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * An enum whose JSON form is a lower-case word ({@code "lora"}, {@code "queued"}) rather than the Java constant name.
 * Each implementing enum annotates {@link #wire()} with {@code @JsonValue} and has a {@code @JsonCreator} factory that
 * delegates to {@link #fromWire(Class, String)}.
 */
public interface WireEnum {

    /** The value as it appears in JSON. */
    String wire();

    /** The constant whose {@link #wire()} equals {@code value}, or empty. */
    static <E extends Enum<E> & WireEnum> Optional<E> find(Class<E> type, String value) {
        for (E constant : type.getEnumConstants()) {
            if (constant.wire().equals(value)) {
                return Optional.of(constant);
            }
        }
        return Optional.empty();
    }

    /** Like {@link #find} but throws {@link IllegalArgumentException} naming the allowed values. */
    static <E extends Enum<E> & WireEnum> E fromWire(Class<E> type, String value) {
        return find(type, value).orElseThrow(() -> new IllegalArgumentException(
                "unknown value \"" + value + "\", expected one of " + allowed(type)));
    }

    /** The allowed JSON values, comma separated, for messages. */
    static <E extends Enum<E> & WireEnum> String allowed(Class<E> type) {
        return Arrays.stream(type.getEnumConstants()).map(WireEnum::wire).collect(Collectors.joining(", "));
    }
}
