import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { MAX_CHAT_CHARS, type ChatEntry } from '../protocol';
import { useT } from './i18nContext';

export interface ChatPanelProps {
  messages: readonly ChatEntry[];
  selfSid: string | null;
  lang: string;
  /** Returns false if the message was refused (empty or too long). */
  onSend: (text: string) => boolean;
}

function time(at: number, lang: string): string {
  if (!at) return '';
  try {
    return new Date(at).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
  } catch {
    return '';
  }
}

/** The room's chat: the history (newest at the bottom) and a field where Enter sends (Shift+Enter: new line). */
export function ChatPanel({ messages, selfSid, lang, onSend }: ChatPanelProps) {
  const t = useT();
  const [text, setText] = useState('');
  const logRef = useRef<HTMLOListElement>(null);
  const inputId = useId();
  const hintId = useId();
  const tooLong = [...text].length > MAX_CHAT_CHARS;

  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length]);

  const send = () => {
    if (tooLong || !text.trim()) return;
    if (onSend(text)) setText('');
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  };

  return (
    <div className="chat">
      {messages.length === 0 ? (
        <p className="muted-text">{t.chatEmpty}</p>
      ) : (
        // The live region of the meeting announces new messages; the log itself stays quiet.
        <ol className="chat-log" ref={logRef} aria-label={t.chatLog} tabIndex={0}>
          {messages.map((m) => (
            <li key={m.id} data-testid="chat-message" data-sender={m.identity} className={m.sid === selfSid ? 'own' : undefined}>
              <div className="chat-meta">
                <span className="chat-name">{m.sid === selfSid ? `${m.name} (${t.you})` : m.name}</span>
                <time dateTime={m.at ? new Date(m.at).toISOString() : undefined}>{time(m.at, lang)}</time>
              </div>
              <p className="chat-text">{m.text}</p>
            </li>
          ))}
        </ol>
      )}
      <form
        className="chat-form"
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        <label htmlFor={inputId} className="sr-only">
          {t.chatInputLabel}
        </label>
        <textarea
          id={inputId}
          data-testid="chat-input"
          rows={2}
          value={text}
          placeholder={t.chatPlaceholder}
          aria-invalid={tooLong}
          aria-describedby={tooLong ? hintId : undefined}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
        />
        {tooLong && (
          <p id={hintId} className="field-error" role="alert">
            {t.chatTooLong(MAX_CHAT_CHARS)}
          </p>
        )}
        <button type="submit" className="primary" disabled={tooLong || !text.trim()}>
          {t.chatSend}
        </button>
      </form>
    </div>
  );
}
