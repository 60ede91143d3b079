import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { Portal, portalRoute } from './admin/Portal';
import { installDebugHook } from './debug';
import './styles.css';

installDebugHook(window);

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      {portalRoute(window.location.pathname) ? <Portal initialPath={portalRoute(window.location.pathname) ?? '/meetings'} /> : <App />}
    </StrictMode>,
  );
}
