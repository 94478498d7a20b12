package io.peftfoundry.engine.cli;

import java.io.PrintStream;

/**
 * A one-line progress bar on stderr. On a terminal it redraws in place; otherwise (logs, pipes) it
 * prints a line at most every 5 %, so the output stays readable.
 */
final class ProgressBar {

    private static final int WIDTH = 30;
    private final PrintStream out;
    private final boolean terminal;
    private int lastPercentPrinted = -1;
    private long lastDraw;

    ProgressBar(PrintStream out) {
        this.out = out;
        this.terminal = System.console() != null;
    }

    void update(long done, long total, String detail) {
        int pct = total <= 0 ? 0 : (int) Math.min(100, done * 100 / total);
        long now = System.nanoTime();
        if (terminal) {
            if (done < total && now - lastDraw < 100_000_000L) {
                return;
            }
            lastDraw = now;
            int filled = total <= 0 ? 0 : (int) (WIDTH * Math.min(done, total) / total);
            out.print("\r[" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "] " + String.format("%3d%% ", pct) + detail
                    + "   ");
            if (done >= total) {
                out.println();
            }
            out.flush();
        } else if (lastPercentPrinted < 0 || pct / 5 != lastPercentPrinted / 5 || now - lastDraw > 15_000_000_000L
                || done >= total && lastPercentPrinted != 100) {
            lastPercentPrinted = pct;
            lastDraw = now;
            out.println(String.format("%3d%% ", pct) + detail);
        }
    }

    static String duration(double seconds) {
        if (!Double.isFinite(seconds)) {
            return "?";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : s >= 60 ? String.format("%dm%02ds", s / 60, s % 60)
                : s + "s";
    }
}
