// Form controls that always carry a label (visible, or screen-reader only with hideLabel) and
// show the server's per-field message.

import { forwardRef, useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';

interface Common {
  label: string;
  hideLabel?: boolean;
  error?: string | undefined;
  hint?: ReactNode;
}

function Wrap({ id, label, hideLabel, error, hint, children }: Common & { id: string; children: ReactNode }) {
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className={hideLabel ? 'sr-only' : 'text-sm font-medium text-theme-text'}>
        {label}
      </label>
      {children}
      {hint ? (
        <p id={`${id}-hint`} className="text-xs text-theme-muted">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="text-xs text-theme-danger">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function describedBy(id: string, error?: string, hint?: ReactNode): string | undefined {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

export type TextFieldProps = Common & InputHTMLAttributes<HTMLInputElement>;

export const TextField = forwardRef<HTMLInputElement, TextFieldProps>(function TextField({ label, hideLabel, error, hint, id, className = '', ...rest }, ref) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <Wrap id={fid} label={label} hideLabel={hideLabel ?? false} error={error} hint={hint}>
      <input ref={ref} id={fid} className={`input-theme ${className}`} aria-invalid={error ? true : undefined} aria-describedby={describedBy(fid, error, hint)} {...rest} />
    </Wrap>
  );
});

export type TextAreaProps = Common & TextareaHTMLAttributes<HTMLTextAreaElement>;

export function TextArea({ label, hideLabel, error, hint, id, className = '', ...rest }: TextAreaProps) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <Wrap id={fid} label={label} hideLabel={hideLabel ?? false} error={error} hint={hint}>
      <textarea id={fid} className={`input-theme ${className}`} aria-invalid={error ? true : undefined} aria-describedby={describedBy(fid, error, hint)} {...rest} />
    </Wrap>
  );
}

export interface SelectOption {
  value: string;
  label: string;
}

export type SelectFieldProps = Common & SelectHTMLAttributes<HTMLSelectElement> & { options: readonly SelectOption[] };

export function SelectField({ label, hideLabel, error, hint, id, options, className = '', ...rest }: SelectFieldProps) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <Wrap id={fid} label={label} hideLabel={hideLabel ?? false} error={error} hint={hint}>
      <select id={fid} className={`input-theme ${className}`} aria-invalid={error ? true : undefined} aria-describedby={describedBy(fid, error, hint)} {...rest}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </Wrap>
  );
}

export interface CheckboxProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'type'> {
  label: ReactNode;
  description?: string;
}

export function Checkbox({ label, description, id, ...rest }: CheckboxProps) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <div className="flex items-start gap-2">
      <input id={fid} type="checkbox" className="mt-1 h-4 w-4 accent-[rgb(var(--pn-accent))]" {...rest} />
      <label htmlFor={fid} className="text-sm">
        <span className="text-theme-text">{label}</span>
        {description ? <span className="block text-xs text-theme-muted">{description}</span> : null}
      </label>
    </div>
  );
}
