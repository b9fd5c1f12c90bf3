import { sql, PostgreSQL } from '@codemirror/lang-sql';
import { EditorView, keymap } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { useEffect, useRef } from 'react';

interface SqlEditorProps {
  value: string;
  onChange: (value: string) => void;
  onRun: () => void;
  /** Dataset name → its column names, for completion. */
  schema: Record<string, string[]>;
  label: string;
}

/** CodeMirror 6 with PostgreSQL syntax, dataset and column completion, Ctrl/Cmd-Enter to run. */
export function SqlEditor({ value, onChange, onRun, schema, label }: SqlEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | undefined>(undefined);
  const latest = useRef({ onChange, onRun });
  latest.current = { onChange, onRun };
  const schemaKey = JSON.stringify(schema);

  useEffect(() => {
    if (!host.current) return;
    const editor = new EditorView({
      doc: view.current?.state.doc.toString() ?? value,
      parent: host.current,
      extensions: [
        keymap.of([
          {
            key: 'Mod-Enter',
            run: () => {
              latest.current.onRun();
              return true;
            },
          },
        ]),
        basicSetup,
        sql({ dialect: PostgreSQL, schema, upperCaseKeywords: true }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) latest.current.onChange(update.state.doc.toString());
        }),
        EditorView.contentAttributes.of({ 'aria-label': label, 'aria-multiline': 'true' }),
      ],
    });
    view.current = editor;
    return () => editor.destroy();
    // Rebuilt only when the completion schema changes (not on each keystroke); the text is carried over.
  }, [schemaKey, label]);

  useEffect(() => {
    const editor = view.current;
    if (editor && editor.state.doc.toString() !== value) {
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value } });
    }
  }, [value]);

  return <div className="sql-editor" ref={host} />;
}
