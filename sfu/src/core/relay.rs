//! Cascading, the edge side: a *relay leg* receives a room's tracks from the room's home SFU node and republishes
//! them in this shard's copy of the room.
//!
//! On the home node the leg is an ordinary receive-only participant (its subscriber connection, ICE-lite, offers
//! every track of the room). Here it is one str0m peer in full-ICE mode that answers those offers (controlling,
//! since the home side is ICE-lite) and sends its checks from this shard's socket. Each track it receives is
//! published here by a *ghost*: a participant entry under the original publisher's id, with an UpTrack under the
//! original track id (read from the offer's `a=msid`), so local viewers subscribe to it, size it and see it in
//! speaker detection exactly like a local track. Ghosts have no connection of their own; their packets come from
//! the leg, and keyframe requests for them go upstream on the leg (throttled per track like any PLI).
//!
//! Driving: [`Shard::open_relay`] adds a leg; [`ParticipantCommand::RelayOffer`] feeds the home node's offer,
//! answered by [`SfuEvent::RelayAnswer`]; [`ParticipantCommand::Leave`] closes it. A leg ends with
//! [`SfuEvent::Closed`], taking its ghosts (and so their tracks) with it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use str0m::change::SdpOffer;
use str0m::media::{KeyframeRequestKind, MediaKind, Mid};
use str0m::net::Protocol;
use str0m::rtp::Ssrc;
use str0m::{Candidate, Event, IceConnectionState, Input, Rtc};

use super::index::ConnKey;
use super::participant::{Participant, rtc_config};
use super::shard::{JoinError, Shard, Transmitter, drain, error};
use super::types::*;

/// One relayed track: its m-line on the leg and the ghost track it feeds.
#[derive(Debug, Clone)]
pub struct RelayTrack {
    /// The m-line on the leg's connection.
    pub mid: Mid,
    /// The original publisher (the ghost's id) and its track id.
    pub publisher: ParticipantId,
    pub ghost_mid: Mid,
    pub kind: TrackKind,
    /// The SSRC the home node sends it on, once seen.
    pub ssrc: Option<Ssrc>,
}

/// One relay leg.
pub struct Relay {
    pub id: ParticipantId,
    pub room: RoomId,
    pub rtc: Rtc,
    pub deadline: Instant,
    pub tracks: Vec<RelayTrack>,
    /// SSRCs seen on the leg before their m-line was known (resolved after the drain).
    unknown: Vec<Ssrc>,
    input_errors: u32,
}

/// The relay legs of a shard and the ghosts they feed.
#[derive(Default)]
pub struct Relays {
    legs: HashMap<ParticipantId, Relay>,
    /// ghost → its leg
    ghosts: HashMap<ParticipantId, ParticipantId>,
}

impl Relays {
    /// Asked for every datagram: no hashing while the shard has no legs.
    pub fn is_leg(&self, id: ParticipantId) -> bool {
        !self.legs.is_empty() && self.legs.contains_key(&id)
    }

    pub fn is_ghost(&self, id: ParticipantId) -> bool {
        !self.ghosts.is_empty() && self.ghosts.contains_key(&id)
    }

    /// Open legs and the tracks they carry.
    pub fn counts(&self) -> (usize, usize) {
        (self.legs.len(), self.legs.values().map(|r| r.tracks.len()).sum())
    }

    pub fn leg_ids(&self) -> Vec<ParticipantId> {
        self.legs.keys().copied().collect()
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.legs.values().map(|r| r.deadline).min()
    }
}

/// A track announced in the home node's offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedTrack {
    pub mid: String,
    pub publisher: ParticipantId,
    pub track_id: String,
    pub kind: TrackKind,
    /// Sent (`sendonly`/`sendrecv`), not removed (`inactive`, port 0).
    pub active: bool,
}

