package io.peftfoundry.devstack;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** Small socket checks: is a port free to bind, does something answer on it. */
public final class Ports {

    private Ports() {
    }

    /** Throws {@link PortInUseException} when {@code host:port} cannot be bound. */
    public static void requireFree(String host, int port, String variable) {
        try (ServerSocket socket = new ServerSocket()) {
            // the servers we start set SO_REUSEADDR too, so a socket in TIME_WAIT does not count as taken
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName(host), port));
        } catch (IOException e) {
            throw new PortInUseException(host, port, variable);
        }
    }

    /** True when a TCP connection to {@code host:port} succeeds within {@code timeoutMillis}. */
    public static boolean answers(String host, int port, int timeoutMillis) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), timeoutMillis);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
