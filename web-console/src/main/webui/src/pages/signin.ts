import type { Page } from '../main';
import { ApiError, WHOAMI, plainText, signIn } from '../api';
import { h, page, replace } from '../ui';

/** Sign in with an API key: job-api's whoami says which tenant it belongs to. The key stays in sessionStorage. */
export function signInPage(): Page {
  const key = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false', size: 48 });
  const message = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Sign in');

  const form = h(
    'form',
    {
      class: 'card narrow',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const value = key.value.trim();
        if (!value) return;
        submit.disabled = true;
        replace(message, h('p', { class: 'muted' }, 'Checking the key…'));
        try {
          const res = await fetch(WHOAMI, { headers: { Authorization: `Bearer ${value}`, Accept: 'application/json' } });
          if (res.ok) {
            const me = await res.json();
            signIn(value, String(me.tenant ?? '?'));
            location.hash = '#/jobs';
            return;
          }
          if (res.status === 401 || res.status === 403) {
            replace(message, h('p', { class: 'error', role: 'alert' }, 'This API key was not accepted. Check it and try again.'));
          } else {
            const detail = new ApiError(res.status, plainText(await res.text()).slice(0, 300) || res.statusText);
            unverified(value, `job-api could not check the key (HTTP ${detail.status}: ${detail.message})`);
          }
        } catch (e) {
          unverified(value, `the console did not answer (${(e as Error).message})`);
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('p', {}, 'Sign in with an API key. ', h('code', {}, './foundry up'), ' prints the admin key once and keeps it in ', h('code', {}, '.foundry/admin-key'), '.'),
    h('label', { for: 'api-key' }, 'API key'),
    key,
    h('div', { class: 'actions' }, submit),
    message,
  );

  // job-api down: say so, and let the user go on with an unchecked key (the other services check it themselves)
  function unverified(value: string, why: string): void {
    replace(
      message,
      h(
        'div',
        { class: 'notice', role: 'alert' },
        h('p', {}, `Could not verify the key: ${why}.`),
        h('button', {
          type: 'button',
          class: 'secondary',
          onclick: () => {
            signIn(value, 'unverified');
            location.hash = '#/jobs';
          },
        }, 'Continue with an unverified key'),
      ),
    );
  }

  setTimeout(() => key.focus(), 0);
  return { el: page('Sign in', form) };
}
