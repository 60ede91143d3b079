import type { Quality } from '../quality';
import { useT } from './i18nContext';
import { SignalIcon } from './Icons';

const LEVEL: Record<Quality, 0 | 1 | 2 | 3> = { unknown: 0, poor: 1, fair: 2, good: 3 };

/** Signal bars with a text alternative ("Connection good"). */
export function QualityBadge({ quality, own }: { quality: Quality; own?: boolean }) {
  const t = useT();
  const label = own ? `${t.ownConnection}: ${t.quality[quality]}` : t.quality[quality];
  return (
    <span className={`quality q-${quality}`} data-testid="quality" data-quality={quality} title={label}>
      <SignalIcon size={16} level={LEVEL[quality]} />
      <span className="sr-only">{label}</span>
    </span>
  );
}
