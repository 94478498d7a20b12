package io.peftfoundry.engine.training;

/**
 * Linear warmup over the first {@code ceil(warmupRatio · total)} steps, then linear or cosine decay to 0.
 * Step {@code s} (0-based) of the warmup uses {@code peak · (s + 1) / warmup}, so no step runs at lr 0.
 */
public record LearningRateSchedule(double peak, long totalSteps, long warmupSteps, boolean cosine) {

    public static LearningRateSchedule of(double peak, long totalSteps, double warmupRatio, boolean cosine) {
        return new LearningRateSchedule(peak, totalSteps, (long) Math.ceil(warmupRatio * totalSteps), cosine);
    }

    public double at(long step) {
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        long decaySteps = Math.max(1, totalSteps - warmupSteps);
        double progress = Math.min(1.0, (double) (step - warmupSteps) / decaySteps);
        return cosine ? peak * 0.5 * (1 + Math.cos(Math.PI * progress)) : peak * (1 - progress);
    }
}
