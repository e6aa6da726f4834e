// Agreements: the list (with its coverage: how many are coded at all), and one
// agreement with its history and the provenance of each coding — which
// version, proposal, author and moderator added or changed it, with what evidence.
import { api } from '../api';
import { formatTime, h, replace } from '../dom';
import type { Page } from '../main';
import { navigate } from '../nav';
import { elementIds, type CodebookLike } from '../shaping';
import { evidenceView, reloadOn } from './common';

export const agreementsPage: Page = async (main, _params, query) => {
  const codebook = await api<CodebookLike>('/codebook');
  const labels = elementIds(codebook);
  const q = query.get('q') ?? '';
  const element = query.get('element') ?? '';
  const list = h('div', { id: 'agreement-list' });
  const coverage = h('p', { id: 'coverage', class: 'notice' });
  const qIn = h('input', { id: 'f-q', name: 'q', type: 'search', value: q });
  const elIn = h('select', { id: 'f-element', name: 'element' }, h('option', { value: '' }, 'any'),
    [...labels].map(([id, label]) => h('option', { value: id, selected: id === element }, label)));
  replace(main, h('h1', {}, 'Agreements'),
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter agreements', onsubmit: (e: Event) => {
      e.preventDefault();
      const p = new URLSearchParams();
      if (qIn.value) p.set('q', qIn.value);
      if (elIn.value) p.set('element', elIn.value);
      navigate(`/agreements?${p}`);
    } },
      h('div', { class: 'field' }, h('label', { for: 'f-q' }, 'Text'), qIn),
      h('div', { class: 'field' }, h('label', { for: 'f-element' }, 'Codes the element'), elIn),
      h('button', { type: 'submit' }, 'Filter')),
    coverage, list);
  const load = async () => {
    const p = new URLSearchParams({ limit: '500' });
    if (q) p.set('q', q);
    if (element) p.set('element', element);
    const res = await api(`/agreements?${p}`);
    const c = res.coverage ?? {};
    coverage.textContent = `${c.agreements ?? res.items?.length ?? 0} agreements match; ${c.coded ?? '?'} coded, ${c.uncoded ?? '?'} not coded yet (dataset revision ${res.dataset_revision ?? '?'}). Counts over a partly coded set are not findings about all agreements.`;
    replace(list, h('div', { class: 'table-wrap' }, h('table', { class: 'stack' },
      h('thead', {}, h('tr', {}, ['Agreement', 'Year', 'Kind', 'Coded elements', 'Revision'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, (res.items ?? []).map((a: any) => h('tr', { 'data-agreement': a.id },
        h('td', { 'data-label': 'Agreement' }, h('a', { href: `/agreements/${a.id}`, 'data-link': true }, a.title ?? a.id)),
        h('td', { 'data-label': 'Year' }, a.year ?? '–'),
        h('td', { 'data-label': 'Kind' }, a.kind ?? ''),
        h('td', { 'data-label': 'Coded elements' }, a.coded ? Object.keys(a.codings ?? {}).length : h('span', { class: 'muted' }, 'not coded')),
        h('td', { 'data-label': 'Revision' }, a.revision ?? ''),
      ))))));
  };
  await load();
  return reloadOn((e) => !!e.subjects?.agreement || !!e.subjects?.dataset_revision, load);
};

export const agreementPage: Page = async (main, params) => {
  const id = params.id;
  const codebook = await api<CodebookLike>('/codebook');
  const labels = elementIds(codebook);
  const body = h('div', { id: 'agreement' });
  replace(main, body);
  const load = async () => {
    const [a, hist] = await Promise.all([api(`/agreements/${id}`), api(`/agreements/${id}/history`)]);
    const prov: Record<string, any[]> = hist.provenance ?? {};
    const codings = Object.entries<any>(a.codings ?? {}).sort(([x], [y]) => x.localeCompare(y));
    const provView = (element: string) => {
      const steps = prov[element] ?? [];
      if (!steps.length) return h('p', { class: 'muted' }, 'no provenance recorded');
      return h('ol', { class: 'provenance' }, steps.map((s) => h('li', {},
        `${s.change} in agreement revision ${s.agreement_revision} (dataset revision ${s.dataset_revision}) · ${formatTime(s.at)}`,
        s.proposal ? [' · ', h('a', { href: `/proposals/${s.proposal}`, 'data-link': true }, `proposal #${s.proposal}`)] : null,
        s.author_name ? ` · proposed by ${s.author_name}` : '', s.actor_name ? ` · ${s.proposal ? 'merged' : 'recorded'} by ${s.actor_name}` : '')));
    };
    replace(body,
      h('h1', {}, a.title ?? id),
      h('p', { class: 'muted' }, `${a.kind ?? ''} · ${a.year ?? 'year unknown'} · agreement revision ${a.revision}`, a.retired ? ' · retired' : ''),
      a.parties ? h('p', {}, a.parties) : null,
      a.source_url ? h('p', {}, h('a', { href: a.source_url, rel: 'noopener noreferrer', target: '_blank' }, 'Text of the agreement')) : null,
      a.coding_status ? h('p', { class: 'notice' }, a.coding_status) : null,
      h('div', { class: 'actions' }, h('a', { class: 'button', href: `/proposals/new?agreement=${encodeURIComponent(id)}`, 'data-link': true }, 'Propose a re-coding'),
        h('a', { class: 'button', href: `/proposals?agreement=${encodeURIComponent(id)}&status=all`, 'data-link': true }, 'Proposals on this agreement')),
      h('h2', {}, `Coding (${codings.length} element${codings.length === 1 ? '' : 's'})`),
      codings.length
        ? h('div', { class: 'table-wrap' }, h('table', { class: 'stack', id: 'codings' },
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Element'), h('th', { scope: 'col' }, 'Evidence'), h('th', { scope: 'col' }, 'Provenance'))),
            h('tbody', {}, codings.map(([el, c]) => h('tr', { 'data-element': el },
              h('td', { 'data-label': 'Element' }, h('strong', {}, labels.get(el) ?? el), h('div', { class: 'muted' }, el)),
              h('td', { 'data-label': 'Evidence' }, (c.evidence ?? []).map(evidenceView), c.note ? h('div', { class: 'muted' }, 'Note: ', c.note) : null),
              h('td', { 'data-label': 'Provenance' }, provView(el)))))))
        : h('p', { class: 'notice' }, 'Not coded yet: this says nothing about which elements the agreement contains.'),
      h('h2', {}, 'History'),
      h('ol', { id: 'history', reversed: true }, (hist.versions ?? []).map((v: any) => h('li', {},
        h('strong', {}, `revision ${v.agreement_revision}: ${v.change}`),
        ` · dataset revision ${v.dataset_revision} · ${formatTime(v.at)}`,
        v.proposal ? [' · ', h('a', { href: `/proposals/${v.proposal}`, 'data-link': true }, `proposal #${v.proposal}`)] : null,
        v.author_name ? ` · by ${v.author_name}` : '', v.actor_name ? ` · ${v.proposal ? 'merged by' : 'by'} ${v.actor_name}` : '',
        (v.approvers ?? []).length ? ` · approved by ${(v.approvers as any[]).map((x) => x.name ?? x.reviewer_name ?? x).join(', ')}` : '',
        v.reason ? h('div', { class: 'muted' }, v.reason) : null))));
  };
  await load();
  return reloadOn((e) => e.subjects?.agreement === id, load);
};
