// The analyses the workers compute for a dataset revision, as charts: element
// frequency ranked, trend over time, co-occurrence heat map. Each chart states
// its coverage (how much of the dataset is coded) and exports as PNG, SVG and
// CSV. When this server has no analyses yet, the page says so.
import { api, apiOptional } from '../api';
import { download, h, replace } from '../dom';
import type { Page } from '../main';
import {
  chartedSeries, cooccurrenceMatrix, coverageText, elementIds, frequencyRows, frequencyTable, matrixTable,
  toCsv, trendSeries, trendTable, type CodebookLike, type Table,
} from '../shaping';
import { reloadOn } from './common';
import { echarts, svgToPng, type EChartsType } from '../charts';

interface Spec {
  name: string;
  title: string;
  // The chart option and the table behind it, or null when the document has no data.
  shape: (doc: any, labels: Map<string, string>) => { option: any; table: Table; empty: boolean };
}

const kSpecs: Spec[] = [
  {
    name: 'element-frequency',
    title: 'Element frequency, ranked',
    shape: (doc) => {
      const rows = frequencyRows(doc);
      const shown = [...rows].reverse(); // the largest bar on top
      return {
        empty: rows.length === 0,
        table: frequencyTable(rows),
        option: {
          aria: { enabled: true },
          tooltip: { trigger: 'axis' },
          grid: { left: 8, right: 24, top: 8, bottom: 24, containLabel: true },
          xAxis: { type: 'value', name: 'coded agreements', nameLocation: 'middle', nameGap: 28, minInterval: 1 },
          yAxis: { type: 'category', data: shown.map((r) => r.label), axisLabel: { width: 220, overflow: 'truncate' } },
          series: [{ type: 'bar', data: shown.map((r) => r.count), itemStyle: { color: '#1d4e89' }, label: { show: true, position: 'right' } }],
        },
      };
    },
  },
  {
    name: 'trend',
    title: 'Trend over time',
    shape: (doc) => {
      const t = trendSeries(doc);
      const shown = chartedSeries(t);
      return {
        empty: t.years.length === 0 || shown.length === 0,
        table: trendTable(t),
        option: {
          aria: { enabled: true },
          tooltip: { trigger: 'axis' },
          legend: { type: 'scroll', bottom: 0 },
          grid: { left: 8, right: 24, top: 40, bottom: 48, containLabel: true },
          xAxis: { type: 'category', data: t.years.map(String) },
          yAxis: { type: 'value', minInterval: 1, name: 'coded agreements' },
          series: shown.map((s) => ({ type: 'line', name: s.direction ? `${s.label} (${s.direction})` : s.label, data: s.values })),
        },
      };
    },
  },
  {
    name: 'co-occurrence',
    title: 'Co-occurrence of elements',
    shape: (doc, labels) => {
      const m = cooccurrenceMatrix(doc, new Map(labels));
      const max = Math.max(1, ...m.cells.map((c) => c[2]));
      return {
        empty: m.ids.length === 0,
        table: matrixTable(m),
        option: {
          aria: { enabled: true },
          tooltip: { position: 'top' },
          grid: { left: 8, right: 8, top: 8, bottom: 64, containLabel: true },
          xAxis: { type: 'category', data: m.labels, axisLabel: { rotate: 60, width: 140, overflow: 'truncate' } },
          yAxis: { type: 'category', data: m.labels, axisLabel: { width: 180, overflow: 'truncate' } },
          visualMap: { min: 0, max, calculable: true, orient: 'horizontal', left: 'center', bottom: 0, inRange: { color: ['#f0f6ff', '#1d4e89'] } },
          series: [{ type: 'heatmap', data: m.cells, label: { show: m.ids.length <= 12 } }],
        },
      };
    },
  },
];

