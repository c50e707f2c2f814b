// bench/results/latest.md and latest.svg (a hand-written horizontal bar chart, no dependencies).
import { mkdirSync, writeFileSync } from 'node:fs';

const COLORS = { wasmcnn: '#2b6cb0', 'wasmcnn-relaxed': '#63b3ed', 'ort-web': '#dd6b20', 'ort-node': '#718096', 'tfjs-wasm': '#38a169' };

export function writeReport(rows, who, header) {
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const fmt = (x) => (x === undefined ? '—' : x.toFixed(1));
  const peers = who.filter((w) => w !== 'wasmcnn');
  const md = [
    '# wasmcnn whole-model latency', '', header, '',
    `| model | GFLOP | ${who.map((w) => `${w} ms`).join(' | ')} | ${peers.map((p) => `wasmcnn/${p}`).join(' | ')} |`,
    `| --- | ---: | ${who.map(() => '---:').join(' | ')} | ${peers.map(() => '---:').join(' | ')} |`,
    ...rows.map((r) => `| ${r.name} | ${r.gflops.toFixed(2)} | ${who.map((w) => fmt(r.ms[w])).join(' | ')} | ${peers.map((p) => (r.ms[p] ? (r.ms.wasmcnn / r.ms[p]).toFixed(2) : '—')).join(' | ')} |`),
    '', 'ratio < 1: wasmcnn faster. Max |diff| of each peer\'s output vs wasmcnn:', '',
    ...rows.map((r) => `- ${r.name}: ${Object.entries(r.diff).filter(([w]) => w !== 'wasmcnn').map(([w, d]) => `${w} ${d.toExponential(1)}`).join(', ')} (max |y| ${r.refMax.toFixed(2)})`),
    '',
  ].join('\n');
  writeFileSync(new URL('latest.md', dir), md);

  // one group of bars per model, bar length = ms relative to the slowest contender of that model
  const barH = 12, gap = 4, groupGap = 14, left = 170, width = 520, right = 90;
  let y = 40;
  const parts = [];
  for (const r of rows) {
    const max = Math.max(...who.map((w) => r.ms[w] ?? 0));
    parts.push(`<text x="8" y="${y + 10}" font-weight="bold">${r.name}</text>`);
    for (const w of who) {
      const ms = r.ms[w];
      if (ms === undefined) continue;
      const len = Math.max(1, (ms / max) * width);
      parts.push(`<rect x="${left}" y="${y}" width="${len.toFixed(1)}" height="${barH}" fill="${COLORS[w] ?? '#999'}"/>`);
      parts.push(`<text x="${left + len + 4}" y="${y + 10}">${ms.toFixed(1)} ms</text>`);
      y += barH + gap;
    }
    y += groupGap;
  }
  const legend = who.map((w, i) => `<rect x="${left + i * 120}" y="12" width="10" height="10" fill="${COLORS[w] ?? '#999'}"/><text x="${left + i * 120 + 14}" y="21">${w}</text>`);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + right}" height="${y + 10}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
${legend.join('\n')}
${parts.join('\n')}
</svg>
`;
  writeFileSync(new URL('latest.svg', dir), svg);
}

export function writeThreadsReport(rows, header) {
  const md = [
    '# wasmcnn on 2 threads', '', header, '',
    '| model | 1 thread ms | 2 threads ms | 2 threads / 1 thread | outputs |',
    '| --- | ---: | ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.name} | ${r.ms1.toFixed(1)} | ${r.msN.toFixed(1)} | ${(r.msN / r.ms1).toFixed(2)} | ${r.same ? 'bit-identical' : 'differ'} |`),
    '',
  ].join('\n');
  writeFileSync(new URL('./results/threads.md', import.meta.url), md);
}
