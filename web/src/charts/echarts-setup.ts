/**
 * ECharts, only the parts the dashboard draws: this module is imported lazily by `Chart`, so the
 * library stays out of the first paint and out of the pages that have no chart.
 */
import { BarChart, LineChart, TreemapChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import { init, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

use([BarChart, LineChart, TreemapChart, GridComponent, LegendComponent, TooltipComponent, MarkLineComponent, CanvasRenderer]);

export { init };
