import type { Pagination } from '@/shared/api/types';
import { Button } from './Button';

export function pageInfo(p: Pagination | undefined): { page: number; pages: number; total: number | null } {
  const page = p?.page ?? p?.current_page ?? 1;
  const pages = p?.total_pages ?? 1;
  const total = p?.total ?? p?.total_count ?? null;
  return { page, pages: Math.max(1, pages), total };
}

export function Pager({ pagination, onPage, label }: { pagination: Pagination | undefined; onPage: (page: number) => void; label: string }) {
  const { page, pages, total } = pageInfo(pagination);
  return (
    <nav className="mt-3 flex items-center justify-between text-sm" aria-label={`${label} pages`}>
      <span className="text-theme-muted">
        Page {page} of {pages}
        {total !== null ? ` · ${total} in all` : ''}
      </span>
      <div className="flex gap-2">
        <Button variant="secondary" disabled={page <= 1} onClick={() => onPage(page - 1)}>
          Previous
        </Button>
        <Button variant="secondary" disabled={page >= pages} onClick={() => onPage(page + 1)}>
          Next
        </Button>
      </div>
    </nav>
  );
}
