package io.peftfoundry.engine.model;

import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

import java.util.ArrayList;
import java.util.List;

/** Children named "0", "1", … as in PyTorch's ModuleList; not callable itself. */
public class HfModuleList<T extends HfModule> extends HfModule {

    private final List<T> items = new ArrayList<>();

    public T add(T item) {
        module(Integer.toString(items.size()), item);
        items.add(item);
        return item;
    }

    public T get(int i) {
        return items.get(i);
    }

    public int size() {
        return items.size();
    }

    public List<T> items() {
        return items;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        throw new UnsupportedOperationException("a module list is not called directly");
    }
}
