// User-space relays on 127.0.0.1 that a test can pause, to cut one participant off the network (signaling over
// TCP, media over UDP) and bring it back. Paused, nothing passes: TCP data waits (as on a real outage, where TCP
// retransmits later), UDP datagrams are dropped, new TCP connections wait too.

import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';

/** A TCP relay to 127.0.0.1:`targetPort`. Returns { port, pause(), resume(), close() }. */
export async function tcpRelay(targetPort) {
  let paused = false;
  const links = new Set();

  const makeLink = (client) => {
    const link = { client, upstream: null, toUp: [], toClient: [] };
    links.add(link);
    const forward = (queue, dest) => {
      while (!paused && dest && queue.length) {
        const item = queue.shift();
        if (item === 'END') dest.destroy();
        else dest.write(item);
      }
    };
    link.flush = () => {
      if (!link.upstream) connectUp();
      forward(link.toUp, link.upstream);
      forward(link.toClient, link.client);
    };
    const connectUp = () => {
      const up = connect(targetPort, '127.0.0.1');
      link.upstream = up;
      up.on('data', (d) => {
        link.toClient.push(d);
        forward(link.toClient, client);
      });
      up.on('close', () => {
        link.toClient.push('END');
        forward(link.toClient, client);
      });
      up.on('error', () => undefined);
    };
    client.on('data', (d) => {
      link.toUp.push(d);
      forward(link.toUp, link.upstream);
    });
    client.on('close', () => {
      link.toUp.push('END');
      forward(link.toUp, link.upstream);
      links.delete(link);
    });
    client.on('error', () => undefined);
    if (!paused) connectUp();
  };

  const server = createServer(makeLink);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      for (const link of links) link.flush();
    },
    close() {
      for (const link of links) {
        link.client.destroy();
        link.upstream?.destroy();
      }
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A UDP relay to 127.0.0.1:`targetPort`, one upstream socket per client address. */
export async function udpRelay(targetPort) {
  let paused = false;
  const sock = createSocket('udp4');
  const upstreams = new Map();
  sock.on('message', (msg, from) => {
    if (paused) return;
    const key = `${from.address}:${from.port}`;
    let up = upstreams.get(key);
    if (!up) {
      up = createSocket('udp4');
      up.bind(0, '127.0.0.1');
      up.on('message', (reply) => {
        if (!paused) sock.send(reply, from.port, from.address);
      });
      up.on('error', () => undefined);
      upstreams.set(key, up);
    }
    up.send(msg, targetPort, '127.0.0.1');
  });
  sock.on('error', () => undefined);
  await new Promise((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return {
    port: sock.address().port,
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
    },
    close() {
      for (const up of upstreams.values()) up.close();
      return new Promise((resolve) => sock.close(resolve));
    },
  };
}

/**
 * Page script: the SFU's ICE candidate (127.0.0.1:`sfuPort`) becomes the relay's (127.0.0.1:`relayPort`) in every
 * remote description, so the browser's media goes through the relay.
 */
export function routeMediaScript(sfuPort, relayPort) {
  return {
    content: `(() => {
      const from = ' 127.0.0.1 ${sfuPort} typ ';
      const to = ' 127.0.0.1 ${relayPort} typ ';
      const original = RTCPeerConnection.prototype.setRemoteDescription;
      RTCPeerConnection.prototype.setRemoteDescription = function (d) {
        if (d && typeof d.sdp === 'string') d = { type: d.type, sdp: d.sdp.split(from).join(to) };
        return original.call(this, d);
      };
    })();`,
  };
}
