// Every page: its title, an optional description, and its actions in the header (page content
// holds no action bars of its own).

import { useEffect, type ReactNode } from 'react';

export interface PageContainerProps {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
}

export function PageContainer({ title, description, actions, children }: PageContainerProps) {
  useEffect(() => {
    document.title = `${title} · Powernode`;
  }, [title]);
  return (
    <div className="flex min-h-full flex-col">
      <header className="flex flex-wrap items-start justify-between gap-3 border-b border-theme-border bg-theme-surface px-6 py-4">
        <div>
          <h1 className="text-xl font-semibold" id="page-title" tabIndex={-1}>
            {title}
          </h1>
          {description ? <p className="mt-1 text-sm text-theme-muted">{description}</p> : null}
        </div>
        {actions ? (
          <div className="flex flex-wrap items-center gap-2" role="toolbar" aria-label={`${title} actions`}>
            {actions}
          </div>
        ) : null}
      </header>
      <div className="flex-1 p-6">{children}</div>
    </div>
  );
}

export function Section({ title, children, actions, id }: { title: string; children: ReactNode; actions?: ReactNode; id?: string }) {
  const hid = id ? `${id}-title` : undefined;
  return (
    <section className="card-theme" aria-labelledby={hid} id={id}>
      <div className="mb-3 flex items-center justify-between gap-2">
        <h2 className="text-base font-semibold" id={hid}>
          {title}
        </h2>
        {actions}
      </div>
      {children}
    </section>
  );
}
