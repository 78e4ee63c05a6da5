import { createHash } from 'node:crypto';
import { printable } from '../errors.js';
import type { BulkOutcome } from '../bulk/row-result.js';

/**
 * The fixed parts of the HTML report: escaping, the style sheet, the small filter/search script
 * (its hash goes into the page's Content-Security-Policy, so no other script can run even if
 * something slipped through the escaping), and the time chart as inline SVG.
 */

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text from input or a server, safe in HTML text and in a quoted attribute; control characters shown escaped. */
export function escapeHtml(text: string): string {
  return printable(text, Number.POSITIVE_INFINITY).replace(/[&<>"']/g, (char) => ENTITIES[char]!);
}

/** The outcomes in the order the page lists them, with their colours (light theme, readable on white). */
export const OUTCOME_COLOURS: Readonly<Record<BulkOutcome, string>> = {
  approved: '#1a7f37',
  submitted: '#0969da',
  checked: '#0969da',
  skipped: '#8c959f',
  provisional: '#9a6700',
  pending: '#d4a72c',
  rejected: '#cf222e',
  refused: '#8250df',
  invalid: '#bc4c00',
  error: '#57606a',
};

export const PAGE_STYLE = `
:root{color-scheme:light;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:#fff}
main{max-width:1200px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
.sub{color:var(--muted);margin:0}
.state{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;font-size:13px;color:#fff;background:#57606a;vertical-align:middle;margin-left:8px}
.state.done{background:#1a7f37}.state.attention{background:#bc4c00}.state.interrupted,.state.stopped,.state.unfinished{background:#cf222e}
dl.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:6px 18px;margin:16px 0 0}
dl.facts div{border-left:3px solid var(--line);padding-left:8px}dl.facts dt{color:var(--muted);font-size:12px}dl.facts dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.counts{display:flex;flex-wrap:wrap;gap:10px;margin-top:18px}
.count{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:110px;border-top:4px solid var(--c)}
.count b{display:block;font-size:22px}.count span{color:var(--muted)}
.chart svg{width:100%;height:auto;border:1px solid var(--line);border-radius:8px;background:#fff}
.chart .axis{fill:var(--muted);font-size:11px}.chart .grid{stroke:#eaeef2}.chart .resume{stroke:#cf222e;stroke-dasharray:4 3}
.legend{display:flex;flex-wrap:wrap;gap:14px;margin:6px 0 0;color:var(--muted);font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;background:var(--c);margin-right:4px}
.controls{position:sticky;top:0;background:#fffe;padding:10px 0;border-bottom:1px solid var(--line);display:flex;gap:12px;align-items:center;flex-wrap:wrap;z-index:1}
.controls select,.controls input{font:inherit;padding:5px 8px;border:1px solid var(--line);border-radius:6px}
.controls input{min-width:260px}.controls output{color:var(--muted)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
th{font-size:12px;color:var(--muted);font-weight:600;background:var(--bg);position:sticky;top:52px}
td.n{color:var(--muted);font-variant-numeric:tabular-nums;width:1%}
td.u{font-weight:600;overflow-wrap:anywhere;min-width:110px;max-width:220px}
td.id{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;color:var(--muted);overflow-wrap:anywhere}
.b{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;background:var(--c)}
.why{min-width:260px}.why p{margin:0 0 4px}td.fix{width:34%}.why .ex{color:var(--muted)}.why .next{color:var(--muted)}
.fix code,.fix pre{display:block;font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:4px 6px;margin:0 0 4px;white-space:pre-wrap;overflow-wrap:anywhere}
.fix small{color:var(--muted)}
td.th{width:1%}td.th img{display:block;border-radius:6px;border:1px solid var(--line)}
td.th .none{display:block;width:72px;color:var(--muted);font-size:11px}
#all tbody{content-visibility:auto;contain-intrinsic-size:auto 8000px}
#all summary{cursor:pointer}#all summary h2{display:inline-block}
.note{color:var(--muted);font-size:13px;margin:4px 0 10px}
.empty{color:var(--muted);padding:12px 0}
footer{margin-top:32px;color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding-top:10px}
${Object.entries(OUTCOME_COLOURS)
  .map(([outcome, colour]) => `.o-${outcome}{--c:${colour}}`)
  .join('')}
`;

/** Filter by outcome and search by user id, over both tables; counts what is shown. No network, no storage. */
export const PAGE_SCRIPT = `(function(){
var f=document.getElementById('filter'),q=document.getElementById('search'),out=document.getElementById('shown');
var rows=[].slice.call(document.querySelectorAll('tr[data-o]')),ids=null;
function apply(){
if(!ids)ids=rows.map(function(r){return (r.cells[1]?r.cells[1].textContent:'').toLowerCase();});
var o=f.value,s=q.value.trim().toLowerCase(),n={attention:0,all:0};
if(o!==''||s!=='')document.getElementById('all-rows').open=true;
for(var i=0;i<rows.length;i++){var r=rows[i];
var ok=(o===''||(o==='attention'?r.hasAttribute('data-a'):r.getAttribute('data-o')===o))&&(s===''||ids[i].indexOf(s)!==-1);
r.hidden=!ok;if(ok)n[r.getAttribute('data-t')]++;}
document.getElementById('attention-empty').hidden=n.attention>0;
document.getElementById('all-empty').hidden=n.all>0;
out.value=n.attention+' need attention · '+n.all+' rows shown';}
f.addEventListener('change',apply);q.addEventListener('input',apply);
})();`;

/** The Content-Security-Policy of the page: nothing from anywhere, images only as data: URIs, only our script. */
export function contentSecurityPolicy(script: string): string {
  const hash = createHash('sha256').update(script, 'utf8').digest('base64');
  return `default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'`;
}

/** When rows finished, for the chart: times in ms and outcomes, with the resumes of the run. */
export interface ChartData {
  times: Float64Array;
  outcomes: Uint8Array;
  count: number;
  outcomeNames: readonly BulkOutcome[];
  resumes: readonly number[];
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** A whole number of seconds, minutes or hours for one bar. */
function bucketWidth(spanMs: number, maxBars: number): number {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map(
    (seconds) => seconds * 1000,
  );
  return steps.find((step) => spanMs / step <= maxBars) ?? Math.ceil(spanMs / maxBars);
}

function durationWords(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${seconds / 60} min`;
  return `${seconds / 3600} h`;
}

/** The time chart: one stacked bar of rows finished per interval, coloured by outcome; resumes marked. */
export function chartSvg(data: ChartData): string {
  if (data.count === 0)
    return '<p class="note">No timings were recorded for these rows, so there is no time chart.</p>';
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < data.count; index++) {
    first = Math.min(first, data.times[index]!);
    last = Math.max(last, data.times[index]!);
  }
  const width = bucketWidth(Math.max(1, last - first), 80);
  const start = Math.floor(first / width) * width;
  const bars = Math.max(1, Math.floor((last - start) / width) + 1);
  const counts = Array.from({ length: bars }, () => new Uint32Array(data.outcomeNames.length));
  for (let index = 0; index < data.count; index++) {
    const bar = Math.min(bars - 1, Math.floor((data.times[index]! - start) / width));
    counts[bar]![data.outcomes[index]!]!++;
  }
  const tallest = Math.max(1, ...counts.map((bar) => bar.reduce((sum, value) => sum + value, 0)));
  const [w, h, left, right, top, bottom] = [960, 220, 44, 12, 12, 28];
  const plotW = w - left - right;
  const plotH = h - top - bottom;
  const barW = plotW / bars;
  const y = (value: number) => top + plotH - (value / tallest) * plotH;
  const parts: string[] = [
    `<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="Rows finished over time, by outcome" xmlns="http://www.w3.org/2000/svg">`,
  ];
  for (const fraction of [0, 0.5, 1]) {
    const value = Math.round(tallest * fraction);
    parts.push(
      `<line class="grid" x1="${left}" x2="${w - right}" y1="${y(value).toFixed(1)}" y2="${y(value).toFixed(1)}"/>`,
      `<text class="axis" x="${left - 6}" y="${(y(value) + 4).toFixed(1)}" text-anchor="end">${value}</text>`,
    );
  }
  counts.forEach((bar, index) => {
    let base = 0;
    const x = left + index * barW;
    bar.forEach((value, outcome) => {
      if (value === 0) return;
      const name = data.outcomeNames[outcome]!;
      const y0 = y(base);
      const y1 = y(base + value);
      parts.push(
        `<rect class="o-${name}" fill="${OUTCOME_COLOURS[name]}" x="${(x + 0.5).toFixed(1)}" y="${y1.toFixed(1)}" width="${Math.max(1, barW - 1).toFixed(1)}" height="${(y0 - y1).toFixed(1)}"><title>${clock(start + index * width)} · ${name} ${value}</title></rect>`,
      );
      base += value;
    });
  });
  for (const resume of data.resumes) {
    if (resume < start || resume > start + bars * width) continue;
    const x = (left + ((resume - start) / width) * barW).toFixed(1);
    parts.push(
      `<line class="resume" x1="${x}" x2="${x}" y1="${top}" y2="${top + plotH}"><title>resumed at ${clock(resume)}</title></line>`,
    );
  }
  parts.push(
    `<text class="axis" x="${left}" y="${h - 8}">${clock(start)} UTC</text>`,
    `<text class="axis" x="${(left + plotW / 2).toFixed(1)}" y="${h - 8}" text-anchor="middle">one bar = ${durationWords(width)}</text>`,
    `<text class="axis" x="${w - right}" y="${h - 8}" text-anchor="end">${clock(start + bars * width)} UTC</text>`,
    '</svg>',
  );
  return parts.join('');
}
