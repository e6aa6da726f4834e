// Unit tests of the dashboard's data shaping (src/shaping.ts): badges, the
// coding diff, role-based actions, the draft checks, chart series and CSV.
import { describe, expect, it } from 'vitest';
import {
  actionsFor, badgesFor, chartedSeries, checkDraft, codingsToDraft, cooccurrenceMatrix, coverageText, diffCodings, draftCodings,
  frequencyRows, frequencyTable, matrixTable, toCsv, trendSeries, trendTable,
  type CodebookLike, type Draft,
} from '../src/shaping';

const ids = (b: { id: string }[]) => b.map((x) => x.id);

describe('badgesFor', () => {
  const open = { state: 'open', review: { approvals: 0, by_group: [], missing: ['needs 2 more approvals from 2 different stakeholder groups'], can_merge: false } };

  it('flags an open proposal without civil society approval', () => {
    expect(ids(badgesFor(open))).toEqual(['needs-civil-society', 'needs-review']);
  });

  it('drops "needs civil society" once civil society approved', () => {
    const p = { ...open, review: { ...open.review, by_group: [{ group: 'civil-society', approvals: 1 }], missing: ['needs 1 more approval from a stakeholder group other than Civil society'] } };
    expect(ids(badgesFor(p))).toEqual(['needs-review']);
  });

  it('says mergeable when the policy is met, whatever the groups', () => {
    const p = { state: 'approved', review: { can_merge: true, by_group: [{ group: 'government', approvals: 2 }], missing: [] } };
    expect(ids(badgesFor(p))).toEqual(['mergeable']);
  });

  it('shows running and failed checks and conflicts', () => {
    const p = {
      state: 'conflicted',
      review: { conflicted: true, can_merge: false, missing: [] },
      checks: [{ plugin: 'a', status: 'running' }, { plugin: 'b', status: 'failed' }],
    };
    expect(ids(badgesFor(p))).toEqual(['conflicted', 'checks-running', 'checks-failed']);
  });

  it('a closed proposal has only its state', () => {
    expect(badgesFor({ state: 'merged', review: { can_merge: true } })).toEqual([{ id: 'merged', label: 'merged', tone: 'ok' }]);
    expect(ids(badgesFor({ status: 'withdrawn' }))).toEqual(['withdrawn']);
  });

  it('tolerates a summary with no review at all', () => {
    expect(ids(badgesFor({}))).toEqual(['needs-civil-society']);
  });
});

describe('diffCodings', () => {
  const q = (quote: string, locator = 'p. 1') => ({ quote, locator });
  it('classifies elements as added, removed, changed and unchanged, sorted', () => {
    const before = { b: { evidence: [q('x')], note: '' }, c: { evidence: [q('y')], note: 'n' }, d: { evidence: [q('z')] } };
    const after = { a: { evidence: [q('new')] }, c: { evidence: [q('y'), q('y2', 'art. 2')], note: 'n' }, d: { evidence: [q('z')] } };
    const d = diffCodings(before, after);
    expect(d.map((x) => [x.element, x.change])).toEqual([
      ['a', 'added'], ['b', 'removed'], ['c', 'changed'], ['d', 'unchanged'],
    ]);
    const c = d.find((x) => x.element === 'c')!;
    expect(c.evidenceAdded).toEqual([q('y2', 'art. 2')]);
    expect(c.evidenceRemoved).toEqual([]);
    expect(c.noteChanged).toBe(false);
  });

  it('a changed locator or note is a change', () => {
    expect(diffCodings({ a: { evidence: [q('x', 'p. 1')] } }, { a: { evidence: [q('x', 'p. 2')] } })[0].change).toBe('changed');
    const n = diffCodings({ a: { evidence: [q('x')], note: 'old' } }, { a: { evidence: [q('x')], note: 'new' } })[0];
    expect([n.change, n.noteChanged]).toEqual(['changed', true]);
  });

  it('handles a missing side (an add proposal, a retired record)', () => {
    expect(diffCodings(null, { a: {} }).map((x) => x.change)).toEqual(['added']);
    expect(diffCodings({ a: {} }, undefined).map((x) => x.change)).toEqual(['removed']);
    expect(diffCodings(null, null)).toEqual([]);
  });
});

