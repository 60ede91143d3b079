import { useEffect, useRef, type ReactNode } from 'react';
import { useT } from './i18nContext';
import { CloseIcon } from './Icons';
import type { Panel } from './Controls';

export interface SidePanelProps {
  panel: Panel;
  onClose: () => void;
  children: ReactNode;
}

/** The side panel (participants, chat or settings): a region with a heading; Escape closes it. */
export function SidePanel({ panel, onClose, children }: SidePanelProps) {
  const t = useT();
  const ref = useRef<HTMLElement>(null);
  const title = panel === 'people' ? t.participantsTab : panel === 'chat' ? t.chatTab : t.settingsTab;

  // Opening a panel moves the focus into it (chat: the input), so keyboard users land where they wanted.
  useEffect(() => {
    const el = ref.current;
    const target = el?.querySelector<HTMLElement>(panel === 'chat' ? '[data-testid="chat-input"]' : 'h2');
    target?.focus();
  }, [panel]);

  return (
    <aside
      id="side-panel"
      className="side-panel"
      ref={ref}
      aria-labelledby="side-panel-title"
      data-testid={`panel-${panel}`}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <div className="panel-head">
        <h2 id="side-panel-title" tabIndex={-1}>
          {title}
        </h2>
        <button type="button" className="icon-button" aria-label={t.closePanel} title={t.closePanel} onClick={onClose}>
          <CloseIcon />
        </button>
      </div>
      <div className="panel-body">{children}</div>
    </aside>
  );
}
