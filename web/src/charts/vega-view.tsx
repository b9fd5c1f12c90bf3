import { useEffect, useRef, useState } from 'react';
import { ProblemView } from '../components/states.tsx';

interface VegaViewProps {
  spec: Record<string, unknown>;
  label: string;
  actions?: boolean;
}

/**
 * Renders a Vega-Lite spec with vega-embed. Expressions run in Vega's
 * interpreter (no eval), so the page's CSP needs no 'unsafe-eval'.
 */
export function VegaView({ spec, label, actions = false }: VegaViewProps) {
  const host = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<unknown>();
  const specKey = JSON.stringify(spec);
  useEffect(() => {
    let finalize: (() => void) | undefined;
    let cancelled = false;
    setError(undefined);
    void (async () => {
      try {
        const [{ default: embed }, { expressionInterpreter }] = await Promise.all([
          import('vega-embed'),
          import('vega-interpreter'),
        ]);
        if (cancelled || !host.current) return;
        const result = await embed(host.current, JSON.parse(specKey) as never, {
          ast: true,
          expr: expressionInterpreter,
          renderer: 'svg',
          actions: actions ? { export: true, source: false, compiled: false, editor: false } : false,
        });
        finalize = () => result.finalize();
        if (cancelled) finalize();
      } catch (caught) {
        if (!cancelled) setError(caught);
      }
    })();
    return () => {
      cancelled = true;
      finalize?.();
    };
  }, [specKey, actions]);
  return (
    <figure className="vega-figure">
      <div ref={host} className="vega-host" role="img" aria-label={label} />
      {error !== undefined && <ProblemView error={error} />}
    </figure>
  );
}
