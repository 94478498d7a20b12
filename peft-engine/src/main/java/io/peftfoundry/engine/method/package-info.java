/**
 * PEFT methods, one folder per method as in Hugging Face PEFT's {@code tuners/}: a config record
 * (hyperparameters built from the job spec's typed record — platform-contracts {@code *Spec}, ranges checked once by
 * {@code SpecValidator} — for a {@code model_type}, whose default target modules a table in the method's folder
 * gives, or read from {@code adapter_config.json}), the
 * layer (frozen base + new parameters) and an injector that walks the backbone. {@link
 * io.peftfoundry.engine.method.PeftMethods} maps the job spec's {@code method.type} and PEFT's
 * {@code peft_type} to them.
 *
 * <p>Adding a method: create {@code method/<name>/{XConfig, XLayer, XInjector}}, implement
 * {@link io.peftfoundry.engine.method.MethodInjector} returning an {@link
 * io.peftfoundry.engine.method.InjectedMethod}, register one line in {@code PeftMethods}. An injector receives a
 * {@link io.peftfoundry.engine.model.Backbone} — an encoder ({@link io.peftfoundry.engine.model.bert.BertModel}) or a
 * decoder ({@link io.peftfoundry.engine.model.CausalDecoder}: GPT-2, the LLaMA family) — which carries everything a
 * method needs, so injectors do not branch on the architecture: sizes (layers, hidden, heads, key/value heads, head
 * width, vocabulary), the token embedding, and these hooks:
 * <ul>
 *   <li>wrap any named linear: {@code parent.replaceModule("query", wrapper)} — paths come from
 *       {@code backbone.namedModules()} (LoRA; IA3 on key/value scales the output, IA3 on
 *       {@code output.dense} scales its input, i.e. the FFN's GELU activation);</li>
 *   <li>a block after the attention sublayer or the FFN: {@code backbone.attentionAdapterSite(i)},
 *       {@code backbone.outputAdapterSite(i)} (path, the sublayer's own LayerNorm or null, and the install hook);
 *       the module maps NDList(projected, residual) → projected';</li>
 *   <li>attention prefixes: {@code backbone.setPrefixEncoder(name, m)}, {@code m} maps NDList(inputIds) →
 *       NDList(k0, v0, …) each (B, P, kv_heads · head_dim); the mask is extended;</li>
 *   <li>soft prompts: {@code backbone.setPromptEncoder(name, m)}, {@code m} maps NDList(inputIds) → (B, P, H); the
 *       mask is extended and the prompt positions are dropped from the output.</li>
 * </ul>
 * New parameters: create with {@code HfModule.param(...)} (type {@code OTHER}), give values with
 * {@link io.peftfoundry.engine.model.HfModule#assign}, mark trainable with {@code freeze(false)};
 * backbone parameters arrive frozen. No DJL initializers are involved.
 */
package io.peftfoundry.engine.method;