/// Read the m-lines of an offer from a home node: mid, msid (`p<N> p<N>-<track>`), kind, direction. Lines that do
/// not fit are skipped (the offer comes over the network).
pub fn offered_tracks(sdp: &str) -> Vec<OfferedTrack> {
    let mut out = Vec::new();
    let mut cur: Option<(TrackKind, bool, Option<String>, Option<(ParticipantId, String)>)> = None;
    let mut flush = |cur: &mut Option<(TrackKind, bool, Option<String>, Option<(ParticipantId, String)>)>| {
        if let Some((kind, active, Some(mid), Some((publisher, track_id)))) = cur.take() {
            out.push(OfferedTrack { mid, publisher, track_id, kind, active });
        }
    };
    for line in sdp.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("m=") {
            flush(&mut cur);
            let mut parts = m.split_whitespace();
            let kind = match parts.next() {
                Some("audio") => TrackKind::Audio,
                Some("video") => TrackKind::Video,
                _ => continue,
            };
            let port_open = parts.next().is_some_and(|p| p != "0");
            cur = Some((kind, port_open, None, None));
            continue;
        }
        let Some(c) = cur.as_mut() else { continue };
        if let Some(mid) = line.strip_prefix("a=mid:") {
            c.2 = Some(mid.to_owned());
        } else if line == "a=inactive" || line == "a=recvonly" {
            c.1 = false;
        } else if let Some(msid) = line.strip_prefix("a=msid:") {
            let mut parts = msid.split_whitespace();
            let (Some(stream), Some(track)) = (parts.next(), parts.next()) else { continue };
            let id = stream.strip_prefix('p').and_then(|n| n.parse::<u64>().ok());
            let track_id = track.strip_prefix(stream).and_then(|t| t.strip_prefix('-'));
            if let (Some(id), Some(t)) = (id, track_id)
                && !t.is_empty()
                && t.len() <= 16
            {
                c.3 = Some((ParticipantId(id), t.to_owned()));
            }
        }
    }
    flush(&mut cur);
    out
}

/// UDP host candidates in an SDP (the home node's worker addresses).
fn udp_candidates(sdp: &str) -> Vec<SocketAddr> {
    sdp.lines()
        .filter_map(|l| l.trim().strip_prefix("a="))
        .filter(|l| l.starts_with("candidate:"))
        .filter_map(|l| Candidate::from_sdp_string(l).ok())
        .filter(|c| c.proto() == Protocol::Udp)
        .map(|c| c.addr())
        .collect()
}

impl Shard {
    pub fn relays(&self) -> &Relays {
        &self.relays
    }

    /// Open a relay leg `id` for `room` (the room is created here if needed). Its events (the answer, `Closed`)
    /// are emitted under `id`.
    pub fn open_relay(&mut self, now: Instant, room: RoomId, id: ParticipantId) -> Result<(), JoinError> {
        if self.participants.contains_key(&id) || self.relays.legs.contains_key(&id) {
            return Err(JoinError::AlreadyJoined(id));
        }
        let mut rtc = rtc_config().set_ice_lite(false).build(now);
        let cand = Candidate::host(self.local, "udp").map_err(|e| JoinError::Setup(format!("relay candidate: {e}")))?;
        rtc.add_local_candidate(cand);
        self.relays.legs.insert(
            id,
            Relay { id, room, rtc, deadline: now, tracks: Vec::new(), unknown: Vec::new(), input_errors: 0 },
        );
        Ok(())
    }

    /// A command for a relay leg (the caller checked [`Relays::is_leg`]).
    pub(crate) fn relay_command(&mut self, now: Instant, id: ParticipantId, cmd: ParticipantCommand, tx: &mut impl Transmitter) {
        match cmd {
            ParticipantCommand::RelayOffer(sdp) => {
                let r = catch_unwind(AssertUnwindSafe(|| self.relay_offer(now, id, &sdp, tx)));
                if r.is_err() {
                    self.close_relay(id, CloseReason::Isolated("internal error on a relay leg".into()), now, tx);
                }
            }
            ParticipantCommand::Leave => self.close_relay(id, CloseReason::Left, now, tx),
            _ => self.events.push_back((id, error(ErrorCode::Internal, "not a command for a relay leg"))),
        }
    }

