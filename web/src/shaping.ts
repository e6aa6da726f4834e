// Data shaping for the dashboard: pure functions from the API's JSON to what
// the pages draw — status badges, the diff of two codings, the actions a user
// may take, the checks of a draft against the codebook, chart series and CSV.
// No DOM and no fetch here, so that Vitest can test all of it in Node.
// Every function tolerates missing fields: the API grows (checks, impact,
// analyses are being added) and an older or newer server must not break a page.

export interface Evidence {
  quote?: string;
  locator?: string;
  source_url?: string;
}
export interface Coding {
  evidence?: Evidence[];
  note?: string;
}
export type Codings = Record<string, Coding>;

export interface Check {
  plugin?: string;
  status?: string; // queued | running | passed | failed | error
  summary?: string;
  findings?: { severity?: string; field?: string; element?: string; message?: string }[];
}

export interface GroupTally {
  group: string;
  label?: string;
  approvals?: number;
  request_changes?: number;
}

export interface ReviewStatus {
  state?: string;
  approvals?: number;
  distinct_groups?: number;
  request_changes?: number;
  by_group?: GroupTally[];
  missing?: string[];
  conflicted?: boolean;
  can_merge?: boolean;
  votes?: { reviewer?: number; reviewer_name?: string; group?: string; verdict?: string; text?: string; revision?: number; at?: number }[];
  stale_votes?: unknown[];
}

export interface ProposalLike {
  id?: number;
  kind?: string;
  state?: string;
  status?: string;
  author?: number;
  review?: ReviewStatus;
  checks?: Check[];
}

export interface User {
  id: number;
  name: string;
  role: string; // contributor | moderator | admin
  stakeholder_group?: string | null;
}

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted';
export interface Badge {
  id: string;
  label: string;
  tone: Tone;
}

// The stakeholder group whose review the BPF's process watches for: the
// badge list flags an open proposal that civil society has not approved yet.
export const kWatchedGroup = 'civil-society';
const kClosed = new Set(['merged', 'rejected', 'withdrawn']);

export function stateOf(p: ProposalLike): string {
  return p.state ?? p.status ?? p.review?.state ?? 'open';
}

// The live status badges of a proposal, most decisive first.
export function badgesFor(p: ProposalLike): Badge[] {
  const state = stateOf(p);
  if (kClosed.has(state)) return [{ id: state, label: state, tone: state === 'merged' ? 'ok' : 'muted' }];
  const badges: Badge[] = [];
  const review = p.review ?? {};
  const checks = p.checks ?? [];
  if (review.conflicted || state === 'conflicted')
    badges.push({ id: 'conflicted', label: 'conflicted', tone: 'bad' });
  if (checks.some((c) => c.status === 'queued' || c.status === 'running'))
    badges.push({ id: 'checks-running', label: 'checks running', tone: 'info' });
  if (checks.some((c) => c.status === 'failed' || c.status === 'error'))
    badges.push({ id: 'checks-failed', label: 'checks failed', tone: 'bad' });
  if ((review.request_changes ?? 0) > 0)
    badges.push({ id: 'changes-requested', label: 'changes requested', tone: 'warn' });
  if (review.can_merge) {
    badges.push({ id: 'mergeable', label: 'mergeable', tone: 'ok' });
  } else if (!review.conflicted) {
    const watched = (review.by_group ?? []).find((g) => g.group === kWatchedGroup);
    if (!watched || (watched.approvals ?? 0) === 0)
      badges.push({ id: 'needs-civil-society', label: 'needs civil society', tone: 'warn' });
    if ((review.missing ?? []).some((m) => /approval/.test(m)))
      badges.push({ id: 'needs-review', label: 'needs review', tone: 'info' });
  }
  return badges;
}

