import type { ColumnProfile } from '../api/types.ts';

/** A small bar chart of a column's histogram (or top values), drawn as SVG. */
export function MiniHistogram({ column }: { column: ColumnProfile }) {
  const bars =
    column.histogram?.map((bin) => ({
      label: `${String(bin.lower)} – ${String(bin.upper)}`,
      count: bin.count,
    })) ??
    column.top_values?.map((top) => ({ label: String(top.value), count: top.count })) ??
    [];
  if (bars.length === 0) return null;
  const max = Math.max(...bars.map((bar) => bar.count), 1);
  const width = 160;
  const height = 40;
  const barWidth = width / bars.length;
  return (
    <svg
      className="histogram"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`Distribution of ${column.name}: ${bars.map((bar) => `${bar.label}: ${bar.count}`).join('; ')}`}
    >
      {bars.map((bar, index) => {
        const barHeight = Math.max(1, (bar.count / max) * (height - 2));
        return (
          <rect
            key={index}
            x={index * barWidth + 0.5}
            y={height - barHeight}
            width={Math.max(1, barWidth - 1)}
            height={barHeight}
          >
            <title>{`${bar.label}: ${bar.count}`}</title>
          </rect>
        );
      })}
    </svg>
  );
}