    fn relay_offer(&mut self, now: Instant, id: ParticipantId, sdp: &str, tx: &mut impl Transmitter) {
        let Some(relay) = self.relays.legs.get_mut(&id) else { return };
        // One leg per pair of home and edge worker sockets: the home node tells connections apart by address, so a
        // second leg on the same path would take the first one's packets.
        let key = ConnKey { participant: id, target: PcTarget::Publisher };
        let homes = udp_candidates(sdp);
        if homes.iter().any(|a| self.index.tuple(Transport::Udp, *a, self.local).is_some_and(|k| k != key)) {
            tracing::warn!(relay = %id, room = %relay.room, "another relay leg runs between these two workers");
            let reason = CloseReason::Isolated("another relay leg runs between the same workers".into());
            self.close_relay(id, reason, now, tx);
            return;
        }
        let answer = SdpOffer::from_sdp_string(sdp)
            .map_err(|e| format!("cannot parse the home node's offer: {e}"))
            .and_then(|offer| relay.rtc.sdp_api().accept_offer(offer).map_err(|e| format!("cannot accept offer: {e}")));
        let answer = match answer {
            Ok(a) => a,
            Err(msg) => {
                self.events.push_back((id, error(ErrorCode::BadSdp, &msg)));
                return;
            }
        };
        // The home node is ICE-lite: it never checks first, so its datagrams are routed by address from the start.
        for addr in homes {
            self.index.insert_tuple(Transport::Udp, addr, self.local, key);
        }
        self.events.push_back((id, SfuEvent::RelayAnswer(answer.to_sdp_string())));
        let room = relay.room.clone();
        for t in offered_tracks(sdp) {
            let mid = Mid::from(t.mid.as_str());
            let known = self.relays.legs.get(&id).is_some_and(|r| r.tracks.iter().any(|k| k.mid == mid));
            if t.active && !known {
                self.relay_publish(now, id, &room, RelayTrack {
                    mid,
                    publisher: t.publisher,
                    ghost_mid: Mid::from(t.track_id.as_str()),
                    kind: t.kind,
                    ssrc: None,
                });
            } else if !t.active && known {
                self.relay_unpublish(now, id, mid, tx);
            }
        }
        self.relay_drain(id, now, tx);
        self.process_pending(now, tx);
    }

    /// Publish a relayed track through its ghost (created on its first track).
    fn relay_publish(&mut self, now: Instant, id: ParticipantId, room: &RoomId, track: RelayTrack) {
        let ghost = track.publisher;
        let owner = self.relays.ghosts.get(&ghost).copied();
        match owner {
            Some(leg) if leg == id => {}
            // The id is taken here by someone else (a local participant, another leg's ghost): not relayed.
            _ if self.participants.contains_key(&ghost) => return,
            _ => {
                let Ok(mut p) = Participant::new(ghost, room.clone(), self.local, false, now) else { return };
                // Never driven: its connections are placeholders.
                let far = now + std::time::Duration::from_secs(86_400 * 365);
                (p.pub_deadline, p.sub_deadline) = (far, far);
                self.participants.insert(ghost, p);
                self.rooms.entry(room.clone()).or_default().members.push(ghost);
                self.relays.ghosts.insert(ghost, id);
            }
        }
        let kind = match track.kind {
            TrackKind::Audio => MediaKind::Audio,
            TrackKind::Video => MediaKind::Video,
        };
        let ghost_mid = track.ghost_mid;
        if let Some(relay) = self.relays.legs.get_mut(&id) {
            relay.tracks.push(track);
        }
        self.publish_track(ghost, ghost_mid, kind, &[], now);
    }

    fn relay_unpublish(&mut self, now: Instant, id: ParticipantId, mid: Mid, tx: &mut impl Transmitter) {
        let Some(relay) = self.relays.legs.get_mut(&id) else { return };
        let Some(pos) = relay.tracks.iter().position(|t| t.mid == mid) else { return };
        let track = relay.tracks.remove(pos);
        let ghost_left = relay.tracks.iter().any(|t| t.publisher == track.publisher);
        self.unpublish_track(track.publisher, track.ghost_mid);
        if !ghost_left {
            self.remove_ghost(track.publisher, now, tx);
        }
    }

