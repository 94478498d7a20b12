package io.peftfoundry.engine.cli;

public final class Main {
    public static void main(String[] args) {
        System.out.println("peft-engine");
    }
}
