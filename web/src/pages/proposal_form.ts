// Create or revise an add or recode proposal, with evidence per element. The
// draft is checked against the codebook on every keystroke (shaping.checkDraft
// follows the server's own rules); each problem is shown at its field and the
// submit button waits until there is none. The server still has the last word.
import { api, ApiError } from '../api';
import { h, replace } from '../dom';
import type { Page } from '../main';
import { navigate } from '../nav';
import { currentUser } from '../session';
import {
  checkDraft, codingsToDraft, draftCodings, elementIds,
  type CodebookLike, type Draft, type FieldProblem,
} from '../shaping';

export const proposalFormPage: Page = async (main, params, query) => {
  if (!currentUser()) {
    replace(main, h('h1', {}, 'Propose a change'),
      h('p', { class: 'notice' }, h('a', { href: '/signin', 'data-link': true }, 'Sign in'), ' with your token to propose a change.'));
    return () => {};
  }
  const codebook = await api<CodebookLike>('/codebook');
  const labels = elementIds(codebook);
  const reviseId = params.id ? Number(params.id) : null;
  const agreements = (await api<{ items: any[] }>('/agreements?limit=500')).items ?? [];
  let baseRevision = 0;

  const draft: Draft = {
    kind: 'add', agreement_id: '', title: '', year: '', agreement_kind: '', leading_stakeholders: [],
    parties: '', source_url: '', rationale: '', codings: [],
  };
  if (reviseId) {
    const p = await api(`/proposals/${reviseId}`);
    if (p.kind !== 'add' && p.kind !== 'recode') throw new Error(`A ${p.kind} proposal is revised through the API; this form handles add and recode.`);
    const rev = (p.revisions ?? []).find((r: any) => r.number === p.revision) ?? {};
    const a = rev.proposed ?? {};
    Object.assign(draft, {
      kind: p.kind, agreement_id: p.agreement_id, title: a.title ?? '', year: a.year ? String(a.year) : '',
      agreement_kind: a.kind ?? '', leading_stakeholders: a.leading_stakeholders ?? [], parties: a.parties ?? '',
      source_url: a.source_url ?? '', rationale: rev.rationale ?? '', codings: codingsToDraft(a.codings),
    });
    if (p.kind === 'recode') {
      // A revision must be based on the agreement as it is now (that is how a conflict is rebased).
      const cur = await api(`/agreements/${encodeURIComponent(p.agreement_id)}`);
      baseRevision = cur.revision;
    }
  } else if (query.get('agreement')) {
    draft.kind = 'recode';
    draft.agreement_id = query.get('agreement')!;
  }

  const errors = new Map<string, HTMLElement>();
  const inputs = new Map<string, HTMLElement>();
  const summary = h('p', { id: 'form-summary', role: 'status', 'aria-live': 'polite' });
  const serverError = h('div', { id: 'server-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'submit' }, reviseId ? 'Submit revision' : 'Submit proposal');

  // A labelled control with its error line, wired to the draft.
  function field(name: string, label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
                 get: () => string, set: (v: string) => void, hint?: string) {
    control.id = `in-${name.replace(/\./g, '-')}`;
    control.name = name;
    control.value = get();
    const err = h('p', { class: 'error', id: `${control.id}-error` });
    control.setAttribute('aria-describedby', err.id);
    control.addEventListener('input', () => (set(control.value), validate()));
    control.addEventListener('change', () => (set(control.value), validate()));
    errors.set(name, err);
    inputs.set(name, control);
    return h('div', { class: 'field' }, h('label', { for: control.id }, label), hint ? h('span', { class: 'muted' }, hint) : null, control, err);
  }

  const metaBox = h('div', { id: 'meta' });
  const codingsBox = h('div', { id: 'codings' });
  const elementList = h('datalist', { id: 'element-ids' }, [...labels].map(([id, label]) => h('option', { value: id }, label)));

  function drawMeta() {
    for (const k of [...errors.keys()]) if (!k.startsWith('codings')) errors.delete(k);
    const kindSelect = h('select', {}, h('option', { value: 'add' }, 'add a new agreement'), h('option', { value: 'recode' }, 're-code an agreement'));
    kindSelect.disabled = !!reviseId;
    const parts: HTMLElement[] = [field('kind', 'Kind of proposal', kindSelect, () => draft.kind, (v) => {
      draft.kind = v as Draft['kind'];
      drawMeta();
      validate();
    })];
    if (draft.kind === 'recode') {
      const sel = h('select', {}, h('option', { value: '' }, 'choose…'), agreements.map((a) => h('option', { value: a.id }, `${a.title} (${a.id})`)));
      sel.disabled = !!reviseId;
      parts.push(field('agreement_id', 'Agreement', sel, () => draft.agreement_id, (v) => {
        draft.agreement_id = v;
        void loadAgreement();
      }));
    } else {
      parts.push(
        field('agreement_id', 'Id of the new agreement', h('input', { autocomplete: 'off', disabled: !!reviseId }), () => draft.agreement_id, (v) => (draft.agreement_id = v), 'a slug: lower-case letters, digits and "-"'),
        field('title', 'Title', h('input', {}), () => draft.title, (v) => (draft.title = v)),
        field('year', 'Year', h('input', { inputmode: 'numeric' }), () => draft.year, (v) => (draft.year = v)),
        field('agreement_kind', 'Kind of agreement', h('select', {}, h('option', { value: '' }, 'choose…'),
          (codebook.agreement_kinds ?? []).map((k) => h('option', { value: k.id }, k.label ?? k.id))), () => draft.agreement_kind, (v) => (draft.agreement_kind = v)),
        h('fieldset', { id: 'in-leading_stakeholders' }, h('legend', {}, 'Leading stakeholder groups'),
          (codebook.stakeholder_groups ?? []).map((g) => {
            const box = h('input', { type: 'checkbox', id: `lead-${g.id}`, value: g.id, checked: draft.leading_stakeholders.includes(g.id) });
            box.addEventListener('change', () => {
              draft.leading_stakeholders = [...document.querySelectorAll<HTMLInputElement>('#in-leading_stakeholders input:checked')].map((i) => i.value);
              validate();
            });
            return h('div', {}, box, ' ', h('label', { for: box.id }, g.label ?? g.id));
          }),
          (() => { const e = h('p', { class: 'error' }); errors.set('leading_stakeholders', e); return e; })()),
        field('parties', 'Parties or signatories', h('input', {}), () => draft.parties, (v) => (draft.parties = v)),
        field('source_url', 'Source (address of the text)', h('input', { type: 'url' }), () => draft.source_url, (v) => (draft.source_url = v)),
      );
    }
    parts.push(field('rationale', 'Rationale', h('textarea', {}), () => draft.rationale, (v) => (draft.rationale = v), 'why this change; reviewers read it first'));
    replace(metaBox, parts);
  }

  async function loadAgreement() {
    if (!draft.agreement_id) return;
    const a = await api(`/agreements/${encodeURIComponent(draft.agreement_id)}`);
    baseRevision = a.revision;
    draft.codings = codingsToDraft(a.codings);
    drawCodings();
    validate();
  }

  function drawCodings() {
    for (const k of [...errors.keys()]) if (k.startsWith('codings')) errors.delete(k);
    const rows = draft.codings.map((c, i) => {
      const f = `codings.${i}`;
      const label = h('span', { class: 'muted', id: `label-${i}` }, labels.get(c.element) ?? '');
      const elementInput = h('input', { list: 'element-ids', autocomplete: 'off' });
      const elementField = field(`${f}.element`, `Element ${i + 1}`, elementInput, () => c.element, (v) => {
        c.element = v.trim();
        label.textContent = labels.get(c.element) ?? '';
      });
      const evidence = c.evidence.map((e, j) => {
        const g = `${f}.evidence.${j}`;
        return h('fieldset', { class: 'panel' }, h('legend', {}, `Evidence ${j + 1}`),
          field(`${g}.quote`, 'Quote (verbatim)', h('textarea', {}), () => e.quote ?? '', (v) => (e.quote = v)),
          field(`${g}.locator`, 'Locator (article, paragraph, page)', h('input', {}), () => e.locator ?? '', (v) => (e.locator = v)),
          field(`${g}.source_url`, 'Source of the quote (optional)', h('input', { type: 'url' }), () => e.source_url ?? '', (v) => (e.source_url = v)),
          h('button', { type: 'button', onclick: () => (c.evidence.splice(j, 1), drawCodings(), validate()) }, `Remove evidence ${j + 1}`));
      });
      const evErr = h('p', { class: 'error', id: `${f}-evidence-error` });
      errors.set(`${f}.evidence`, evErr);
      return h('div', { class: 'coding-row', 'data-row': i },
        elementField, label,
        evidence, evErr,
        h('div', { class: 'actions' },
          h('button', { type: 'button', onclick: () => (c.evidence.push({ quote: '', locator: '', source_url: '' }), drawCodings(), validate()) }, `Add evidence to element ${i + 1}`),
          h('button', { type: 'button', class: 'danger', onclick: () => (draft.codings.splice(i, 1), drawCodings(), validate()) }, `Remove element ${i + 1}`)),
        field(`${f}.note`, 'Note (optional)', h('input', {}), () => c.note, (v) => (c.note = v)));
    });
    replace(codingsBox, rows.length ? rows : h('p', { class: 'muted' }, 'No element coded. An agreement with no coding counts as not coded.'),
      h('button', { type: 'button', id: 'add-element', onclick: () => {
        draft.codings.push({ element: '', note: '', evidence: [{ quote: '', locator: '', source_url: '' }] });
        drawCodings();
        validate();
        (inputs.get(`codings.${draft.codings.length - 1}.element`) as HTMLInputElement | undefined)?.focus();
      } }, 'Add an element'));
  }

  let problems: FieldProblem[] = [];
  function validate() {
    problems = checkDraft(draft, codebook);
    const by = new Map<string, string[]>();
    for (const p of problems) by.set(p.field, [...(by.get(p.field) ?? []), p.message]);
    for (const [name, el] of errors) {
      const msgs = by.get(name) ?? [];
      el.textContent = msgs.join('; ');
      inputs.get(name)?.setAttribute('aria-invalid', msgs.length ? 'true' : 'false');
    }
    summary.textContent = problems.length ? `${problems.length} thing${problems.length === 1 ? '' : 's'} to fix before submitting.` : 'Ready to submit.';
    submit.disabled = problems.length > 0;
  }

  async function onSubmit(e: Event) {
    e.preventDefault();
    validate();
    if (problems.length) return (inputs.get(problems[0].field) as HTMLElement | undefined)?.focus();
    const codings = draftCodings(draft);
    let body: any;
    if (draft.kind === 'add') {
      const agreement: any = {
        id: draft.agreement_id, title: draft.title.trim(), kind: draft.agreement_kind,
        leading_stakeholders: draft.leading_stakeholders, parties: draft.parties.trim(), codings,
      };
      if (draft.year.trim()) agreement.year = Number(draft.year);
      if (draft.source_url.trim()) agreement.source_url = draft.source_url.trim();
      body = { agreement, rationale: draft.rationale.trim() };
    } else {
      body = { base_revision: baseRevision, codings, rationale: draft.rationale.trim() };
    }
    if (!reviseId) Object.assign(body, draft.kind === 'add' ? { kind: 'add' } : { kind: 'recode', agreement_id: draft.agreement_id });
    submit.disabled = true;
    try {
      const p = await api(reviseId ? `/proposals/${reviseId}/revisions` : '/proposals', { method: 'POST', body });
      navigate(`/proposals/${p.id}`);
    } catch (err) {
      replace(serverError, h('p', { class: 'alert' }, `The server refused the proposal: ${(err as ApiError).message}`));
      submit.disabled = false;
    }
  }

  drawMeta();
  drawCodings();
  replace(main,
    h('h1', {}, reviseId ? `Revise proposal #${reviseId}` : 'Propose a change'),
    h('form', { id: 'proposal-form', novalidate: true, onsubmit: onSubmit },
      metaBox,
      h('h2', {}, 'Coding, with evidence for each element'),
      elementList, codingsBox,
      serverError, summary, submit));
  if (draft.kind === 'recode' && draft.agreement_id && !reviseId) await loadAgreement();
  validate();
  return () => {};
};
