import { describe, expect, it } from 'vitest';
import { LocalMediaController } from './localMedia';
import { FakeStream, FakeTrack, installFakeMediaStream } from './testing/fakes';

installFakeMediaStream();

type Constraints = { audio?: unknown; video?: unknown };

/** navigator.mediaDevices with devices that may be missing or refused. */
function devices(opts: { camera?: boolean; mic?: boolean; denied?: boolean } = {}) {
  const { camera = true, mic = true, denied = false } = opts;
  const calls: Constraints[] = [];
  const md = {
    calls,
    async getUserMedia(c: Constraints) {
      calls.push(c);
      if (denied) throw Object.assign(new Error('no'), { name: 'NotAllowedError' });
      if ((c.video && !camera) || (c.audio && !mic)) throw Object.assign(new Error('none'), { name: 'NotFoundError' });
      const tracks: FakeTrack[] = [];
      if (c.audio) tracks.push(new FakeTrack('audio'));
      if (c.video) tracks.push(new FakeTrack('video'));
      return new FakeStream('gum', tracks);
    },
    async enumerateDevices() {
      return [
        { kind: 'videoinput', deviceId: 'cam1', label: 'Kamera 1' },
        { kind: 'audioinput', deviceId: 'mic1', label: '' },
        { kind: 'audiooutput', deviceId: 'spk1', label: 'Lautsprecher' },
      ];
    },
    addEventListener() {},
    removeEventListener() {},
  };
  return md;
}

const controller = (md: ReturnType<typeof devices>) => new LocalMediaController(md as unknown as MediaDevices);

describe('local media', () => {
  it('gets camera and microphone and lists the devices', async () => {
    const c = controller(devices());
    await c.start();
    const s = c.getSnapshot();
    expect(s.ready).toBe(true);
    expect(s.mic?.kind).toBe('audio');
    expect(s.camera?.kind).toBe('video');
    expect(s.preview?.getTracks()).toHaveLength(2);
    expect(s.cameras).toEqual([{ deviceId: 'cam1', label: 'Kamera 1' }]);
    expect(s.mics[0]?.label).toBe('audioinput 1');
    expect(s.speakers).toHaveLength(1);
  });

  it('says when access is denied, and joins audio-only without a camera', async () => {
    const denied = controller(devices({ denied: true }));
    await denied.start();
    expect(denied.getSnapshot()).toMatchObject({ micProblem: 'denied', cameraProblem: 'denied', mic: null, camera: null });
    const noCam = controller(devices({ camera: false }));
    await noCam.start();
    expect(noCam.getSnapshot()).toMatchObject({ micProblem: null, cameraProblem: 'unavailable' });
    expect(noCam.getSnapshot().mic).not.toBeNull();
  });

  it('mutes, switches the camera off (releasing it) and on, and switches devices by replacing tracks', async () => {
    const md = devices();
    const c = controller(md);
    await c.start();
    const changes: Array<[string, string | null]> = [];
    c.onTrack = (source, track) => changes.push([source, track ? track.kind : null]);
    const mic = c.getSnapshot().mic as unknown as FakeTrack;
    c.setMuted(true);
    expect(mic.enabled).toBe(false);
    const cam = c.getSnapshot().camera as unknown as FakeTrack;
    await c.setCameraOff(true);
    expect(cam.stopped).toBe(true);
    expect(c.getSnapshot()).toMatchObject({ camera: null, cameraOff: true });
    await c.selectCamera('cam1');
    expect(c.getSnapshot().camera).toBeNull(); // still off
    await c.setCameraOff(false);
    expect(md.calls.at(-1)).toMatchObject({ video: { deviceId: { exact: 'cam1' } } });
    await c.selectMic('mic1');
    expect(mic.stopped).toBe(true);
    expect((c.getSnapshot().mic as unknown as FakeTrack).enabled).toBe(false); // still muted
    expect(changes).toEqual([
      ['camera', null],
      ['camera', 'video'],
      ['microphone', 'audio'],
    ]);
    c.selectSpeaker('spk1');
    expect(c.getSnapshot().speakerId).toBe('spk1');
    c.stop();
    expect(c.getSnapshot().mic).toBeNull();
  });
});
