import { describe, expect, it } from 'vitest';
import { selectedPath } from './path';

const report = [
  { id: 'T1', type: 'transport', selectedCandidatePairId: 'CP2' },
  { id: 'CP1', type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R1', state: 'failed' },
  { id: 'CP2', type: 'candidate-pair', localCandidateId: 'L2', remoteCandidateId: 'R1', bytesSent: 10, bytesReceived: 20 },
  { id: 'L1', type: 'local-candidate', protocol: 'udp', candidateType: 'host', address: '10.0.0.2', port: 5000 },
  { id: 'L2', type: 'local-candidate', protocol: 'tcp', candidateType: 'host', address: '10.0.0.2', port: 9 },
  { id: 'R1', type: 'remote-candidate', protocol: 'tcp', candidateType: 'host', address: '192.0.2.1', port: 50000 },
];

describe('selectedPath', () => {
  it('follows the transport to the selected pair and its candidates', () => {
    expect(selectedPath(report)).toEqual({
      local: { protocol: 'tcp', type: 'host', address: '10.0.0.2', port: 9 },
      remote: { protocol: 'tcp', type: 'host', address: '192.0.2.1', port: 50000 },
      bytesSent: 10,
      bytesReceived: 20,
    });
  });

  it('is null while nothing is selected', () => {
    expect(selectedPath(report.filter((s) => s.type !== 'transport'))).toBeNull();
  });

  it('keeps the relay protocol of a TURN candidate', () => {
    const relay = report.map((s) => (s.id === 'L2' ? { ...s, candidateType: 'relay', relayProtocol: 'tls' } : s));
    expect(selectedPath(relay)?.local).toMatchObject({ type: 'relay', relayProtocol: 'tls' });
  });
});
