import type { Page } from '../main';
import { MODELS, getJson } from '../api';
import { bytes, errorBox, h, num, page, replace, table, age } from '../ui';

/** Backbones from artifact-store: the built-in encoders (owner _builtin) and the tenant's own. */
export function modelsPage(): Page {
  const body = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  void (async () => {
    try {
      const list = await getJson(MODELS);
      const models: any[] = list.data ?? [];
      if (models.length === 0) {
        replace(body, h('p', { class: 'empty' }, 'No models registered yet (the built-in encoders are imported at the first start of artifact-store).'));
        return;
      }
      replace(body, table(
        ['Name', 'Id', 'Owner', 'Architecture', 'Parameters', 'Size', 'Added'],
        models.map((m) => {
          const a = m.annotations ?? {};
          return [
            h('strong', {}, m.name ?? m.id),
            h('code', {}, m.id),
            m.owner ?? m.tenant ?? '–',
            [a.model_type ?? a.architecture, a.num_hidden_layers ? `${a.num_hidden_layers} layers` : null, a.hidden_size ? `hidden ${a.hidden_size}` : null].filter(Boolean).join(', ') || '–',
            num(a.parameters ?? a.num_parameters ?? m.parameters),
            bytes(m.bytes ?? m.size),
            age(m.created_at),
          ];
        }),
        `${models.length} model(s)`,
      ));
    } catch (e) {
      replace(body, errorBox(e, 'The model list (artifact-store)'));
    }
  })();
  return { el: page('Models', body) };
}
