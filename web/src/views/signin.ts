import { ApiError } from '../api.js';
import { h } from '../dom.js';

/** The token is kept in sessionStorage only: closing the tab signs out. */
export function signInView(signIn: (token: string) => Promise<void>): HTMLElement {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'token-help',
  });
  const message = h('p', {
    class: 'notice error',
    role: 'alert',
    hidden: true,
    'data-testid': 'signin-error',
  });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'signin',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        button.disabled = true;
        message.hidden = true;
        try {
          await signIn(input.value.trim());
        } catch (err) {
          message.textContent =
            err instanceof ApiError && err.status === 401
              ? 'This token is not known to the server.'
              : (err as Error).message;
          message.hidden = false;
          button.disabled = false;
          input.focus();
        }
      },
    },
    h('h1', {}, 'tally'),
    h('p', { class: 'lead' }, 'AI chargeback: who spent what, and what should not be charged.'),
    h('label', { for: 'token' }, 'Access token'),
    input,
    h(
      'p',
      { id: 'token-help', class: 'help' },
      'A finance, admin or team token from the access list of tally.yaml (the demo writes them to tally-demo/tokens.txt).',
    ),
    message,
    button,
  );
  queueMicrotask(() => input.focus());
  return form;
}