export type ElementChange = 'added' | 'removed' | 'changed' | 'unchanged';
export interface ElementDiff {
  element: string;
  change: ElementChange;
  before: Coding | null;
  after: Coding | null;
  evidenceAdded: Evidence[];
  evidenceRemoved: Evidence[];
  noteChanged: boolean;
}

const evidenceKey = (e: Evidence) => JSON.stringify([e.quote ?? '', e.locator ?? '', e.source_url ?? '']);

// The proposed coding against the current one, element by element (sorted by
// id so that the page and the tests see a stable order). `unchanged` entries
// are kept: the page shows the whole coding side by side.
export function diffCodings(before: Codings | null | undefined, after: Codings | null | undefined): ElementDiff[] {
  const b = before ?? {};
  const a = after ?? {};
  const ids = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
  return ids.map((element) => {
    const from = b[element] ?? null;
    const to = a[element] ?? null;
    const fromEv = from?.evidence ?? [];
    const toEv = to?.evidence ?? [];
    const fromKeys = new Set(fromEv.map(evidenceKey));
    const toKeys = new Set(toEv.map(evidenceKey));
    const evidenceAdded = toEv.filter((e) => !fromKeys.has(evidenceKey(e)));
    const evidenceRemoved = fromEv.filter((e) => !toKeys.has(evidenceKey(e)));
    const noteChanged = (from?.note ?? '') !== (to?.note ?? '');
    let change: ElementChange = 'unchanged';
    if (!from) change = 'added';
    else if (!to) change = 'removed';
    else if (evidenceAdded.length || evidenceRemoved.length || noteChanged) change = 'changed';
    return {
      element,
      change,
      before: from,
      after: to,
      evidenceAdded: from ? evidenceAdded : [],
      evidenceRemoved: to ? evidenceRemoved : [],
      noteChanged: !!from && !!to && noteChanged,
    };
  });
}

export interface Actions {
  review: boolean;
  revise: boolean;
  withdraw: boolean;
  merge: boolean;
  reject: boolean;
  comment: boolean;
  why: string[]; // why a review or merge is not offered, in plain words
}

const kRoleRank: Record<string, number> = { contributor: 0, moderator: 1, admin: 2 };
export const roleAllows = (role: string | undefined, needed: string) =>
  (kRoleRank[role ?? ''] ?? -1) >= (kRoleRank[needed] ?? 99);

// What the signed-in user may do on a proposal, mirroring the server's rules
// (docs/api.md); the server still decides, this only avoids offering buttons
// that would be refused.
export function actionsFor(user: User | null, p: ProposalLike): Actions {
  const none: Actions = { review: false, revise: false, withdraw: false, merge: false, reject: false, comment: false, why: [] };
  if (!user) return { ...none, why: ['sign in to review or comment'] };
  const open = !kClosed.has(stateOf(p));
  if (!open) return { ...none, why: [`the proposal is ${stateOf(p)}`] };
  const isAuthor = user.id === p.author;
  const isAdmin = roleAllows(user.role, 'admin');
  const moderator = roleAllows(user.role, 'moderator');
  const why: string[] = [];
  const review = !isAuthor && !!user.stakeholder_group;
  if (isAuthor) why.push('authors do not review their own proposal');
  else if (!user.stakeholder_group) why.push('your account has no stakeholder group, so your vote would not count');
  if (moderator && !p.review?.can_merge) why.push('merging waits for the review policy: ' + (p.review?.missing ?? []).join('; '));
  return {
    review,
    revise: isAuthor || isAdmin,
    withdraw: isAuthor || isAdmin,
    merge: moderator,
    reject: moderator,
    comment: true,
    why,
  };
}

// ---- the proposal form, checked against the codebook as the user types ----

export interface CodebookLike {
  categories?: { id: string; label?: string; elements?: { id: string; label?: string }[] }[];
  agreement_kinds?: { id: string; label?: string }[];
  stakeholder_groups?: { id: string; label?: string }[];
}

