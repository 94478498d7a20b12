package io.peftfoundry.engine.task.classification;

/** One classification example: text, optional second text, string label (null when unlabelled). */
public record Example(String text, String textPair, String label) {}
