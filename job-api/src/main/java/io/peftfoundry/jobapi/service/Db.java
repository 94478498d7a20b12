package io.peftfoundry.jobapi.service;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;

/** Runs a unit of work in one JDBC transaction: committed when it returns, rolled back when it throws. */
final class Db {

    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private Db() {
    }

    static <T> T inTransaction(DataSource dataSource, Work<T> work) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }
}