export interface DraftCoding {
  element: string;
  note: string;
  evidence: Evidence[];
}
export interface Draft {
  kind: 'add' | 'recode';
  agreement_id: string; // recode: the target; add: the new id
  title: string;
  year: string;
  agreement_kind: string;
  leading_stakeholders: string[];
  parties: string;
  source_url: string;
  rationale: string;
  codings: DraftCoding[];
}
export interface FieldProblem {
  field: string; // "title", "codings.2.element", "codings.2.evidence.0.quote"
  message: string;
}

export function elementIds(cb: CodebookLike): Map<string, string> {
  const m = new Map<string, string>();
  for (const c of cb.categories ?? []) for (const e of c.elements ?? []) m.set(e.id, e.label ?? e.id);
  return m;
}

const kSlug = /^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])$/;
const kUrl = /^https?:\/\/[^\s/$.?#][^\s]*$/i;

// The same rules as the server's ValidateAgreement (core/domain/agreement.cc),
// so a draft that passes here is not refused for its shape.
export function checkDraft(d: Draft, cb: CodebookLike): FieldProblem[] {
  const out: FieldProblem[] = [];
  const known = elementIds(cb);
  if (d.kind === 'add') {
    if (!kSlug.test(d.agreement_id))
      out.push({ field: 'agreement_id', message: 'an id is 2-80 characters of a-z, 0-9 and "-", not starting or ending with "-"' });
    if (!d.title.trim()) out.push({ field: 'title', message: 'a title is required' });
    if (d.year.trim()) {
      const y = Number(d.year);
      if (!Number.isInteger(y) || y < 1900 || y > 2100) out.push({ field: 'year', message: 'a year between 1900 and 2100' });
    }
    const kinds = new Set((cb.agreement_kinds ?? []).map((k) => k.id));
    if (!kinds.has(d.agreement_kind)) out.push({ field: 'agreement_kind', message: 'choose a kind of agreement from the codebook' });
    const groups = new Set((cb.stakeholder_groups ?? []).map((g) => g.id));
    for (const g of d.leading_stakeholders)
      if (!groups.has(g)) out.push({ field: 'leading_stakeholders', message: `"${g}" is not a stakeholder group of the codebook` });
    if (d.source_url.trim() && !kUrl.test(d.source_url.trim()))
      out.push({ field: 'source_url', message: 'the source must be an http(s) address' });
  } else if (!d.agreement_id) {
    out.push({ field: 'agreement_id', message: 'choose the agreement to re-code' });
  }
  if (!d.rationale.trim()) out.push({ field: 'rationale', message: 'say why: reviewers read the rationale first' });
  const seen = new Set<string>();
  d.codings.forEach((c, i) => {
    const f = `codings.${i}`;
    if (!c.element) out.push({ field: `${f}.element`, message: 'choose an element' });
    else if (!known.has(c.element)) out.push({ field: `${f}.element`, message: `"${c.element}" is not an element of the codebook` });
    else if (seen.has(c.element)) out.push({ field: `${f}.element`, message: `"${known.get(c.element)}" is coded twice` });
    seen.add(c.element);
    if (c.evidence.length === 0) out.push({ field: `${f}.evidence`, message: 'every coding needs at least one quote as evidence' });
    c.evidence.forEach((e, j) => {
      if (!(e.quote ?? '').trim()) out.push({ field: `${f}.evidence.${j}.quote`, message: 'a verbatim quote is required' });
      if (!(e.locator ?? '').trim())
        out.push({ field: `${f}.evidence.${j}.locator`, message: 'say where the quote is (article, paragraph, page)' });
      if ((e.source_url ?? '').trim() && !kUrl.test((e.source_url ?? '').trim()))
        out.push({ field: `${f}.evidence.${j}.source_url`, message: 'the source must be an http(s) address' });
    });
  });
  return out;
}

// The codings of a draft as the API takes them.
export function draftCodings(d: Draft): Codings {
  const out: Codings = {};
  for (const c of d.codings) {
    if (!c.element) continue;
    out[c.element] = {
      evidence: c.evidence.map((e) => {
        const ev: Evidence = { quote: (e.quote ?? '').trim(), locator: (e.locator ?? '').trim() };
        if ((e.source_url ?? '').trim()) ev.source_url = (e.source_url ?? '').trim();
        return ev;
      }),
      note: c.note.trim(),
    };
  }
  return out;
}

export function codingsToDraft(c: Codings | undefined | null): DraftCoding[] {
  return Object.entries(c ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([element, v]) => ({
      element,
      note: v.note ?? '',
      evidence: (v.evidence ?? []).map((e) => ({ quote: e.quote ?? '', locator: e.locator ?? '', source_url: e.source_url ?? '' })),
    }));
}

// ---- analyses: chart series and the CSV a report takes ----

export interface Coverage {
  coded?: number;
  total?: number;
  text?: string;
}

export function coverageText(c: Coverage | undefined | null): string {
  if (!c) return 'coverage unknown';
  if (c.text) return c.text;
  if (typeof c.coded === 'number' && typeof c.total === 'number') {
    const pct = c.total ? Math.round((100 * c.coded) / c.total) : 0;
    return `${c.coded} of ${c.total} agreements coded (${pct}%)`;
  }
  return 'coverage unknown';
}

export interface Table {
  header: string[];
  rows: (string | number | null)[][];
}

type Json = Record<string, unknown>;
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);