describe('actionsFor', () => {
  const p = { id: 1, author: 5, state: 'open', review: { can_merge: false, missing: ['needs 1 more approval'] } };
  it('offers nothing but sign-in to a visitor', () => {
    const a = actionsFor(null, p);
    expect([a.review, a.merge, a.comment]).toEqual([false, false, false]);
  });
  it('lets a reviewer with a group vote, not the author', () => {
    expect(actionsFor({ id: 7, name: 'r', role: 'contributor', stakeholder_group: 'academia' }, p).review).toBe(true);
    const own = actionsFor({ id: 5, name: 'a', role: 'contributor', stakeholder_group: 'academia' }, p);
    expect([own.review, own.revise, own.withdraw]).toEqual([false, true, true]);
    expect(actionsFor({ id: 8, name: 'x', role: 'contributor', stakeholder_group: null }, p).review).toBe(false);
  });
  it('gives merge and reject to moderators and explains what is missing', () => {
    const m = actionsFor({ id: 9, name: 'm', role: 'moderator', stakeholder_group: 'government' }, p);
    expect([m.merge, m.reject, m.revise]).toEqual([true, true, false]);
    expect(m.why.join(' ')).toContain('needs 1 more approval');
    expect(actionsFor({ id: 9, name: 'm', role: 'contributor', stakeholder_group: 'government' }, p).merge).toBe(false);
  });
  it('offers nothing on a closed proposal', () => {
    const a = actionsFor({ id: 9, name: 'm', role: 'admin' }, { ...p, state: 'merged' });
    expect([a.merge, a.review, a.revise]).toEqual([false, false, false]);
  });
});

describe('checkDraft', () => {
  const cb: CodebookLike = {
    categories: [{ id: 'c', elements: [{ id: 'human-rights', label: 'Human rights' }, { id: 'ransomware', label: 'Ransomware' }] }],
    agreement_kinds: [{ id: 'bilateral' }],
    stakeholder_groups: [{ id: 'government' }],
  };
  const ok: Draft = {
    kind: 'add', agreement_id: 'test-2024', title: 'T', year: '2024', agreement_kind: 'bilateral',
    leading_stakeholders: ['government'], parties: '', source_url: 'https://example.org/t', rationale: 'why',
    codings: [{ element: 'human-rights', note: '', evidence: [{ quote: 'q', locator: 'art. 1', source_url: '' }] }],
  };
  const fields = (d: Draft) => checkDraft(d, cb).map((p) => p.field);

  it('accepts a complete draft', () => expect(checkDraft(ok, cb)).toEqual([]));
  it('names each bad field', () => {
    expect(fields({ ...ok, agreement_id: 'Bad Id', year: '1800', agreement_kind: 'treaty', source_url: 'ftp://x', rationale: ' ' }))
      .toEqual(['agreement_id', 'year', 'agreement_kind', 'source_url', 'rationale']);
  });
  it('checks elements against the codebook, duplicates and evidence', () => {
    const d: Draft = {
      ...ok,
      codings: [
        { element: 'human-right', note: '', evidence: [{ quote: 'q', locator: 'l' }] },
        { element: 'ransomware', note: '', evidence: [] },
        { element: 'ransomware', note: '', evidence: [{ quote: ' ', locator: '', source_url: 'nope' }] },
      ],
    };
    expect(fields(d)).toEqual([
      'codings.0.element', 'codings.1.evidence', 'codings.2.element',
      'codings.2.evidence.0.quote', 'codings.2.evidence.0.locator', 'codings.2.evidence.0.source_url',
    ]);
    expect(checkDraft(d, cb)[0].message).toContain('not an element of the codebook');
  });
  it('a recode needs its agreement, not the add fields', () => {
    expect(fields({ ...ok, kind: 'recode', agreement_id: '', title: '', agreement_kind: '' })).toEqual(['agreement_id']);
  });
  it('round-trips codings through the draft, trimming and dropping empty sources', () => {
    const codings = { 'human-rights': { evidence: [{ quote: 'q', locator: 'art. 1', source_url: 'https://x.org' }], note: 'n' } };
    expect(draftCodings({ ...ok, codings: codingsToDraft(codings) })).toEqual(codings);
    expect(draftCodings({ ...ok, codings: [{ element: 'ransomware', note: ' ', evidence: [{ quote: ' q ', locator: 'l', source_url: ' ' }] }] }))
      .toEqual({ ransomware: { evidence: [{ quote: 'q', locator: 'l' }], note: '' } });
  });
});

