package io.peftfoundry.devstack;

/** One piece of infrastructure that can be stopped and started again on the same port and data. */
public interface Component extends AutoCloseable {

    /** {@code kafka}, {@code postgres} or {@code s3}. */
    String name();

    /** Starts the component and returns once it really answers; does nothing when already up. */
    void start();

    /** Stops the component and releases its port; does nothing when already stopped. */
    void stop();

    /** True when the component is started and answers on its port. */
    boolean isUp();

    @Override
    default void close() {
        stop();
    }
}
