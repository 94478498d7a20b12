import {
  Chart,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Title,
  Tooltip,
} from 'chart.js';

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip, Legend, Title);

export { Chart };

/** A line chart of one series over training steps; add points with {@link addPoint}. */
export function stepChart(canvas: HTMLCanvasElement, label: string, color: string, log = false): Chart<'line', { x: number; y: number }[]> {
  return new Chart(canvas, {
    type: 'line',
    data: { datasets: [{ label, data: [], borderColor: color, backgroundColor: color, pointRadius: 2, borderWidth: 2, tension: 0 }] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      scales: {
        x: { type: 'linear', title: { display: true, text: 'step' }, ticks: { precision: 0 } },
        y: { type: log ? 'logarithmic' : 'linear', title: { display: true, text: label } },
      },
      plugins: { legend: { display: false }, title: { display: true, text: label } },
    },
  });
}

/** Appends (step, value) unless that step is already plotted; keeps the series sorted by step. */
export function addPoint(chart: Chart<'line', { x: number; y: number }[]>, step: number, value: number): void {
  const data = chart.data.datasets[0].data;
  if (!isFinite(step) || !isFinite(value)) return;
  if (data.length > 0 && data[data.length - 1].x >= step) {
    if (data.some((p) => p.x === step)) return;
    data.push({ x: step, y: value });
    data.sort((a, b) => a.x - b.x);
  } else {
    data.push({ x: step, y: value });
  }
}

export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];
