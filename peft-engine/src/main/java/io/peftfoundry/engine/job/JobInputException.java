package io.peftfoundry.engine.job;

/** A job input that cannot work, found before any training: names the spec field and what is wrong. */
public class JobInputException extends IllegalArgumentException {

    private final String field;

    public JobInputException(String field, String message) {
        super(field + ": " + message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
