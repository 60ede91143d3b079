import { LANGS, type Lang } from '../i18n';
import { useT } from './i18nContext';

export function LanguageSwitch({ lang, onChange }: { lang: Lang; onChange: (l: Lang) => void }) {
  const t = useT();
  return (
    <div className="lang-switch" role="group" aria-label={t.languageLabel}>
      {LANGS.map((l) => (
        <button
          key={l}
          type="button"
          lang={l}
          data-testid={`lang-${l}`}
          aria-pressed={l === lang}
          onClick={() => onChange(l)}
        >
          {t.langName[l]}
        </button>
      ))}
    </div>
  );
}