export interface FrequencyRow {
  element: string;
  label: string;
  category: string;
  count: number;
  share: number;
  rank: number;
}

// Element frequency, ranked from the most frequent.
export function frequencyRows(doc: Json | null | undefined): FrequencyRow[] {
  const rows = asArray(doc?.elements).map((x, i) => {
    const e = (x ?? {}) as Json;
    const element = str(e.element, str(e.id));
    return {
      element,
      label: str(e.label, element),
      category: str(e.category),
      count: num(e.count),
      share: num(e.share),
      rank: typeof e.rank === 'number' ? e.rank : i + 1,
    };
  });
  return rows.sort((a, b) => b.count - a.count || a.rank - b.rank || a.label.localeCompare(b.label));
}

export function frequencyTable(rows: FrequencyRow[]): Table {
  return {
    header: ['rank', 'element', 'label', 'category', 'count', 'share'],
    rows: rows.map((r) => [r.rank, r.element, r.label, r.category, r.count, Number(r.share.toFixed(4))]),
  };
}

export interface TrendSeries {
  years: number[];
  series: { element: string; label: string; values: number[]; direction?: string }[];
}

// The trend analysis (docs/analyses.md: {years, elements: [{element, label,
// by_year: {count: [...]}, trend: {direction}}]}), and two simpler shapes a
// plugin may give: per-series points ({series: [{element, points: [{year,
// count}]}]}) or a shared axis ({years, series: [{element, counts: [...]}]}).
export function trendSeries(doc: Json | null | undefined): TrendSeries {
  const raw = asArray(doc?.series ?? doc?.elements);
  const yearSet = new Set<number>(asArray(doc?.years).map(num));
  const points = raw.map((x) => {
    const s = (x ?? {}) as Json;
    const m = new Map<number, number>();
    const pts = asArray(s.points ?? s.by_year);
    const byYear = (s.by_year ?? null) as Json | null;
    if (byYear && Array.isArray(byYear.count)) {
      asArray(doc?.years).forEach((y, i) => m.set(num(y), num((byYear.count as unknown[])[i])));
    } else if (pts.length) {
      for (const p of pts) {
        const o = (p ?? {}) as Json;
        const y = num(o.year);
        m.set(y, num(o.count ?? o.value));
        yearSet.add(y);
      }
    } else if (s.by_year && typeof s.by_year === 'object') {
      for (const [y, v] of Object.entries(s.by_year as Json)) {
        m.set(Number(y), num(v));
        yearSet.add(Number(y));
      }
    } else {
      const counts = asArray(s.counts ?? s.values);
      asArray(doc?.years).forEach((y, i) => m.set(num(y), num(counts[i])));
    }
    const element = str(s.element, str(s.id));
    const direction = str(((s.trend ?? {}) as Json).direction);
    return { element, label: str(s.label, element), direction, m };
  });
  const years = [...yearSet].filter((y) => y > 0).sort((a, b) => a - b);
  return {
    years,
    series: points.map((p) => ({
      element: p.element, label: p.label, values: years.map((y) => p.m.get(y) ?? 0),
      ...(p.direction ? { direction: p.direction } : {}),
    })),
  };
}

