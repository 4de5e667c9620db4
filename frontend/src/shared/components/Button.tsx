import { forwardRef, type ButtonHTMLAttributes } from 'react';

export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'ghost';

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: ButtonVariant;
  busy?: boolean;
}

const variants: Record<ButtonVariant, string> = {
  primary: 'btn-theme',
  secondary: 'btn-theme-secondary',
  danger: 'btn-theme-danger',
  ghost: 'btn-theme-ghost',
};

export const Button = forwardRef<HTMLButtonElement, ButtonProps>(function Button(
  { variant = 'primary', busy = false, type = 'button', className = '', disabled, children, ...rest },
  ref,
) {
  return (
    <button ref={ref} type={type} className={`${variants[variant]} ${className}`} disabled={disabled || busy} aria-busy={busy || undefined} {...rest}>
      {children}
    </button>
  );
});
