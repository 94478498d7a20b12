package io.peftfoundry.worker.service;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** Gauges on {@code /q/metrics}: {@code foundry_worker_busy} (0/1) and {@code foundry_worker_steps_per_second}. */
@ApplicationScoped
public class WorkerMetrics {

    private final AtomicInteger busy = new AtomicInteger();
    private final AtomicReference<Double> stepsPerSecond = new AtomicReference<>(0.0);

    public WorkerMetrics(MeterRegistry registry) {
        Gauge.builder("foundry.worker.busy", busy, AtomicInteger::get)
                .description("1 while this worker trains a job").register(registry);
        Gauge.builder("foundry.worker.steps.per.second", stepsPerSecond, AtomicReference::get)
                .description("optimizer steps per second of the current job (0 when idle)").register(registry);
    }

    public void busy(boolean value) {
        busy.set(value ? 1 : 0);
        if (!value) {
            stepsPerSecond.set(0.0);
        }
    }

    public void stepsPerSecond(double value) {
        stepsPerSecond.set(value);
    }
}