describe('analyses shaping', () => {
  it('ranks element frequency and exports it', () => {
    const doc = {
      coverage: { coded: 19, total: 33, text: '19 of 33 agreements coded' },
      elements: [
        { element: 'b', label: 'B', category: 'x', count: 3, share: 3 / 19, rank: 2 },
        { element: 'a', label: 'A, "quoted"', category: 'x', count: 7, share: 7 / 19, rank: 1 },
      ],
    };
    const rows = frequencyRows(doc);
    expect(rows.map((r) => r.element)).toEqual(['a', 'b']);
    expect(toCsv(frequencyTable(rows))).toBe(
      'rank,element,label,category,count,share\r\n1,a,"A, ""quoted""",x,7,0.3684\r\n2,b,B,x,3,0.1579\r\n',
    );
    expect(coverageText(doc.coverage)).toBe('19 of 33 agreements coded');
    expect(coverageText({ coded: 1, total: 4 })).toBe('1 of 4 agreements coded (25%)');
    expect(coverageText(undefined)).toBe('coverage unknown');
  });

  it('reads both trend shapes onto one year axis', () => {
    const points = { series: [{ element: 'a', label: 'A', points: [{ year: 2015, count: 1 }, { year: 2018, count: 4 }] }, { element: 'b', points: [{ year: 2016, count: 2 }] }] };
    const t = trendSeries(points);
    expect(t.years).toEqual([2015, 2016, 2018]);
    expect(t.series).toEqual([{ element: 'a', label: 'A', values: [1, 0, 4] }, { element: 'b', label: 'b', values: [0, 2, 0] }]);
    expect(trendTable(t)).toEqual({ header: ['year', 'a', 'b'], rows: [[2015, 1, 0], [2016, 0, 2], [2018, 4, 0]] });
    const axis = trendSeries({ years: [2020, 2021], series: [{ element: 'a', counts: [3, 5] }] });
    expect(axis.series[0].values).toEqual([3, 5]);
    expect(trendSeries(null)).toEqual({ years: [], series: [] });
  });

  it('reads the trend document of docs/analyses.md and picks the series to chart', () => {
    const doc = {
      years: [2013, 2015, 2018],
      elements: [
        { element: 'a', label: 'A', by_year: { count: [1, 1, 1], share: [1, 1, 1] }, trend: { direction: 'flat' } },
        { element: 'b', label: 'B', by_year: { count: [0, 0, 2], share: [0, 0, 1] }, trend: { direction: 'growing' } },
        { element: 'c', label: 'C', by_year: { count: [0, 0, 0], share: [0, 0, 0] }, trend: { direction: 'insufficient-data' } },
      ],
    };
    const t = trendSeries(doc);
    expect(t.years).toEqual([2013, 2015, 2018]);
    expect(t.series.map((s) => [s.element, s.values, s.direction])).toEqual([
      ['a', [1, 1, 1], 'flat'], ['b', [0, 0, 2], 'growing'], ['c', [0, 0, 0], 'insufficient-data'],
    ]);
    expect(chartedSeries(t).map((s) => s.element)).toEqual(['b', 'a']);
    expect(chartedSeries(t, 1).map((s) => s.element)).toEqual(['b']);
  });

  it('builds a symmetric co-occurrence matrix from either pair shape', () => {
    const m = cooccurrenceMatrix({ pairs: [['b', 'a', 2], { a: 'a', b: 'c', count: 1 }, ['a', 'd', 0]] }, new Map([['a', 'A']]));
    expect(m.ids).toEqual(['a', 'b', 'c']);
    expect(m.labels).toEqual(['A', 'b', 'c']);
    expect(matrixTable(m)).toEqual({
      header: ['element', 'a', 'b', 'c'],
      rows: [['a', 0, 2, 1], ['b', 2, 0, 0], ['c', 1, 0, 0]],
    });
  });

  it('guards CSV cells a spreadsheet would run as formulas, not numbers', () => {
    expect(toCsv({ header: ['x'], rows: [['=SUM(A1)'], ['@cmd'], [-3], [null], ['line\nbreak']] })).toBe(
      "x\r\n'=SUM(A1)\r\n'@cmd\r\n-3\r\n\r\n\"line\nbreak\"\r\n",
    );
  });
});
