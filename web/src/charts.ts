/**
 * ECharts, with only the parts the dashboard uses so the bundle stays small.
 * The SVG renderer keeps charts sharp in print and readable to tests.
 */
import { BarChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { type EChartsCoreOption, type EChartsType, init, use } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

use([BarChart, GridComponent, LegendComponent, TooltipComponent, AriaComponent, SVGRenderer]);

const live = new Set<EChartsType>();

window.addEventListener('resize', () => {
  for (const c of live) c.resize();
});

/** Charts of the previous view are disposed before a new view renders. */
export function disposeCharts(): void {
  for (const c of live) c.dispose();
  live.clear();
}

/** Palette with enough distinct, print-safe colours for a dozen teams. */
const COLORS = [
  '#2563eb',
  '#16a34a',
  '#d97706',
  '#9333ea',
  '#dc2626',
  '#0891b2',
  '#65a30d',
  '#db2777',
  '#4b5563',
  '#ca8a04',
  '#7c3aed',
  '#0d9488',
];

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

export function chart(el: HTMLElement, option: EChartsCoreOption): EChartsType {
  const c = init(el, null, { renderer: 'svg' });
  c.setOption({
    color: COLORS,
    aria: { enabled: true },
    animation: false,
    // Named fonts, not `inherit`: ECharts measures label widths on a canvas, which knows no inheritance.
    textStyle: { fontFamily: FONT },
    ...option,
  });
  live.add(c);
  return c;
}

/** Two decimals for axis and tooltip labels; exact amounts are in the tables. */
export const axisMoney = (v: number): string => `$${v.toFixed(2)}`;

/** The grid of a horizontal bar chart: labels kept inside the box. */
export const BAR_GRID = {
  left: 8,
  right: 24,
  top: 8,
  bottom: 8,
  outerBoundsMode: 'same',
  outerBoundsContain: 'axisLabel',
};

/** A horizontal bar chart of ranked amounts in dollars, largest on top. */
export function rankedBars(el: HTMLElement, name: string, labels: string[], dollars: number[]): EChartsType {
  return chart(el, {
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      valueFormatter: (v: unknown) => axisMoney(Number(v)),
    },
    grid: BAR_GRID,
    xAxis: { type: 'value', axisLabel: { formatter: axisMoney } },
    yAxis: { type: 'category', inverse: true, data: labels },
    series: [{ type: 'bar', name, data: dollars }],
  });
}
