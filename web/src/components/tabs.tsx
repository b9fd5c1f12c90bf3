import { useRef, type KeyboardEvent } from 'react';

interface TabsProps<T extends string> {
  label: string;
  tabs: readonly (readonly [T, string])[];
  current: T;
  onChange: (tab: T) => void;
}

/** WAI-ARIA tabs: arrow keys move between them, the panel is labelled by the selected one. */
export function Tabs<T extends string>({ label, tabs, current, onChange }: TabsProps<T>) {
  const list = useRef<HTMLDivElement>(null);
  const onKey = (event: KeyboardEvent) => {
    const index = tabs.findIndex(([key]) => key === current);
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    const next = tabs[(index + step + tabs.length) % tabs.length];
    if (!next) return;
    onChange(next[0]);
    list.current?.querySelector<HTMLButtonElement>(`#tab-${next[0]}`)?.focus();
  };
  return (
    <div className="tabs" role="tablist" aria-label={label} ref={list} onKeyDown={onKey}>
      {tabs.map(([key, text]) => (
        <button
          key={key}
          id={`tab-${key}`}
          type="button"
          role="tab"
          aria-selected={key === current}
          aria-controls={`panel-${key}`}
          tabIndex={key === current ? 0 : -1}
          onClick={() => onChange(key)}
        >
          {text}
        </button>
      ))}
    </div>
  );
}
