// A windowed list of fixed-height rows: only the rows in view (plus a margin) are in the DOM,
// so thousands of items scroll and mount fast. Rows are laid out in a grid when columns > 1.

import { useEffect, useRef, useState, type ReactNode } from 'react';

export interface VirtualListProps<T> {
  items: readonly T[];
  rowHeight: number;
  height: number;
  columns?: number;
  overscan?: number;
  renderItem: (item: T, index: number) => ReactNode;
  itemKey: (item: T) => string;
  label: string;
  role?: 'list' | 'grid';
}

export function visibleRange(scrollTop: number, height: number, rowHeight: number, rows: number, overscan: number): [number, number] {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(rows, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  return [first, last];
}

export function VirtualList<T>({ items, rowHeight, height, columns = 1, overscan = 4, renderItem, itemKey, label }: VirtualListProps<T>) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const rows = Math.ceil(items.length / columns);
  const [first, last] = visibleRange(scrollTop, height, rowHeight, rows, overscan);

  useEffect(() => {
    // A new list (filter, sort) starts at the top.
    if (ref.current) ref.current.scrollTop = 0;
    setScrollTop(0);
  }, [items]);

  const cells: ReactNode[] = [];
  for (let r = first; r < last; r++) {
    for (let c = 0; c < columns; c++) {
      const i = r * columns + c;
      const item = items[i];
      if (item === undefined) break;
      cells.push(
        <div
          key={itemKey(item)}
          role="listitem"
          aria-setsize={items.length}
          aria-posinset={i + 1}
          style={{ position: 'absolute', top: r * rowHeight, height: rowHeight, left: `${(c * 100) / columns}%`, width: `${100 / columns}%` }}
        >
          {renderItem(item, i)}
        </div>,
      );
    }
  }

  return (
    <div ref={ref} className="relative overflow-auto rounded-md border border-theme-border" style={{ height }} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)} tabIndex={0} aria-label={label}>
      <div role="list" aria-label={label} style={{ position: 'relative', height: rows * rowHeight }}>
        {cells}
      </div>
    </div>
  );
}
