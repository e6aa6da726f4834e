// Sign in with a token (an admin issues it: POST /api/v1/users/{id}/tokens or
// `normbase-server admin issue-token`). The token stays in this browser only.
import { ApiError } from '../api';
import { h, replace } from '../dom';
import type { Page } from '../main';
import { navigate } from '../nav';
import { currentUser, signIn } from '../session';

export const signInPage: Page = (main) => {
  const token = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'token-help' });
  const status = h('p', { id: 'signin-status', role: 'status', 'aria-live': 'polite' });
  const u = currentUser();
  replace(main, h('h1', {}, 'Sign in'),
    u ? h('p', { class: 'notice' }, `You are signed in as ${u.name}.`) : null,
    h('form', { id: 'signin-form', onsubmit: async (e: Event) => {
      e.preventDefault();
      status.textContent = 'Checking the token…';
      try {
        const user = await signIn(token.value);
        status.textContent = `Signed in as ${user.name}.`;
        navigate('/proposals');
      } catch (err) {
        status.className = 'alert';
        status.textContent = `Not signed in: ${(err as ApiError).message}`;
      }
    } },
      h('div', { class: 'field' }, h('label', { for: 'token' }, 'Token'), token,
        h('span', { id: 'token-help', class: 'muted' }, 'A token starts with nb_. Ask an administrator for one.')),
      h('button', { type: 'submit', class: 'primary' }, 'Sign in')),
    status);
  token.focus();
  return () => {};
};
