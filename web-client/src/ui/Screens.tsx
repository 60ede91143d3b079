import { errorText } from '../i18n';
import { useT } from './i18nContext';

export function NeedLinkScreen() {
  const t = useT();
  return (
    <main className="card" aria-labelledby="need-link-title">
      <h1 id="need-link-title">{t.needLinkTitle}</h1>
      <p data-testid="need-link">{t.needLinkBody}</p>
    </main>
  );
}

export function LeftScreen({ onRejoin }: { onRejoin: () => void }) {
  const t = useT();
  return (
    <main className="card" aria-labelledby="left-title">
      <h1 id="left-title" data-testid="left-screen">
        {t.leftTitle}
      </h1>
      <button type="button" className="primary" data-testid="rejoin-button" onClick={onRejoin}>
        {t.rejoin}
      </button>
    </main>
  );
}

export function FailedScreen({ code, onRetry }: { code: string; onRetry: () => void }) {
  const t = useT();
  return (
    <main className="card" aria-labelledby="failed-title">
      <h1 id="failed-title">{t.errorTitle}</h1>
      <p role="alert" data-testid="error-message" data-code={code}>
        {errorText(t, code)}
      </p>
      <button type="button" className="primary" onClick={onRetry}>
        {t.retry}
      </button>
    </main>
  );
}
