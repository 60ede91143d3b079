import { useId } from 'react';
import type { DeviceOption } from '../localMedia';
import { useT } from './i18nContext';

export interface DeviceSelectProps {
  label: string;
  devices: readonly DeviceOption[];
  value: string | null;
  /** Offer "system default" (speakers). */
  allowDefault?: boolean;
  testid: string;
  onChange: (deviceId: string) => void;
}

/** A labelled choice of one kind of device; hidden when there is nothing to choose from. */
export function DeviceSelect({ label, devices, value, allowDefault, testid, onChange }: DeviceSelectProps) {
  const t = useT();
  const id = useId();
  if (devices.length === 0 && !allowDefault) return null;
  return (
    <div className="device-select">
      <label htmlFor={id}>{label}</label>
      <select id={id} data-testid={testid} value={value ?? ''} onChange={(e) => onChange(e.target.value)}>
        {allowDefault && <option value="">{t.systemDefault}</option>}
        {devices.map((d) => (
          <option key={d.deviceId} value={d.deviceId}>
            {d.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Whether this browser can choose the speaker (HTMLMediaElement.setSinkId). */
export const canChooseSpeaker = (): boolean =>
  typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

export interface DevicePickersProps {
  cameras: readonly DeviceOption[];
  mics: readonly DeviceOption[];
  speakers: readonly DeviceOption[];
  cameraId: string | null;
  micId: string | null;
  speakerId: string | null;
  onCamera: (id: string) => void;
  onMic: (id: string) => void;
  onSpeaker: (id: string | null) => void;
}

export function DevicePickers(p: DevicePickersProps) {
  const t = useT();
  return (
    <fieldset className="devices">
      <legend>{t.devicesLabel}</legend>
      <DeviceSelect label={t.cameraLabel} devices={p.cameras} value={p.cameraId} testid="camera-select" onChange={p.onCamera} />
      <DeviceSelect label={t.micLabel} devices={p.mics} value={p.micId} testid="mic-select" onChange={p.onMic} />
      {canChooseSpeaker() && (
        <DeviceSelect
          label={t.speakerLabel}
          devices={p.speakers.filter((d) => d.deviceId !== 'default')}
          value={p.speakerId}
          allowDefault
          testid="speaker-select"
          onChange={(id) => p.onSpeaker(id || null)}
        />
      )}
    </fieldset>
  );
}
