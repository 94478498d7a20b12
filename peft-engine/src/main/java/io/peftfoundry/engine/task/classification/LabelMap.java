package io.peftfoundry.engine.task.classification;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * String labels ↔ class ids. Ids follow the sorted label order, so the same training file always
 * yields the same map. Stored with the adapter as {@code label2id}/{@code id2label} (the
 * transformers config.json convention) in {@code labels.json}.
 */
public final class LabelMap {

    private final List<String> labels;

    public LabelMap(List<String> labels) {
        if (labels.size() < 2) {
            throw new IllegalArgumentException("classification needs at least 2 distinct labels, got " + labels);
        }
        if (new TreeSet<>(labels).size() != labels.size()) {
            throw new IllegalArgumentException("duplicate labels in " + labels);
        }
        this.labels = List.copyOf(labels);
    }

    public static LabelMap fromObserved(Collection<String> observed) {
        return new LabelMap(new ArrayList<>(new TreeSet<>(observed)));
    }

    public int size() {
        return labels.size();
    }

    public String label(int id) {
        return labels.get(id);
    }

    public List<String> labels() {
        return labels;
    }

    /** @return the id, or -1 if the label is unknown */
    public int id(String label) {
        return labels.indexOf(label);
    }

    public ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        ObjectNode id2label = n.putObject("id2label");
        ObjectNode label2id = n.putObject("label2id");
        for (int i = 0; i < labels.size(); i++) {
            id2label.put(Integer.toString(i), labels.get(i));
            label2id.put(labels.get(i), i);
        }
        return n;
    }

    public static LabelMap fromJson(JsonNode n) {
        JsonNode id2label = n.get("id2label");
        if (id2label == null || !id2label.isObject()) {
            throw new IllegalArgumentException("labels.json: missing id2label object");
        }
        String[] arr = new String[id2label.size()];
        for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) id2label::fields) {
            int i = Integer.parseInt(e.getKey());
            if (i < 0 || i >= arr.length) {
                throw new IllegalArgumentException("labels.json: id " + i + " out of range 0.." + (arr.length - 1));
            }
            arr[i] = e.getValue().asText();
        }
        return new LabelMap(List.of(arr));
    }
}