// The series a chart can show legibly: those with a clear direction first,
// then the largest, `max` at most (the CSV keeps them all).
export function chartedSeries(t: TrendSeries, max = 8): TrendSeries['series'] {
  const total = (s: TrendSeries['series'][number]) => s.values.reduce((a, b) => a + b, 0);
  const clear = (s: TrendSeries['series'][number]) => (s.direction === 'growing' || s.direction === 'declining' ? 1 : 0);
  return [...t.series].filter((s) => total(s) > 0).sort((a, b) => clear(b) - clear(a) || total(b) - total(a)).slice(0, max);
}

export function trendTable(t: TrendSeries): Table {
  return { header: ['year', ...t.series.map((s) => s.element)], rows: t.years.map((y, i) => [y, ...t.series.map((s) => s.values[i])]) };
}

export interface Matrix {
  ids: string[];
  labels: string[];
  cells: [number, number, number][]; // [x, y, count], symmetric, no diagonal
}

// Co-occurrence as a symmetric matrix over the elements that occur in a pair:
// pairs as objects ({a, b, count}) or triples ([a, b, n]).
export function cooccurrenceMatrix(doc: Json | null | undefined, labels: Map<string, string> = new Map()): Matrix {
  const pairs: [string, string, number][] = [];
  for (const x of asArray(doc?.pairs)) {
    if (Array.isArray(x)) pairs.push([str(x[0]), str(x[1]), num(x[2])]);
    else {
      const o = (x ?? {}) as Json;
      pairs.push([str(o.a ?? o.element_a), str(o.b ?? o.element_b), num(o.count ?? o.n)]);
    }
  }
  for (const e of asArray(doc?.elements)) {
    const o = (e ?? {}) as Json;
    if (typeof o.element === 'string' && typeof o.label === 'string' && !labels.has(o.element)) labels.set(o.element, o.label);
  }
  const ids = [...new Set(pairs.filter((p) => p[0] && p[1] && p[2] > 0).flatMap(([a, b]) => [a, b]))].sort();
  const index = new Map(ids.map((id, i) => [id, i]));
  const cells: [number, number, number][] = [];
  for (const [a, b, n] of pairs) {
    if (!index.has(a) || !index.has(b) || n <= 0 || a === b) continue;
    cells.push([index.get(a)!, index.get(b)!, n], [index.get(b)!, index.get(a)!, n]);
  }
  return { ids, labels: ids.map((id) => labels.get(id) ?? id), cells };
}

export function matrixTable(m: Matrix): Table {
  const grid = m.ids.map(() => m.ids.map(() => 0));
  for (const [x, y, n] of m.cells) grid[y][x] = n;
  return { header: ['element', ...m.ids], rows: m.ids.map((id, i) => [id, ...grid[i]]) };
}

// RFC 4180 CSV with CRLF line ends. Text that a spreadsheet would run as a
// formula (=, +, -, @ first) gets a leading apostrophe, like the server's
// export; numbers stay numbers.
export function toCsv(t: Table): string {
  const cell = (v: string | number | null) => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
    let s = String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  return [t.header, ...t.rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
