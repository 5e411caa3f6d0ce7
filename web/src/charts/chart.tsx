/**
 * One ECharts chart. The library is loaded on first use; the chart follows the system's dark or
 * light scheme (re-created when it changes) and its container's width. The figures a chart shows
 * are always in a table or text beside it too: the canvas is an image with a label, not the data.
 */
import { useEffect, useRef, useState } from 'react';
import type { ECharts } from 'echarts/core';
import type { ChartOption } from './chart-option.ts';
import { usePrefersDark } from './color-scheme.ts';

export interface ChartClick {
  name: string;
  data: unknown;
  seriesIndex: number | undefined;
}

interface Props {
  option: ChartOption;
  /** What the chart shows, for screen readers (role="img"). */
  label: string;
  height?: number;
  onClick?: (e: ChartClick) => void;
  testId?: string;
}

export function Chart({ option, label, height = 280, onClick, testId }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<ECharts | null>(null);
  const latest = useRef({ option, onClick });
  latest.current = { option, onClick };
  const dark = usePrefersDark();
  const [failed, setFailed] = useState<string | null>(null);
  const [drawn, setDrawn] = useState(false);

  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | undefined;
    import('./echarts-setup.ts').then(
      ({ init }) => {
        const el = box.current;
        if (disposed || el === null) return;
        const c = init(el, dark ? 'dark' : undefined, { renderer: 'canvas' });
        chart.current = c;
        c.setOption(themed(latest.current.option), true);
        c.on('click', (p) => latest.current.onClick?.({ name: p.name, data: p.data, seriesIndex: p.seriesIndex }));
        setDrawn(true);
        observer = new ResizeObserver(() => c.resize());
        observer.observe(el);
      },
      (err: unknown) => setFailed(err instanceof Error ? err.message : String(err)),
    );
    return () => {
      disposed = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
  }, [dark]);

  useEffect(() => {
    chart.current?.setOption(themed(option), true);
  }, [option]);

  if (failed !== null) return <p role="alert">The chart could not be loaded: {failed}</p>;
  return <div ref={box} className="chart" role="img" aria-label={label} data-testid={testId} data-drawn={drawn ? 'true' : undefined} style={{ height }} />;
}

// Canvas text needs a real font list ('inherit' breaks ECharts' text measuring).
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

/** The page's font and background: the chart sits on the card, in either scheme. */
function themed(option: ChartOption): ChartOption {
  // People who asked their system for less motion get charts drawn at once.
  const still = typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
  return { backgroundColor: 'transparent', textStyle: { fontFamily: FONT }, animationDuration: 300, ...option, ...(still ? { animation: false } : {}) };
}
