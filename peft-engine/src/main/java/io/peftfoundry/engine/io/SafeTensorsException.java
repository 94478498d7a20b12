package io.peftfoundry.engine.io;

import java.io.IOException;

/** A safetensors file that cannot be read: the message names the file, tensor and problem. */
public class SafeTensorsException extends IOException {
    public SafeTensorsException(String message) {
        super(message);
    }
}
