import type { Page } from '../main';
import { MODELS, listAll } from '../api';
import { bytes, errorBox, h, num, page, replace, table, age } from '../ui';

/** 1,235,814,400 → "1.24 B"; 124,439,808 → "124 M" (what model cards say). */
export function paramCount(n: unknown): string {
  if (typeof n !== 'number' || !isFinite(n)) return '–';
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e8 ? 0 : 1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

/** "qwen2 · 494 M · BF16 · chat" for a model object of artifact-store. */
export function modelSummary(m: any): string {
  const a = m.annotations ?? {};
  return [m.family ?? a.model_type, paramCount(m.parameters ?? a.parameters), m.dtype ?? a.dtype, (m.chat_template ?? a.chat_template) ? 'chat template' : null]
    .filter((x) => x && x !== '–').join(' · ');
}

/** Backbones from artifact-store: the built-in encoders (owner _builtin) and the tenant's own. */
export function modelsPage(): Page {
  const body = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  void (async () => {
    try {
      const list = await listAll(MODELS);
      const models: any[] = list.data ?? [];
      if (models.length === 0) {
        replace(body, h('p', { class: 'empty' }, 'No models registered yet (the built-in encoders are imported at the first start of artifact-store).'));
        return;
      }
      replace(body, table(
        ['Name', 'Id', 'Owner', 'Family', 'Parameters', 'Dtype', 'Chat template', 'Shards', 'Size', 'Added'],
        models.map((m) => {
          const a = m.annotations ?? {};
          return [
            h('strong', {}, m.name ?? m.id),
            h('code', {}, m.id),
            m.owner ?? m.tenant ?? '–',
            [m.family ?? a.model_type ?? a.architecture, a.num_hidden_layers ? `${a.num_hidden_layers} layers` : null, a.hidden_size ? `hidden ${a.hidden_size}` : null].filter(Boolean).join(', ') || '–',
            h('span', { title: num(m.parameters ?? a.parameters ?? a.num_parameters) }, paramCount(m.parameters ?? a.parameters ?? a.num_parameters)),
            m.dtype ?? a.dtype ?? '–',
            (m.chat_template ?? a.chat_template) ? 'yes' : 'no',
            num(a.shards ?? 1),
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
