// The proposals list: filterable (the filters live in the URL), with live
// status badges; a proposal created or changed anywhere shows up here at once.
import { api } from '../api';
import { formatTime, h, replace } from '../dom';
import type { Page } from '../main';
import { navigate } from '../nav';
import { badgeList, reloadOn } from './common';

const kStatuses = ['open', 'approved', 'conflicted', 'merged', 'rejected', 'withdrawn', 'all'];
const kKinds = ['', 'add', 'recode', 'amend', 'retire'];

export const proposalsPage: Page = async (main, _params, query) => {
  const status = query.get('status') ?? 'open';
  const kind = query.get('kind') ?? '';
  const agreement = query.get('agreement') ?? '';
  const author = query.get('author') ?? '';
  const list = h('div', { id: 'proposal-list', 'aria-live': 'polite' });
  const count = h('p', { class: 'muted', id: 'proposal-count' });

  const apply = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const q = new URLSearchParams();
    for (const [k, v] of f.entries()) if (v) q.set(k, String(v));
    navigate(`/proposals?${q}`);
  };
  const select = (name: string, label: string, values: string[], value: string) =>
    h('div', { class: 'field' }, h('label', { for: `f-${name}` }, label),
      h('select', { id: `f-${name}`, name }, values.map((v) => h('option', { value: v, selected: v === value }, v || 'any'))));
  const text = (name: string, label: string, value: string) =>
    h('div', { class: 'field' }, h('label', { for: `f-${name}` }, label), h('input', { id: `f-${name}`, name, value, type: 'search' }));

  replace(
    main,
    h('h1', {}, 'Proposals'),
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter proposals', onsubmit: apply },
      select('status', 'Status', kStatuses, status), select('kind', 'Kind', kKinds, kind),
      text('agreement', 'Agreement id', agreement), text('author', 'Author', author),
      h('button', { type: 'submit' }, 'Filter')),
    count,
    list,
  );

  const load = async () => {
    const q = new URLSearchParams({ limit: '200' });
    if (status !== 'all') q.set('status', status);
    if (kind) q.set('kind', kind);
    if (agreement) q.set('agreement', agreement);
    if (author) q.set('author', author);
    const page = await api<{ items: any[] }>(`/proposals?${q}`);
    const items = [...(page.items ?? [])].sort((a, b) => (b.id ?? 0) - (a.id ?? 0));
    count.textContent = `${items.length} proposal${items.length === 1 ? '' : 's'}`;
    if (!items.length) return replace(list, h('p', { class: 'notice' }, 'No proposal matches these filters.'));
    replace(
      list,
      h('div', { class: 'table-wrap' }, h('table', { class: 'stack' },
        h('thead', {}, h('tr', {}, ['#', 'Agreement', 'Kind', 'Author', 'Status', 'Updated'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, items.map((p) =>
          h('tr', { 'data-proposal': p.id },
            h('td', { 'data-label': '#' }, h('a', { href: `/proposals/${p.id}`, 'data-link': true }, `#${p.id}`)),
            h('td', { 'data-label': 'Agreement' }, h('a', { href: `/proposals/${p.id}`, 'data-link': true }, p.title ?? p.agreement_id ?? ''),
              h('div', { class: 'muted' }, p.agreement_id ?? '')),
            h('td', { 'data-label': 'Kind' }, p.kind ?? ''),
            h('td', { 'data-label': 'Author' }, p.author_name ?? String(p.author ?? '')),
            h('td', { 'data-label': 'Status' }, badgeList(p)),
            h('td', { 'data-label': 'Updated' }, formatTime(p.updated_at)),
          ))))),
    );
  };
  await load();
  return reloadOn((e) => !!e.subjects?.proposal || e.type.startsWith('check') || e.type.startsWith('job'), load);
};
