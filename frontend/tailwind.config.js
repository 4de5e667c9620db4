/** Theme colours come from CSS variables (src/index.css) so light and dark share one set of
 * class names: bg-theme-*, text-theme-*, border-theme. */
/** @type {import('tailwindcss').Config} */
export default {
  content: ['./index.html', './src/**/*.{ts,tsx}'],
  darkMode: 'class',
  theme: {
    extend: {
      colors: {
        theme: {
          bg: 'rgb(var(--pn-bg) / <alpha-value>)',
          surface: 'rgb(var(--pn-surface) / <alpha-value>)',
          raised: 'rgb(var(--pn-raised) / <alpha-value>)',
          border: 'rgb(var(--pn-border) / <alpha-value>)',
          text: 'rgb(var(--pn-text) / <alpha-value>)',
          muted: 'rgb(var(--pn-muted) / <alpha-value>)',
          accent: 'rgb(var(--pn-accent) / <alpha-value>)',
          'accent-text': 'rgb(var(--pn-accent-text) / <alpha-value>)',
          success: 'rgb(var(--pn-success) / <alpha-value>)',
          warning: 'rgb(var(--pn-warning) / <alpha-value>)',
          danger: 'rgb(var(--pn-danger) / <alpha-value>)',
          focus: 'rgb(var(--pn-focus) / <alpha-value>)',
        },
      },
    },
  },
  plugins: [],
};
