package io.peftfoundry.support.messaging;

import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.Set;

/**
 * Tells a failure a retry can get past (the database restarting, a connection refused or reset, a timeout) from one
 * it cannot (a message that does not parse, a constraint violation, a bug). Walks the cause chain.
 */
public final class Transients {

    /**
     * SQLSTATE classes that describe the server or the connection, not the statement: 08 connection exception,
     * 40 transaction rollback (serialization failure, deadlock), 53 insufficient resources, 55 object not in
     * prerequisite state (lock not available), 57 operator intervention (admin shutdown, cannot connect now),
     * 58 system error, XX internal error.
     */
    private static final Set<String> TRANSIENT_SQL_CLASSES = Set.of("08", "40", "53", "55", "57", "58", "XX");

    private Transients() {
    }

    public static boolean isTransient(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof TransientFailure || t instanceof SQLTransientException
                    || t instanceof SQLRecoverableException || t instanceof ConnectException
                    || t instanceof SocketTimeoutException || t instanceof SocketException
                    || t instanceof UnknownHostException || t instanceof HttpConnectTimeoutException
                    || t instanceof HttpTimeoutException || t instanceof InterruptedIOException) {
                return true;
            }
            if (t instanceof SQLException sql) {
                String state = sql.getSQLState();
                // no SQLSTATE: the pool's own failures (acquisition timeout, no connection to hand out)
                if (state == null || state.length() < 2 || TRANSIENT_SQL_CLASSES.contains(state.substring(0, 2))) {
                    return true;
                }
            }
        }
        return false;
    }
}
