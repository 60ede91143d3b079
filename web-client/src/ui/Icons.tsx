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
