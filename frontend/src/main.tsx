import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { logger } from '@/shared/utils/logger';
import './index.css';

const root = document.getElementById('root');
if (!root) throw new Error('no #root element');
window.addEventListener('unhandledrejection', (e) => logger.error('unhandled rejection', { reason: String(e.reason) }));
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
