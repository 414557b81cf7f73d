/**
 * Time series with uPlot: one chart of DB size (solid) and size in use (dashed) per member, and
 * one of writes per second; events (defrag, compaction, a new leader) as labelled vertical marks.
 * Colours come from the page's CSS variables, so the charts follow the light or dark theme.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { HistoryView } from '../views.js';
import { bytes } from './ui.js';

type Marker = HistoryView['markers'][number];

const css = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
const PALETTE = ['--series-1', '--series-2', '--series-3', '--series-4', '--series-5'];

function markerPlugin(markers: () => Marker[], kinds: Marker['kind'][]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        const ctx = u.ctx;
        const { left, top, height } = u.bbox;
        ctx.save();
        ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
        for (const m of markers()) {
          if (!kinds.includes(m.kind)) continue;
          const x = Math.round(u.valToPos(m.t / 1000, 'x', true));
          if (x < left || x > left + u.bbox.width) continue;
          ctx.strokeStyle = css(`--mark-${m.kind}`);
          ctx.fillStyle = ctx.strokeStyle;
          ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
          ctx.lineWidth = devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          ctx.fillText(m.kind === 'defrag' ? 'D' : m.kind === 'compaction' ? 'C' : 'L', x + 3 * devicePixelRatio, top + 12 * devicePixelRatio);
        }
        ctx.restore();
      },
    },
  };
}

function useWidth(ref: { current: HTMLElement | null }, onWidth: (w: number) => void): void {
  useEffect(() => {
    if (!ref.current) return;
    const ro = new ResizeObserver((entries) => onWidth(Math.max(300, Math.floor(entries[0]!.contentRect.width))));
    ro.observe(ref.current);
    return () => ro.disconnect();
  }, []);
}

/** The theme changed: charts are made again with the new colours. */
function useTheme(): number {
  const [n, setN] = useState(0);
  useEffect(() => {
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const f = () => setN((x) => x + 1);
    mq.addEventListener('change', f);
    return () => mq.removeEventListener('change', f);
  }, []);
  return n;
}

interface ChartProps {
  history: HistoryView;
  label: string;
}

function baseOpts(width: number, height: number): Pick<uPlot.Options, 'width' | 'height' | 'axes' | 'legend' | 'cursor' | 'scales'> {
  const axis: uPlot.Axis = { stroke: css('--fg-muted'), grid: { stroke: css('--grid'), width: 1 }, ticks: { stroke: css('--grid'), width: 1 } };
  return { width, height, scales: { x: { time: true } }, axes: [{ ...axis }, { ...axis }], legend: { live: true }, cursor: { drag: { x: false, y: false } } };
}

export function SizeChart(p: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const markers = useRef<Marker[]>(p.history.markers);
  markers.current = p.history.markers;
  const theme = useTheme();
  const data = (): uPlot.AlignedData => [p.history.t, ...p.history.members.map((m) => p.history.dbSize[m]!), ...p.history.members.map((m) => p.history.inUse[m]!)] as uPlot.AlignedData;
  const key = `${p.history.members.join(',')}|${theme}`;
  useEffect(() => {
    if (!box.current) return;
    const opts: uPlot.Options = {
      ...baseOpts(box.current.clientWidth || 600, 240),
      series: [
        {},
        ...p.history.members.map((m, i) => ({ label: `${m} DB size`, stroke: css(PALETTE[i % PALETTE.length]!), width: 2, value: (_u: uPlot, v: number | null) => bytes(v) })),
        ...p.history.members.map((m, i) => ({ label: `${m} in use`, stroke: css(PALETTE[i % PALETTE.length]!), width: 1.5, dash: [6, 4], value: (_u: uPlot, v: number | null) => bytes(v) })),
      ],
      plugins: [markerPlugin(() => markers.current, ['defrag', 'compaction'])],
    };
    opts.axes![1] = { ...opts.axes![1], size: 70, values: (_u, vals) => vals.map((v) => bytes(v)) };
    plot.current = new uPlot(opts, data(), box.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [key]);
  useEffect(() => {
    plot.current?.setData(data());
  }, [p.history]);
  useWidth(box, (w) => plot.current?.setSize({ width: w, height: 240 }));
  return <div ref={box} class="chart" role="img" aria-label={p.label} data-points={p.history.t.length} data-marks={p.history.markers.map((m) => m.kind).join(' ')} />;
}

export function WritesChart(p: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const markers = useRef<Marker[]>(p.history.markers);
  markers.current = p.history.markers;
  const theme = useTheme();
  const data = (): uPlot.AlignedData => [p.history.t, p.history.writes] as uPlot.AlignedData;
  useEffect(() => {
    if (!box.current) return;
    const opts: uPlot.Options = {
      ...baseOpts(box.current.clientWidth || 600, 180),
      series: [{}, { label: 'writes/s', stroke: css('--series-1'), fill: css('--series-fill'), width: 2, value: (_u: uPlot, v: number | null) => (v === null ? '–' : v.toFixed(1)) }],
      plugins: [markerPlugin(() => markers.current, ['leader'])],
    };
    plot.current = new uPlot(opts, data(), box.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [theme]);
  useEffect(() => {
    plot.current?.setData(data());
  }, [p.history]);
  useWidth(box, (w) => plot.current?.setSize({ width: w, height: 180 }));
  return <div ref={box} class="chart" role="img" aria-label={p.label} data-points={p.history.t.length} />;
}
