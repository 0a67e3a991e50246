import type { ReactNode, SVGProps } from "react";

/** Stroke icons drawn for 16px; inline so the studio loads no icon font or sprite from anywhere. */
function Svg({ children, ...props }: SVGProps<SVGSVGElement> & { children: ReactNode }) {
  return (
    <svg
      width="16"
      height="16"
      viewBox="0 0 16 16"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.4"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      {...props}
    >
      {children}
    </svg>
  );
}

type IconProps = SVGProps<SVGSVGElement>;

export function FileIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M4 1.8h5l3 3v9.4H4z" />
      <path d="M9 1.8v3h3" />
    </Svg>
  );
}
export function FolderIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M1.8 3.5h4l1.5 1.5h6.9v8.3H1.8z" />
    </Svg>
  );
}
export function FolderOpenIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M1.8 13.3V3.5h4l1.5 1.5h5.4v2M1.8 13.3l1.7-6.3h11l-1.7 6.3z" />
    </Svg>
  );
}
export function ChevronRight(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="m6 3.5 4.5 4.5L6 12.5" />
    </Svg>
  );
}
export function ChevronDown(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="m3.5 6 4.5 4.5L12.5 6" />
    </Svg>
  );
}
export function PlusIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M8 3v10M3 8h10" />
    </Svg>
  );
}
export function TrashIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M2.5 4h11M6 4V2.5h4V4M4 4l.7 9.5h6.6L12 4" />
    </Svg>
  );
}
export function PencilIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="m10.5 2.5 3 3-8 8H2.5v-3z" />
    </Svg>
  );
}
export function RefreshIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M13 3v3.5H9.5M3 13V9.5h3.5M12.6 6.5A5 5 0 0 0 3.8 5M3.4 9.5a5 5 0 0 0 8.8 1.5" />
    </Svg>
  );
}
export function ExternalIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M9.5 2.5h4v4M13.5 2.5 7.5 8.5M12 9.5v4H2.5V4h4" />
    </Svg>
  );
}
export function PhoneIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <rect x="4.5" y="1.5" width="7" height="13" rx="1.5" />
      <path d="M7.3 12.5h1.4" />
    </Svg>
  );
}
export function TabletIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <rect x="2.5" y="1.5" width="11" height="13" rx="1.5" />
      <path d="M7.3 12.5h1.4" />
    </Svg>
  );
}
export function MonitorIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <rect x="1.5" y="2.5" width="13" height="8.5" rx="1" />
      <path d="M5.5 14h5M8 11v3" />
    </Svg>
  );
}
export function TerminalIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="m3 4.5 3 3-3 3M7.5 11.5H13" />
    </Svg>
  );
}
export function LogsIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M2.5 3.5h11M2.5 6.5h11M2.5 9.5h7M2.5 12.5h9" />
    </Svg>
  );
}
export function SearchIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <circle cx="7" cy="7" r="4.5" />
      <path d="m10.5 10.5 3 3" />
    </Svg>
  );
}
export function SettingsIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <circle cx="8" cy="8" r="2.2" />
      <path d="M8 1.5v2M8 12.5v2M1.5 8h2M12.5 8h2M3.4 3.4l1.4 1.4M11.2 11.2l1.4 1.4M3.4 12.6l1.4-1.4M11.2 4.8l1.4-1.4" />
    </Svg>
  );
}
export function LogoutIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M6 2.5H2.5v11H6M10.5 5l3 3-3 3M13.5 8H6" />
    </Svg>
  );
}
export function CloseIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="m4 4 8 8M12 4l-8 8" />
    </Svg>
  );
}
export function ImageIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <rect x="2.5" y="3" width="11" height="10" rx="1.5" />
      <circle cx="6" cy="6.5" r="1" />
      <path d="m3 12 3.5-3.5 2.5 2.5 1.5-1.5L13 12" />
    </Svg>
  );
}
export function StopIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <rect x="3.5" y="3.5" width="9" height="9" rx="1" />
    </Svg>
  );
}
export function ChatIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M2 3h12v8H6l-3 2.5V11H2z" />
    </Svg>
  );
}
export function HistoryIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M2.5 8a5.5 5.5 0 1 0 1.6-3.9" />
      <path d="M2.3 2.5v2.2h2.2" />
      <path d="M8 5v3.2l2 1.3" />
    </Svg>
  );
}
export function WarningIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M8 2 14.5 13.5h-13z" />
      <path d="M8 6.5v3M8 11.6v.2" />
    </Svg>
  );
}
export function SparkIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M8 1.5 9.5 6.5 14.5 8 9.5 9.5 8 14.5 6.5 9.5 1.5 8 6.5 6.5z" />
    </Svg>
  );
}
export function NewFolderIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M1.8 3.5h4l1.5 1.5h6.9v8.3H1.8zM8 7.5v4M6 9.5h4" />
    </Svg>
  );
}
export function NewFileIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M9 1.8H4v12.4h8V4.8z" />
      <path d="M8 7.5v4M6 9.5h4" />
    </Svg>
  );
}
export function CheckIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="m3 8.5 3.5 3.5L13 4.5" />
    </Svg>
  );
}
export function GridIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <rect x="2" y="2" width="5" height="5" rx="1" />
      <rect x="9" y="2" width="5" height="5" rx="1" />
      <rect x="2" y="9" width="5" height="5" rx="1" />
      <rect x="9" y="9" width="5" height="5" rx="1" />
    </Svg>
  );
}
export function MoreIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <circle cx="3.5" cy="8" r=".6" fill="currentColor" />
      <circle cx="8" cy="8" r=".6" fill="currentColor" />
      <circle cx="12.5" cy="8" r=".6" fill="currentColor" />
    </Svg>
  );
}

