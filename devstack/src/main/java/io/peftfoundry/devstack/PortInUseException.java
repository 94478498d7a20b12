package io.peftfoundry.devstack;

/** A port the devstack needs is already taken; the message names the port and the variable to change. */
public class PortInUseException extends DevStackException {

    private final int port;
    private final String variable;

    public PortInUseException(String host, int port, String variable) {
        super("port " + port + " on " + host + " is already in use (" + variable + "); stop whatever holds it"
                + " (an earlier devstack?) or set " + variable + " to a free port");
        this.port = port;
        this.variable = variable;
    }

    public int port() {
        return port;
    }

    /** The environment variable that chooses this port, e.g. {@code FOUNDRY_KAFKA_PORT}. */
    public String variable() {
        return variable;
    }
}
