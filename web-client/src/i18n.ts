// All visible strings of the client, in German (default) and English.

export type Lang = 'de' | 'en';
export const LANGS: readonly Lang[] = ['de', 'en'];

const de = {
  appName: 'Plenum',
  languageLabel: 'Sprache',
  langName: { de: 'Deutsch', en: 'English' },

  needLinkTitle: 'Einladungslink erforderlich',
  needLinkBody:
    'Um an einer Besprechung teilzunehmen, öffnen Sie bitte den vollständigen Einladungslink, den Sie erhalten haben (er sieht aus wie …/r/raum#token=…).',

  prejoinTitle: 'Bereit zur Teilnahme?',
  roomLabel: 'Raum',
  identityLabel: 'Kennung',
  nameLabel: 'Anzeigename',
  nameInvalid: 'Bitte geben Sie einen Namen mit 1 bis 64 Zeichen ein.',
  previewLabel: 'Kameravorschau',
  micLevelLabel: 'Mikrofonpegel',
  noCamera: 'Keine Kamera',
  mediaStarting: 'Kamera und Mikrofon werden gestartet …',
  mediaDenied: 'Der Zugriff auf Kamera und Mikrofon wurde verweigert. Sie können trotzdem teilnehmen, andere sehen und hören Sie dann aber nicht.',
  mediaUnavailable: 'Kamera oder Mikrofon sind nicht verfügbar. Sie können trotzdem teilnehmen.',
  joinButton: 'Teilnehmen',
  joining: 'Verbindung wird hergestellt …',

  meetingLabel: 'Besprechung',
  you: 'Sie',
  participantsCount: (n: number) => (n === 1 ? '1 Person' : `${n} Personen`),
  aloneHint: 'Sie sind bisher allein in diesem Raum.',
  mutedBadge: 'Stummgeschaltet',
  cameraOffBadge: 'Kamera aus',
  muteMic: 'Stummschalten',
  stopCamera: 'Kamera aus',
  leave: 'Verlassen',
  leaveMeeting: 'Besprechung verlassen',
  controlsLabel: 'Steuerung',
  audioBlocked: 'Der Browser hat die Tonwiedergabe angehalten.',
  enableAudio: 'Ton einschalten',
  waitingForVideo: 'Warte auf Video …',
  connectingToRoom: 'Verbindung zum Raum wird hergestellt …',

  leftTitle: 'Sie haben die Besprechung verlassen.',
  rejoin: 'Erneut teilnehmen',

  errorTitle: 'Teilnahme nicht möglich',
  errors: {
    token_expired: 'Ihr Einladungslink ist abgelaufen. Bitte fordern Sie einen neuen Link an.',
    token_invalid: 'Der Einladungslink ist ungültig. Bitte prüfen Sie, ob Sie ihn vollständig kopiert haben.',
    token_wrong_room: 'Der Einladungslink gehört zu einem anderen Raum.',
    protocol_unsupported: 'Diese Version der Anwendung ist veraltet. Bitte laden Sie die Seite neu.',
    join_timeout: 'Die Anmeldung hat zu lange gedauert. Bitte versuchen Sie es erneut.',
    removed: 'Ihre Verbindung wurde vom Server getrennt.',
    internal: 'Auf dem Server ist ein Fehler aufgetreten.',
    bad_sdp: 'Die Medienverbindung konnte nicht ausgehandelt werden.',
    bad_request: 'Die Anfrage wurde vom Server abgelehnt.',
    rate_limited: 'Zu viele Anfragen – bitte etwas langsamer.',
    connection_lost: 'Die Verbindung zum Server ist abgebrochen.',
    connection_failed: 'Der Server ist nicht erreichbar.',
    media_failed: 'Die Medienverbindung ist fehlgeschlagen.',
    unknown: 'Ein unbekannter Fehler ist aufgetreten.',
  },
  retry: 'Erneut versuchen',
  dismiss: 'Schließen',
};

export type Dict = typeof de;

const en: Dict = {
  appName: 'Plenum',
  languageLabel: 'Language',
  langName: { de: 'Deutsch', en: 'English' },

  needLinkTitle: 'Invitation link required',
  needLinkBody:
    'To join a meeting, please open the complete invitation link you received (it looks like …/r/room#token=…).',

  prejoinTitle: 'Ready to join?',
  roomLabel: 'Room',
  identityLabel: 'Identity',
  nameLabel: 'Display name',
  nameInvalid: 'Please enter a name of 1 to 64 characters.',
  previewLabel: 'Camera preview',
  micLevelLabel: 'Microphone level',
  noCamera: 'No camera',
  mediaStarting: 'Starting camera and microphone …',
  mediaDenied: 'Access to camera and microphone was denied. You can still join, but others will not see or hear you.',
  mediaUnavailable: 'Camera or microphone is not available. You can still join.',
  joinButton: 'Join',
  joining: 'Connecting …',

  meetingLabel: 'Meeting',
  you: 'You',
  participantsCount: (n: number) => (n === 1 ? '1 person' : `${n} people`),
  aloneHint: 'You are alone in this room so far.',
  mutedBadge: 'Muted',
  cameraOffBadge: 'Camera off',
  muteMic: 'Mute',
  stopCamera: 'Camera off',
  leave: 'Leave',
  leaveMeeting: 'Leave meeting',
  controlsLabel: 'Controls',
  audioBlocked: 'The browser paused sound playback.',
  enableAudio: 'Turn sound on',
  waitingForVideo: 'Waiting for video …',
  connectingToRoom: 'Connecting to the room …',

  leftTitle: 'You left the meeting.',
  rejoin: 'Rejoin',

  errorTitle: 'Cannot join',
  errors: {
    token_expired: 'Your invitation link has expired. Please ask for a new link.',
    token_invalid: 'The invitation link is invalid. Please check that you copied all of it.',
    token_wrong_room: 'The invitation link belongs to another room.',
    protocol_unsupported: 'This version of the app is outdated. Please reload the page.',
    join_timeout: 'Joining took too long. Please try again.',
    removed: 'The server disconnected you.',
    internal: 'An error occurred on the server.',
    bad_sdp: 'The media connection could not be negotiated.',
    bad_request: 'The server rejected the request.',
    rate_limited: 'Too many requests – please slow down.',
    connection_lost: 'The connection to the server was lost.',
    connection_failed: 'The server cannot be reached.',
    media_failed: 'The media connection failed.',
    unknown: 'An unknown error occurred.',
  },
  retry: 'Try again',
  dismiss: 'Close',
};

export const dictionaries: Record<Lang, Dict> = { de, en };

export type ErrorKey = keyof Dict['errors'];

/** German by default; English when the browser's language starts with "en". A stored choice wins. */
export function pickLanguage(navigatorLanguage: string | undefined | null, stored?: string | null): Lang {
  if (stored === 'de' || stored === 'en') return stored;
  if (navigatorLanguage && navigatorLanguage.toLowerCase().startsWith('en')) return 'en';
  return 'de';
}

/** A readable message for an error code from the server (or a client-side one); unknown codes fall back. */
export function errorText(dict: Dict, code: string): string {
  return Object.prototype.hasOwnProperty.call(dict.errors, code) ? dict.errors[code as ErrorKey] : dict.errors.unknown;
}