export function MenuIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M2.5 4h11M2.5 8h11M2.5 12h11" />
    </Svg>
  );
}
export function ChartIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M2 14h12M4 11.5V8M8 11.5V3.5M12 11.5V6" />
    </Svg>
  );
}
export function CodeIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="m5.5 4.5-3.5 3.5 3.5 3.5M10.5 4.5l3.5 3.5-3.5 3.5" />
    </Svg>
  );
}
export function KeyboardIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <rect x="1.5" y="4" width="13" height="8" rx="1.2" />
      <path d="M4 6.5h.01M6.5 6.5h.01M9 6.5h.01M11.5 6.5h.01M5 9.5h6" />
    </Svg>
  );
}

export function KilnLogo({ className }: { className?: string }) {
  return (
    <svg viewBox="0 0 32 32" className={className} aria-hidden="true">
      <rect width="32" height="32" rx="7" fill="var(--color-accent-600)" />
      <path d="M9 23V9h3v6l6-6h4l-7 7 7 7h-4l-6-6v6z" fill="white" />
    </svg>
  );
}
export function SunIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <circle cx="8" cy="8" r="2.8" />
      <path d="M8 1.5v1.3M8 13.2v1.3M1.5 8h1.3M13.2 8h1.3M3.4 3.4l.9.9M11.7 11.7l.9.9M3.4 12.6l.9-.9M11.7 4.3l.9-.9" />
    </Svg>
  );
}
export function MoonIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M13.5 9.6A5.8 5.8 0 0 1 6.4 2.5a5.8 5.8 0 1 0 7.1 7.1z" />
    </Svg>
  );
}

export function BellIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M4 11.5V7a4 4 0 0 1 8 0v4.5l1 1H3l1-1ZM6.5 13.5a1.5 1.5 0 0 0 3 0" />
    </Svg>
  );
}

/** A pointer over a dashed box: "select an element". */
export function PickIcon(props: IconProps) {
  return (
    <svg
      viewBox="0 0 16 16"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.5"
      aria-hidden="true"
      {...props}
    >
      <path
        d="M6.5 2.5h-3a1 1 0 0 0-1 1v3M2.5 9.5v3a1 1 0 0 0 1 1h3M9.5 2.5h3a1 1 0 0 1 1 1v3"
        strokeDasharray="2 1.5"
      />
      <path d="m8 8 6 2-2.5 1-1 2.5L8 8Z" strokeLinejoin="round" />
    </svg>
  );
}
