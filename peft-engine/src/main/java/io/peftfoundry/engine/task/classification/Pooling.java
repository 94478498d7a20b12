package io.peftfoundry.engine.task.classification;

/** How a sequence becomes one vector: the first ([CLS]) token, or the mean over real tokens. */
public enum Pooling {
    CLS, MEAN;

    public static Pooling parse(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "cls" -> CLS;
            case "mean" -> MEAN;
            default -> throw new IllegalArgumentException("pooling: must be 'mean' or 'cls', got '" + s + "'");
        };
    }
}