    fn remove_ghost(&mut self, ghost: ParticipantId, now: Instant, tx: &mut impl Transmitter) {
        if self.relays.ghosts.remove(&ghost).is_some() {
            self.remove_participant(ghost, CloseReason::Left, now, tx);
        }
    }

    /// Close a leg: its ghosts leave (their tracks end for the local viewers), then `Closed(reason)`.
    pub(crate) fn close_relay(&mut self, id: ParticipantId, reason: CloseReason, now: Instant, tx: &mut impl Transmitter) {
        let Some(mut relay) = self.relays.legs.remove(&id) else { return };
        self.index.remove_participant(id);
        let mut ghosts: Vec<ParticipantId> = relay.tracks.iter().map(|t| t.publisher).collect();
        ghosts.dedup();
        for ghost in ghosts {
            self.remove_ghost(ghost, now, tx);
        }
        relay.rtc.disconnect();
        let _ = drain(&mut relay.rtc, now, tx, &mut self.stats, false, |_| {});
        if !matches!(reason, CloseReason::Left | CloseReason::Shutdown) {
            tracing::info!(relay = %id, room = %relay.room, ?reason, "relay leg closed");
        }
        self.events.push_back((id, SfuEvent::Closed(reason)));
    }

    /// A datagram for a leg (routed by the index).
    pub(crate) fn relay_input(&mut self, id: ParticipantId, input: Input<'_>, now: Instant, tx: &mut impl Transmitter) {
        let Some(relay) = self.relays.legs.get_mut(&id) else { return };
        let Ok(handled) = catch_unwind(AssertUnwindSafe(|| relay.rtc.handle_input(input))) else {
            self.close_relay(id, CloseReason::Isolated("internal error on a relay leg".into()), now, tx);
            return;
        };
        match handled {
            Ok(()) => relay.input_errors = 0,
            Err(_) => {
                self.stats.dropped_input_error += 1;
                relay.input_errors += 1;
                if relay.input_errors >= 1000 {
                    self.close_relay(id, CloseReason::Isolated("too many undecodable packets".into()), now, tx);
                    return;
                }
            }
        }
        self.relay_step(id, now, tx);
    }

    /// Drive the legs whose deadline has come.
    pub(crate) fn relay_timeouts(&mut self, now: Instant, tx: &mut impl Transmitter) {
        if self.relays.legs.is_empty() {
            return;
        }
        let mut due = std::mem::take(&mut self.scratch_ids);
        due.clear();
        due.extend(self.relays.legs.values().filter(|r| r.deadline <= now).map(|r| r.id));
        for &id in &due {
            let Some(relay) = self.relays.legs.get_mut(&id) else { continue };
            match catch_unwind(AssertUnwindSafe(|| relay.rtc.handle_input(Input::Timeout(now)))) {
                Ok(Ok(())) => self.relay_step(id, now, tx),
                Ok(Err(_)) => self.close_relay(id, CloseReason::ConnectionFailed, now, tx),
                Err(_) => self.close_relay(id, CloseReason::Isolated("internal error on a relay leg".into()), now, tx),
            }
        }
        self.scratch_ids = due;
    }

    /// Drain a leg and forward what it received, isolating a panic to the leg.
    fn relay_step(&mut self, id: ParticipantId, now: Instant, tx: &mut impl Transmitter) {
        let r = catch_unwind(AssertUnwindSafe(|| {
            self.relay_drain(id, now, tx);
            self.process_pending(now, tx);
        }));
        if r.is_err() {
            self.rtp_in.clear();
            self.close_relay(id, CloseReason::Isolated("internal error on a relay leg".into()), now, tx);
        }
    }

