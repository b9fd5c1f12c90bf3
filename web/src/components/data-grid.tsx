import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef } from 'react';
import { formatValue } from './states.tsx';

export interface GridColumn {
  name: string;
  type: string;
}

interface DataGridProps {
  label: string;
  columns: GridColumn[];
  rows: unknown[][];
  /** Current sort: a column name, `-name` for descending. */
  sort?: string | undefined;
  onSort?: (sort: string | undefined) => void;
  /** Called when the last rows come into view, to fetch the next page. */
  onEnd?: () => void;
  height?: number;
}

const ROW_HEIGHT = 32;

/** A table that renders only the rows in view, so a page of thousands scrolls smoothly. */
export function DataGrid({ label, columns, rows, sort, onSort, onEnd, height = 420 }: DataGridProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items[items.length - 1]?.index;
  useEffect(() => {
    if (onEnd && lastIndex !== undefined && lastIndex >= rows.length - 1) onEnd();
  }, [onEnd, lastIndex, rows.length]);
  const template = `4rem repeat(${columns.length}, minmax(8rem, 1fr))`;

  const nextSort = (name: string) => {
    if (sort === name) return `-${name}`;
    if (sort === `-${name}`) return undefined;
    return name;
  };

  return (
    <div
      className="grid"
      role="table"
      aria-label={label}
      aria-rowcount={rows.length + 1}
      aria-colcount={columns.length + 1}
    >
      <div ref={scroller} className="grid-scroll" style={{ maxHeight: height }} tabIndex={0}>
        <div className="grid-row grid-head" role="row" style={{ gridTemplateColumns: template }}>
          <span role="columnheader" className="grid-index">
            #
          </span>
          {columns.map((column) => {
            const direction =
              sort === column.name ? 'ascending' : sort === `-${column.name}` ? 'descending' : 'none';
            return (
              <span role="columnheader" key={column.name} aria-sort={direction}>
                {onSort ? (
                  <button type="button" className="link" onClick={() => onSort(nextSort(column.name))}>
                    {column.name}
                    <span aria-hidden="true">
                      {direction === 'ascending' ? ' ▲' : direction === 'descending' ? ' ▼' : ''}
                    </span>
                  </button>
                ) : (
                  column.name
                )}
                <span className="col-type">{column.type}</span>
              </span>
            );
          })}
        </div>
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }} role="rowgroup">
          {items.map((item) => {
            const row = rows[item.index] ?? [];
            return (
              <div
                key={item.key}
                role="row"
                aria-rowindex={item.index + 2}
                className="grid-row"
                style={{
                  gridTemplateColumns: template,
                  transform: `translateY(${item.start}px)`,
                  height: ROW_HEIGHT,
                }}
              >
                <span role="cell" className="grid-index">
                  {item.index + 1}
                </span>
                {columns.map((column, index) => {
                  const value = row[index];
                  return (
                    <span role="cell" key={column.name} className={value === null ? 'null' : undefined}>
                      {value === null ? 'null' : formatValue(value)}
                    </span>
                  );
                })}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