export const analysesPage: Page = async (main) => {
  const codebook = await api<CodebookLike>('/codebook');
  const labels = elementIds(codebook);
  const body = h('div', { id: 'analyses' });
  replace(main, h('h1', {}, 'Analyses'), body);
  let charts: EChartsType[] = [];
  const dispose = () => {
    charts.forEach((c) => c.dispose());
    charts = [];
  };
  const onResize = () => charts.forEach((c) => c.resize());
  window.addEventListener('resize', onResize);

  const load = async () => {
    const list = await apiOptional('/analyses');
    dispose();
    if (list === null) {
      replace(body, h('p', { class: 'notice', id: 'analyses-unavailable' },
        'Analyses are not available on this server yet: they are computed by plugins on workers. The agreements page shows the coverage of the dataset meanwhile.'));
      return;
    }
    const items: any[] = Array.isArray(list.items) ? list.items : [];
    const cards: HTMLElement[] = [];
    for (const spec of kSpecs) {
      const card = h('section', { class: 'chart-card', 'data-analysis': spec.name, 'aria-labelledby': `h-${spec.name}` },
        h('h2', { id: `h-${spec.name}` }, spec.title));
      cards.push(card);
      // The newest revision with a result; a newer one may be in the works.
      const item = items.find((i) => i.name === spec.name);
      const latest = item?.latest ?? {};
      const pending = latest.state && latest.state !== 'done' && latest.dataset_revision !== item?.available_revision
        ? `The analysis of dataset revision ${latest.dataset_revision} is ${latest.state}.` : '';
      if (!item || item.available_revision === null || item.available_revision === undefined) {
        card.append(h('p', { class: 'muted', 'data-state': latest.state ?? 'none' },
          item ? `Not available yet. ${pending || `State: ${latest.state ?? 'unknown'}.`} The workers compute it.` : 'Not available on this server.'));
        continue;
      }
      const answer = await apiOptional(`/analyses/${spec.name}?revision=${item.available_revision}`);
      const doc = answer?.result ?? null;
      if (!doc) {
        card.append(h('p', { class: 'muted' }, 'Not available yet.'));
        continue;
      }
      if (pending) card.append(h('p', { class: 'muted' }, pending + ' This shows the last finished one.'));
      const { option, table, empty } = spec.shape(doc, labels);
      card.append(h('p', { class: 'coverage notice' }, `Coverage: ${coverageText(doc.coverage)}`,
        doc.dataset_revision ? ` · dataset revision ${doc.dataset_revision}` : ''));
      const findings = (Array.isArray(doc.findings) ? doc.findings : []).map((f: any) => (typeof f === 'string' ? f : f?.text ?? '')).filter(Boolean);
      if (findings.length) card.append(h('ul', { class: 'findings' }, findings.map((f: string) => h('li', {}, f))));
      if (empty) {
        card.append(h('p', { class: 'muted' }, 'No data to chart.'));
        continue;
      }
      const box = h('div', { class: 'chart', role: 'img', 'aria-label': `${spec.title} chart; the CSV export has the numbers` });
      const base = `normbase-${spec.name}${doc.dataset_revision ? '-r' + doc.dataset_revision : ''}`;
      card.append(box, h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: async () => download(`${base}.png`, await svgToPng(chartFor(box).renderToSVGString(), box)) }, 'Export PNG'),
        h('button', { type: 'button', onclick: () => download(`${base}.svg`, chartFor(box).renderToSVGString(), 'image/svg+xml') }, 'Export SVG'),
        h('button', { type: 'button', onclick: () => download(`${base}.csv`, `# ${spec.title}; coverage: ${coverageText(doc.coverage)}\r\n` + toCsv(table), 'text/csv') }, 'Export CSV')));
      (box as any).__option = option;
    }
    replace(body, cards);
    // Charts are drawn once their boxes are in the page and have a size.
    for (const box of body.querySelectorAll<HTMLElement>('.chart')) {
      const chart = echarts.init(box, undefined, { renderer: 'svg' });
      chart.setOption((box as any).__option);
      charts.push(chart);
    }
  };
  const chartFor = (box: HTMLElement) => echarts.getInstanceByDom(box)!;
  await load();
  const off = reloadOn((e) => e.type.startsWith('analysis') || e.type === 'proposal.merged' || e.type.startsWith('dataset') || e.type.startsWith('job'), load);
  return () => {
    off();
    dispose();
    window.removeEventListener('resize', onResize);
  };
};