    /// Drain a leg's output: datagrams go out, RTP goes to its ghost (forwarded by `process_pending`).
    fn relay_drain(&mut self, id: ParticipantId, now: Instant, tx: &mut impl Transmitter) {
        let Shard { relays, participants, rtp_in, stats, .. } = self;
        let Some(relay) = relays.legs.get_mut(&id) else { return };
        let Relay { rtc, tracks, unknown, .. } = relay;
        let mut relayed = 0u64;
        let res = drain(rtc, now, tx, stats, false, |e| match e {
            Event::RtpPacket(pkt) => {
                let ssrc = pkt.header.ssrc;
                match tracks.iter().find(|t| t.ssrc == Some(ssrc)) {
                    Some(t) => {
                        relayed += 1;
                        rtp_in.push((t.publisher, pkt));
                    }
                    None if unknown.len() < 64 && !unknown.contains(&ssrc) => unknown.push(ssrc),
                    None => {}
                }
            }
            Event::Connected => tracing::debug!(relay = %id, "relay leg connected"),
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                tracing::debug!(relay = %id, "relay leg: ICE disconnected");
            }
            _ => {}
        });
        stats.relay_packets += relayed;
        let mut failed = match res {
            Ok(deadline) => {
                relay.deadline = deadline;
                false
            }
            Err(_) => true,
        };
        failed |= !relay.rtc.is_alive();
        // SSRCs seen for the first time: find their m-line (the first packet of each was dropped).
        if !relay.unknown.is_empty() {
            for ssrc in std::mem::take(&mut relay.unknown) {
                let mid = relay.rtc.direct_api().stream_rx(&ssrc).map(|s| s.mid());
                let Some(t) = mid.and_then(|m| relay.tracks.iter_mut().find(|t| t.mid == m)) else { continue };
                t.ssrc = Some(ssrc);
                if let Some(up) = participants.get_mut(&t.publisher).and_then(|g| g.uptrack_mut(t.ghost_mid))
                    && let Some(layer) = up.layers.first_mut()
                {
                    layer.ssrc = Some(ssrc);
                }
            }
        }
        if failed {
            self.close_relay(id, CloseReason::ConnectionFailed, now, tx);
        }
    }

    /// A keyframe for a ghost's track: asked upstream on its leg (the caller throttled it per track).
    pub(crate) fn relay_keyframe(&mut self, ghost: ParticipantId, ssrc: Ssrc, now: Instant, tx: &mut impl Transmitter) {
        let Some(&leg) = self.relays.ghosts.get(&ghost) else { return };
        let Some(relay) = self.relays.legs.get_mut(&leg) else { return };
        if let Some(rx) = relay.rtc.direct_api().stream_rx(&ssrc) {
            rx.request_keyframe(KeyframeRequestKind::Pli);
            self.stats.keyframe_requests += 1;
            self.stats.relay_keyframe_requests += 1;
            self.relay_drain(leg, now, tx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offer_names_each_tracks_publisher_and_track_id() {
        let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\na=msid:p13 p13-0\r\n\
            a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=inactive\r\na=msid:p13 p13-1\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:2\r\na=sendonly\r\na=msid:garbage here\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:3\r\na=sendonly\r\na=msid:p9 p13-1\r\n\
            m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:4\r\n";
        let tracks = offered_tracks(sdp);
        assert_eq!(
            tracks,
            vec![
                OfferedTrack {
                    mid: "0".into(),
                    publisher: ParticipantId(13),
                    track_id: "0".into(),
                    kind: TrackKind::Audio,
                    active: true
                },
                OfferedTrack {
                    mid: "1".into(),
                    publisher: ParticipantId(13),
                    track_id: "1".into(),
                    kind: TrackKind::Video,
                    active: false
                },
            ],
            "lines that do not fit (no publisher id, a track id of another stream) are skipped"
        );
        assert_eq!(udp_candidates(sdp), vec!["127.0.0.1:50000".parse::<SocketAddr>().unwrap()]);
        assert!(offered_tracks("garbage\nm=\nm=video\na=msid:p\n").is_empty());
    }

    #[test]
    fn a_relay_leg_takes_only_relay_commands_and_closes_with_its_ghosts() {
        struct Discard;
        impl Transmitter for Discard {
            fn transmit(&mut self, _: Transport, _: SocketAddr, _: &[u8]) {}
        }
        let now = Instant::now();
        let mut s = Shard::new("127.0.0.1:50000".parse().unwrap(), 1);
        let (room, leg) = (RoomId("r".into()), ParticipantId(1 << 62));
        s.open_relay(now, room.clone(), leg).unwrap();
        assert_eq!(s.open_relay(now, room, leg), Err(JoinError::AlreadyJoined(leg)));
        s.handle_command(now, leg, ParticipantCommand::RelayOffer("not sdp".into()), &mut Discard);
        assert!(matches!(s.poll_event(), Some((id, SfuEvent::Error { code: ErrorCode::BadSdp, .. })) if id == leg));
        s.handle_command(now, leg, ParticipantCommand::RestartIce, &mut Discard);
        assert!(matches!(s.poll_event(), Some((_, SfuEvent::Error { code: ErrorCode::Internal, .. }))));
        assert_eq!(s.relays().counts(), (1, 0));
        assert!(s.poll_timeout().is_some(), "the leg has a deadline");
        s.handle_command(now, leg, ParticipantCommand::Leave, &mut Discard);
        assert_eq!(s.poll_event(), Some((leg, SfuEvent::Closed(CloseReason::Left))));
        assert_eq!(s.relays().counts(), (0, 0));
    }

    /// An offer as a home node's subscriber connection makes it: ICE-lite, one host candidate, `p<N>` msids.
    fn home_offer(addr: &str, publisher: &str, now: Instant) -> String {
        let mut home = rtc_config().build(now);
        home.add_local_candidate(Candidate::host(addr.parse().unwrap(), "udp").unwrap());
        let mut api = home.sdp_api();
        for (kind, track) in [(MediaKind::Audio, "0"), (MediaKind::Video, "1")] {
            let msid = (Some(publisher.to_owned()), Some(format!("{publisher}-{track}")));
            api.add_media(kind, str0m::media::Direction::SendOnly, msid.0, msid.1, None);
        }
        api.apply().unwrap().0.to_sdp_string()
    }

    #[test]
    fn a_leg_republishes_the_offered_tracks_under_their_publishers_and_a_second_leg_on_its_path_is_refused() {
        struct Discard;
        impl Transmitter for Discard {
            fn transmit(&mut self, _: Transport, _: SocketAddr, _: &[u8]) {}
        }
        let now = Instant::now();
        let mut s = Shard::new("127.0.0.1:50000".parse().unwrap(), 1);
        let (room, leg, other) = (RoomId("r".into()), ParticipantId(1 << 62), ParticipantId((1 << 62) + 1));
        s.open_relay(now, room.clone(), leg).unwrap();
        s.handle_command(now, leg, ParticipantCommand::RelayOffer(home_offer("127.0.0.1:40000", "p5", now)), &mut Discard);
        assert!(matches!(s.poll_event(), Some((id, SfuEvent::RelayAnswer(_))) if id == leg));
        assert_eq!(s.relays().counts(), (1, 2), "audio and video relayed");
        let ghost = &s.participants[&ParticipantId(5)];
        let tracks: Vec<String> = ghost.uptracks.iter().map(|u| u.track_id()).collect();
        assert_eq!(tracks, ["0", "1"], "under the publisher's id and track ids");
        // A viewer joining here subscribes to them; the ghost subscribes to nothing.
        s.join(now, room.clone(), ParticipantId(7)).unwrap();
        assert_eq!(s.participants[&ParticipantId(7)].downtracks.len(), 2);
        assert!(s.participants[&ParticipantId(5)].downtracks.is_empty());

        s.open_relay(now, RoomId("other".into()), other).unwrap();
        s.handle_command(now, other, ParticipantCommand::RelayOffer(home_offer("127.0.0.1:40000", "p6", now)), &mut Discard);
        let events: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
        assert!(events.iter().any(|(id, e)| *id == other && matches!(e, SfuEvent::Closed(CloseReason::Isolated(_)))));
        assert_eq!(s.relays().counts(), (1, 2), "the first leg keeps running");
        assert!(!s.participants.contains_key(&ParticipantId(6)));

        s.handle_command(now, leg, ParticipantCommand::Leave, &mut Discard);
        assert!(!s.participants.contains_key(&ParticipantId(5)), "the ghost leaves with its leg");
        assert_eq!(s.relays().counts(), (0, 0));
    }
}
