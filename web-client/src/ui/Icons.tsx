// Small inline SVG icons (no icon font, no emoji: neither may be installed on the staff's machines).

type IconProps = { size?: number };

function Svg({ size = 18, children }: IconProps & { children: React.ReactNode }) {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={2}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
      className="icon"
    >
      {children}
    </svg>
  );
}

export function MicIcon({ off, size }: IconProps & { off?: boolean }) {
  return (
    <Svg size={size}>
      <rect x="9" y="2" width="6" height="12" rx="3" />
      <path d="M5 10v1a7 7 0 0 0 14 0v-1M12 18v4M8 22h8" />
      {off && <path d="M3 3l18 18" />}
    </Svg>
  );
}

export function CameraIcon({ off, size }: IconProps & { off?: boolean }) {
  return (
    <Svg size={size}>
      <rect x="2" y="6" width="13" height="12" rx="2" />
      <path d="M15 10l7-4v12l-7-4z" />
      {off && <path d="M3 3l18 18" />}
    </Svg>
  );
}

export function LeaveIcon({ size }: IconProps) {
  return (
    <Svg size={size}>
      <path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4M16 17l5-5-5-5M21 12H9" />
    </Svg>
  );
}

export function ScreenIcon({ off, size }: IconProps & { off?: boolean }) {
  return (
    <Svg size={size}>
      <rect x="2" y="3" width="20" height="14" rx="2" />
      <path d="M8 21h8M12 17v4" />
      {off && <path d="M3 3l18 18" />}
    </Svg>
  );
}

export function HandIcon({ size }: IconProps) {
  return (
    <Svg size={size}>
      <path d="M18 11V6a2 2 0 0 0-4 0v5M14 10V4a2 2 0 0 0-4 0v6M10 10.5V6a2 2 0 0 0-4 0v8" />
      <path d="M18 8a2 2 0 0 1 4 0v6a8 8 0 0 1-8 8h-2c-2.8 0-4.5-.9-6-2.4l-3.6-3.6a2 2 0 0 1 2.8-2.8L6 14" />
    </Svg>
  );
}

export function ChatIcon({ size }: IconProps) {
  return (
    <Svg size={size}>
      <path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z" />
    </Svg>
  );
}

export function PeopleIcon({ size }: IconProps) {
  return (
    <Svg size={size}>
      <circle cx="9" cy="7" r="4" />
      <path d="M2 21v-2a4 4 0 0 1 4-4h6a4 4 0 0 1 4 4v2M16 3.1a4 4 0 0 1 0 7.8M22 21v-2a4 4 0 0 0-3-3.9" />
    </Svg>
  );
}

export function GridIcon({ size }: IconProps) {
  return (
    <Svg size={size}>
      <rect x="3" y="3" width="7" height="7" />
      <rect x="14" y="3" width="7" height="7" />
      <rect x="3" y="14" width="7" height="7" />
      <rect x="14" y="14" width="7" height="7" />
    </Svg>
  );
}

export function SpeakerViewIcon({ size }: IconProps) {
  return (
    <Svg size={size}>
      <rect x="3" y="3" width="18" height="12" rx="1" />
      <rect x="3" y="17" width="5" height="4" />
      <rect x="10" y="17" width="4" height="4" />
      <rect x="16" y="17" width="5" height="4" />
    </Svg>
  );
}

export function PinIcon({ size }: IconProps) {
  return (
    <Svg size={size}>
      <path d="M12 17v5M9 10.8V4h6v6.8l3 3.2v2H6v-2z" />
    </Svg>
  );
}

export function FullscreenIcon({ size }: IconProps) {
  return (
    <Svg size={size}>
      <path d="M8 3H5a2 2 0 0 0-2 2v3M21 8V5a2 2 0 0 0-2-2h-3M3 16v3a2 2 0 0 0 2 2h3M16 21h3a2 2 0 0 0 2-2v-3" />
    </Svg>
  );
}

export function SettingsIcon({ size }: IconProps) {
  return (
    <Svg size={size}>
      <circle cx="12" cy="12" r="3" />
      <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z" />
    </Svg>
  );
}

export function CloseIcon({ size }: IconProps) {
  return (
    <Svg size={size}>
      <path d="M18 6L6 18M6 6l12 12" />
    </Svg>
  );
}

export function ChevronIcon({ size, left }: IconProps & { left?: boolean }) {
  return <Svg size={size}>{left ? <path d="M15 18l-6-6 6-6" /> : <path d="M9 18l6-6-6-6" />}</Svg>;
}

/** Signal bars: 1 to 3 filled by quality. */
export function SignalIcon({ size, level }: IconProps & { level: 0 | 1 | 2 | 3 }) {
  return (
    <Svg size={size}>
      <path d="M4 20v-4" opacity={level >= 1 ? 1 : 0.3} />
      <path d="M12 20v-9" opacity={level >= 2 ? 1 : 0.3} />
      <path d="M20 20V5" opacity={level >= 3 ? 1 : 0.3} />
    </Svg>
  );
}
