// One proposal: the proposed coding beside the current one, checks and their
// findings in place, the impact on the dataset's findings, the review status
// by stakeholder group, comments, and the actions the signed-in user may take.
// Everything but the forms is redrawn when a live event touches the proposal
// or its agreement, so what people type is never lost.
import { api, ApiError } from '../api';
import { formatTime, h, replace } from '../dom';
import type { Page } from '../main';
import { currentUser, onSessionChange } from '../session';
import { actionsFor, diffCodings, elementIds, type Check, type CodebookLike, type ElementDiff } from '../shaping';
import { badgeList, evidenceView, reloadOn } from './common';

const pct = (v: unknown) => (typeof v === 'number' ? `${Math.round(v * 1000) / 10}%` : '–');

export const proposalPage: Page = async (main, params) => {
  const id = Number(params.id);
  const codebook = await api<CodebookLike>('/codebook');
  const labels = elementIds(codebook);
  const groups = codebook.stakeholder_groups ?? [];
  let p: any = await api(`/proposals/${id}`);
  let current: any = null;

  const header = h('div', { id: 'proposal-header' });
  const actions = h('section', { id: 'actions', 'aria-label': 'Actions' });
  const message = h('p', { id: 'action-message', role: 'status', 'aria-live': 'polite' });
  const review = h('section', { id: 'review-status', 'aria-labelledby': 'h-review' });
  const coding = h('section', { id: 'coding', 'aria-labelledby': 'h-coding' });
  const checks = h('section', { id: 'checks', 'aria-labelledby': 'h-checks' });
  const impact = h('section', { id: 'impact', 'aria-labelledby': 'h-impact' });
  const history = h('section', { id: 'revisions', 'aria-labelledby': 'h-revisions' });
  const comments = h('section', { id: 'comments', 'aria-labelledby': 'h-comments' });
  const commentText = h('textarea', { id: 'comment-text', name: 'text', required: true, maxlength: 20000 });
  const commentElement = h('select', { id: 'comment-element', name: 'element' });
  const reviewText = h('textarea', { id: 'review-text', name: 'review-text', maxlength: 20000 });

  const say = (text: string, bad = false) => {
    message.textContent = text;
    message.className = bad ? 'alert' : 'notice';
  };
  const act = async (what: string, path: string, body: unknown, done: string) => {
    try {
      const answer = await api(`/proposals/${id}/${path}`, { method: 'POST', body });
      // Merge, reject and withdraw answer with the whole proposal; a comment or a
      // review answers with itself and the proposal's summary, so fetch the rest.
      p = answer.revisions ? answer : await api(`/proposals/${id}`);
      say(done);
      draw();
    } catch (e) {
      say(`${what} was refused: ${(e as ApiError).message}`, true);
    }
  };

  // What the proposal is compared with: the agreement now, or, once merged,
  // as it was just before the merge. An add proposal has nothing before it.
  const loadCurrent = async () => {
    if (p.kind === 'add') return void (current = null);
    const before = p.state === 'merged' && p.merged_dataset_revision > 1 ? `?revision=${p.merged_dataset_revision - 1}` : '';
    current = await api(`/agreements/${encodeURIComponent(p.agreement_id)}${before}`).catch(() => null);
  };

  const proposed = () => {
    const revs: any[] = p.revisions ?? [];
    return revs.find((r) => r.number === p.revision) ?? revs[revs.length - 1] ?? {};
  };

  function drawHeader() {
    const rev = proposed();
    replace(
      header,
      h('h1', {}, `#${p.id} ${p.kind}: ${rev.proposed?.title ?? p.agreement_id}`),
      h('p', {}, badgeList(p)),
      h('p', { class: 'muted' },
        `by ${p.author_name ?? p.author} · revision ${p.revision} · ${p.kind === 'add' ? 'a new agreement' : `based on agreement revision ${rev.base_revision ?? '–'}`} · opened ${formatTime(p.created_at)}`,
        ' · ', h('a', { href: `/agreements/${p.agreement_id}`, 'data-link': true }, `agreement ${p.agreement_id}`)),
      h('div', { class: 'panel' }, h('strong', {}, 'Rationale: '), rev.rationale ?? ''),
    );
  }

  function drawActions() {
    const user = currentUser();
    const a = actionsFor(user, p);
    const buttons: HTMLElement[] = [];
    if (a.review) {
      const vote = (verdict: string, label: string) =>
        h('button', {
          type: 'button',
          class: verdict === 'approve' ? 'primary' : '',
          onclick: () =>
            act(label, 'reviews', { verdict, text: reviewText.value, revision: p.revision }, `Your ${label.toLowerCase()} is recorded.`).then(
              () => (reviewText.value = ''),
            ),
        }, label);
      buttons.push(
        h('div', { class: 'field', style: 'flex-basis:100%' }, h('label', { for: 'review-text' }, 'Review note (optional)'), reviewText),
        vote('approve', 'Approve'),
        vote('request_changes', 'Request changes'),
        vote('comment', 'Comment only'),
      );
    }
    if (a.revise) buttons.push(h('a', { class: 'button', href: `/proposals/${id}/revise`, 'data-link': true }, 'Revise'));
    if (a.merge)
      buttons.push(h('button', {
        type: 'button', class: 'primary', id: 'merge', disabled: !p.review?.can_merge,
        'aria-describedby': 'merge-why',
        onclick: () => act('The merge', 'merge', { revision: p.revision }, 'Merged: the agreement has a new revision.'),
      }, 'Merge'));
    if (a.reject) {
      const reason = h('input', { id: 'reject-reason', name: 'reason', placeholder: 'why' });
      buttons.push(
        h('label', { for: 'reject-reason' }, 'Reason to reject'), reason,
        h('button', { type: 'button', class: 'danger', onclick: () => act('Rejecting', 'reject', { reason: reason.value || 'rejected by a moderator' }, 'Rejected.') }, 'Reject'),
      );
    }
    if (a.withdraw)
      buttons.push(h('button', { type: 'button', class: 'danger', onclick: () => act('Withdrawing', 'withdraw', {}, 'Withdrawn.') }, 'Withdraw'));
    replace(
      actions,
      buttons.length ? h('div', { class: 'actions' }, buttons) : null,
      a.why.length ? h('p', { class: 'muted', id: 'merge-why' }, a.why.join('. ') + '.') : null,
      !user ? h('p', {}, h('a', { href: '/signin', 'data-link': true }, 'Sign in'), ' to review, comment or merge.') : null,
    );
  }

  function drawReview() {
    const r = p.review ?? {};
    const tally = new Map<string, any>((r.by_group ?? []).map((g: any) => [g.group, g]));
    replace(
      review,
      h('h2', { id: 'h-review' }, 'Multistakeholder review'),
      h('p', {}, `${r.approvals ?? 0} approval${r.approvals === 1 ? '' : 's'} from ${r.distinct_groups ?? 0} stakeholder group${r.distinct_groups === 1 ? '' : 's'}`,
        r.can_merge ? ' · the review policy is met' : ''),
      (r.missing ?? []).length ? h('ul', { id: 'missing' }, (r.missing as string[]).map((m) => h('li', {}, m))) : null,
      h('div', { class: 'table-wrap' }, h('table', { id: 'by-group' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Stakeholder group'), h('th', { scope: 'col' }, 'Approvals'), h('th', { scope: 'col' }, 'Changes requested'))),
        h('tbody', {}, groups.map((g) => {
          const t = tally.get(g.id);
          return h('tr', { 'data-group': g.id }, h('td', {}, g.label ?? g.id), h('td', { class: 'approvals' }, t?.approvals ?? 0), h('td', {}, t?.request_changes ?? 0));
        })))),
      (r.votes ?? []).length
        ? h('ul', { class: 'plain', id: 'votes' }, (r.votes as any[]).map((v) =>
            h('li', {}, h('strong', {}, v.reviewer_name ?? v.reviewer), ` (${v.group ?? 'no group'}): ${v.verdict?.replace('_', ' ')}`,
              v.text ? [' · ', v.text] : null, h('span', { class: 'muted' }, ` · revision ${v.revision} · ${formatTime(v.at)}`))))
        : h('p', { class: 'muted' }, 'No votes on the current revision yet.'),
      (r.stale_votes ?? []).length ? h('p', { class: 'muted' }, `${r.stale_votes.length} vote(s) on older revisions are shown in the history but no longer count.`) : null,
    );
  }

  const findingsFor = (pred: (f: any) => boolean) =>
    ((p.checks ?? []) as Check[]).flatMap((c) => (c.findings ?? []).filter(pred).map((f) => ({ ...f, plugin: c.plugin })));
  const findingView = (f: any) =>
    h('div', { class: `finding ${f.severity ?? ''}` }, h('strong', {}, `${f.severity ?? 'note'}`), ` (${f.plugin ?? 'check'}): ${f.message ?? ''}`);

  function codingCell(c: any, side: 'current' | 'proposed', d: ElementDiff) {
    const label = side === 'current' ? (p.state === 'merged' ? 'Before' : 'Current') : p.state === 'merged' ? 'Merged' : 'Proposed';
    if (!c) return h('td', { class: side, 'data-label': label }, h('span', { class: 'muted' }, side === 'current' ? 'not coded' : 'removed'));
    const changedEvidence = new Set((side === 'current' ? d.evidenceRemoved : d.evidenceAdded).map((e) => JSON.stringify(e)));
    return h('td', { class: side, 'data-label': label },
      (c.evidence ?? []).map((e: any) => {
        const v = evidenceView(e);
        if (changedEvidence.has(JSON.stringify(e))) v.dataset.changed = side === 'current' ? 'removed' : 'added';
        return v;
      }),
      c.note ? h('div', { class: 'muted' }, 'Note: ', c.note) : null);
  }

  function drawCoding() {
    const rev = proposed();
    const next = rev.proposed ?? {};
    const diff = diffCodings(current?.codings ?? (p.kind === 'add' ? {} : null), next.codings);
    const changed = diff.filter((d) => d.change !== 'unchanged');
    const general = findingsFor((f) => !f.element);
    replace(
      coding,
      h('h2', { id: 'h-coding' }, p.state === 'merged' ? 'Coding: before the merge and merged' : 'Coding: current and proposed'),
      h('p', {}, changed.length
        ? `${diff.filter((d) => d.change === 'added').length} element(s) added, ${diff.filter((d) => d.change === 'removed').length} removed, ${diff.filter((d) => d.change === 'changed').length} changed.`
        : p.kind === 'recode' || p.kind === 'add' ? 'No change to the coding.' : `A ${p.kind} proposal: the coding is not changed.`),
      p.kind === 'add' ? h('p', { class: 'muted' }, 'A new agreement: every coding is an addition.') : null,
      general.length ? h('div', {}, general.map(findingView)) : null,
      diff.length
        ? h('div', { class: 'table-wrap' }, h('table', { class: 'stack', id: 'coding-diff' },
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Element'), h('th', { scope: 'col' }, p.state === 'merged' ? 'Before' : 'Current'),
              h('th', { scope: 'col' }, p.state === 'merged' ? 'Merged' : 'Proposed'))),
            h('tbody', {}, diff.map((d) =>
              h('tr', { class: d.change, 'data-element': d.element, 'data-change': d.change },
                h('td', { 'data-label': 'Element' }, h('strong', {}, labels.get(d.element) ?? d.element), h('div', { class: 'muted' }, `${d.element} · ${d.change}`),
                  findingsFor((f) => f.element === d.element).map(findingView)),
                codingCell(d.before, 'current', d),
                codingCell(d.after, 'proposed', d))))))
        : h('p', { class: 'muted' }, 'Neither side codes any element.'),
    );
  }

  function drawChecks() {
    const list: Check[] = p.checks ?? [];
    replace(
      checks,
      h('h2', { id: 'h-checks' }, 'Checks'),
      !('checks' in p)
        ? h('p', { class: 'muted' }, 'Checks are not available on this server yet.')
        : !list.length
          ? h('p', { class: 'muted' }, 'No check has run on this revision.')
          : h('ul', { class: 'plain' }, list.map((c) =>
              h('li', { 'data-check': c.plugin ?? '' },
                h('span', { class: `badge ${c.status === 'passed' ? 'ok' : c.status === 'failed' || c.status === 'error' ? 'bad' : 'info'}` }, c.status ?? 'unknown'),
                h('strong', {}, c.plugin ?? 'check'), c.summary ? ` · ${c.summary}` : '',
                (c.findings ?? []).length ? h('div', {}, (c.findings ?? []).map((f) => findingView({ ...f, plugin: c.plugin }))) : null))),
    );
  }

  // The impact analysis (docs/analyses.md): {status, summary, result} where
  // result lists only what the proposal would change in the findings.
  function drawImpact() {
    const imp = p.impact;
    let body: HTMLElement;
    if (imp === undefined) body = h('p', { class: 'muted' }, 'The impact analysis is not available on this server yet.');
    else if (!imp || !imp.result) {
      const st = imp?.status ?? 'not started';
      body = h('p', { class: 'muted', 'data-state': st }, `The impact on the dataset's findings is ${st === 'failed' || st === 'error' ? 'not available: the analysis failed' : `being computed (${st})`}.`, imp?.summary ? ` ${imp.summary}` : '');
    } else {
      const r = imp.result;
      const lines: (string | HTMLElement)[] = [];
      for (const [name, a] of Object.entries<any>(r.analyses ?? {})) {
        for (const x of a?.ranks ?? []) lines.push(`${name}: ${labels.get(x.element) ?? x.element} moves from rank ${x.before ?? '–'} to ${x.after ?? '–'}`);
        for (const x of a?.shares ?? []) lines.push(`${name}: ${labels.get(x.element) ?? x.element} share ${pct(x.before)} → ${pct(x.after)}`);
        for (const x of a?.directions ?? []) lines.push(`${name}: ${labels.get(x.element) ?? x.element} trend ${x.before ?? '–'} → ${x.after ?? '–'}`);
        for (const x of a?.pairs ?? []) lines.push(`${name}: ${labels.get(x.a) ?? x.a} with ${labels.get(x.b) ?? x.b}: ${x.before ?? 0} → ${x.after ?? 0}`);
        for (const f of a?.findings ?? []) lines.push(h('span', {}, h('strong', {}, 'Finding changes: '), `${f.before ?? '(none)'} → ${f.after ?? '(none)'}`));
      }
      body = h('div', {},
        h('p', {}, r.summary ?? imp.summary ?? (r.changes === false ? 'No change to the dataset\'s findings.' : '')),
        lines.length ? h('ul', { id: 'impact-list' }, lines.map((l) => h('li', {}, l))) : null,
        r.coverage?.after?.text ? h('p', { class: 'muted' }, `Coverage after the change: ${r.coverage.after.text}`) : null);
    }
    replace(impact, h('h2', { id: 'h-impact' }, 'Impact on the findings'), body);
  }

  function drawRevisions() {
    replace(history, h('h2', { id: 'h-revisions' }, 'Revisions'),
      h('ol', {}, (p.revisions ?? []).map((r: any) =>
        h('li', {}, `revision ${r.number} · ${formatTime(r.created_at)} · base ${r.base_revision ?? '–'} · `, r.rationale ?? ''))));
  }

  function drawComments() {
    const list: any[] = p.comments ?? [];
    replace(comments, h('h2', { id: 'h-comments' }, `Comments (${list.length})`),
      list.length
        ? h('ul', { class: 'plain', id: 'comment-list' }, list.map((c) =>
            h('li', { 'data-comment': c.id },
              h('strong', {}, c.author_name ?? c.author), c.element ? h('span', { class: 'muted' }, ` on ${labels.get(c.element) ?? c.element}`) : null,
              c.field ? h('span', { class: 'muted' }, ` on ${c.field}`) : null,
              h('span', { class: 'muted' }, ` · ${formatTime(c.at)}${c.resolved ? ' · resolved' : ''}`),
              h('div', {}, c.text ?? ''))))
        : h('p', { class: 'muted', id: 'comment-list' }, 'No comments yet.'),
      currentUser() ? commentForm : null);
  }

  const commentForm = h('form', {
    id: 'comment-form',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      if (!commentText.value.trim()) return say('Write a comment first.', true);
      const body: any = { text: commentText.value };
      if (commentElement.value) body.element = commentElement.value;
      await act('The comment', 'comments', body, 'Comment added.');
      if (message.className !== 'alert') commentText.value = '';
    },
  },
  h('div', { class: 'field' }, h('label', { for: 'comment-text' }, 'Add a comment'), commentText),
  h('div', { class: 'field' }, h('label', { for: 'comment-element' }, 'About the element (optional)'), commentElement),
  h('button', { type: 'submit' }, 'Comment'));
  replace(commentElement, h('option', { value: '' }, 'the whole proposal'),
    [...labels].map(([id, label]) => h('option', { value: id }, label)));

  function draw() {
    drawHeader();
    drawActions();
    drawReview();
    drawCoding();
    drawChecks();
    drawImpact();
    drawRevisions();
    drawComments();
  }

  await loadCurrent();
  replace(main, header, actions, message, review, coding, checks, impact, comments, history);
  draw();

  const offSession = onSessionChange(draw);
  const offLive = reloadOn(
    (e) => e.subjects?.proposal === String(id) || (!!e.subjects?.agreement && e.subjects.agreement === p.agreement_id),
    async () => {
      p = await api(`/proposals/${id}`);
      await loadCurrent();
      draw();
    },
  );
  return () => {
    offSession();
    offLive();
  };
};
