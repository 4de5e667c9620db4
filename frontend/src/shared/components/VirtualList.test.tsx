import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/react';
import { VirtualList, visibleRange } from './VirtualList';

const items = Array.from({ length: 1000 }, (_, i) => ({ id: `f${i}`, name: `file ${i}` }));

describe('VirtualList', () => {
  it('computes the window with overscan and clamps at the ends', () => {
    expect(visibleRange(0, 480, 48, 1000, 4)).toEqual([0, 14]);
    expect(visibleRange(48 * 500, 480, 48, 1000, 4)).toEqual([496, 514]);
    expect(visibleRange(48 * 995, 480, 48, 1000, 4)).toEqual([991, 1000]);
  });

  it('mounts only the rows in view for 1,000 items, and follows the scroll', () => {
    render(<VirtualList label="Files" items={items} rowHeight={48} height={480} itemKey={(x) => x.id} renderItem={(x) => <span>{x.name}</span>} />);
    expect(screen.getAllByRole('listitem').length).toBeLessThanOrEqual(14);
    expect(screen.getByText('file 0')).toBeTruthy();
    const scroller = screen.getByRole('list', { name: 'Files' }).parentElement as HTMLElement;
    scroller.scrollTop = 48 * 600;
    fireEvent.scroll(scroller);
    expect(screen.queryByText('file 0')).toBeNull();
    expect(screen.getByText('file 600')).toBeTruthy();
    expect(screen.getAllByRole('listitem')[0]?.getAttribute('aria-posinset')).toBe('597');
  });

  it('lays items out in columns for the grid', () => {
    render(<VirtualList label="Grid" items={items} rowHeight={190} columns={5} height={380} itemKey={(x) => x.id} renderItem={(x) => <span>{x.name}</span>} />);
    const cells = screen.getAllByRole('listitem');
    // 2 rows in view + 4 rows overscan below, 5 per row.
    expect(cells.length).toBe(30);
  });
});
