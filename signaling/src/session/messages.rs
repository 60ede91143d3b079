//! What the session does with each client message: join and resume, media negotiation, state, chat and hands.

use plenum_sfu::core::sdp;
use plenum_sfu::{MediaClass, ParticipantCommand, ParticipantId, PcTarget, RoomId, SfuEvent};
use tokio::sync::mpsc::unbounded_channel;
use tokio::time::Instant;

use super::checks::{check_candidate, check_sources, check_video_sizes, parse_sid, unix_millis};
use super::{Channels, Handover, Joined, MAX_NAME_CHARS, Session, State, Waiting, close_code, next_participant_id};
use crate::metrics;
use crate::protocol::{
    ClientMessage, ErrorCode, LeaveReason, LobbyEntry, PROTOCOL_VERSION, ParticipantInfo, ServerMessage, Target,
};
use crate::resume::new_token;
use crate::room::{Closed, HandOutcome, Refusal, chat, validate_room_name};

impl Session {
    pub(super) fn handle_message(&mut self, msg: ClientMessage, now: Instant) {
        match (&self.state, msg) {
            (_, ClientMessage::Ping { id }) => self.send(ServerMessage::Pong { id }),
            (State::AwaitingJoin, ClientMessage::Join { protocol, room, token, name }) => {
                self.last_error = None;
                self.join(protocol, room, &token, name);
                if let Some(code) = self.last_error {
                    metrics::join_failed(code);
                }
            }
            (State::AwaitingJoin, ClientMessage::Resume { protocol, room, resume_token }) => {
                self.request_resume(protocol, room, resume_token)
            }
            (State::Joined(_) | State::Waiting(_), ClientMessage::Join { .. } | ClientMessage::Resume { .. }) => {
                self.send_error(ErrorCode::AlreadyJoined, "already joined")
            }
            (State::AwaitingJoin, _) => self.send_error(ErrorCode::NotJoined, "send join first"),
            (State::Waiting(_), ClientMessage::Leave {}) => {
                self.depart(LeaveReason::Left, false);
                self.close(close_code::NORMAL, "left");
            }
            (State::Waiting(_), _) => {
                self.send_error(ErrorCode::NotJoined, "waiting in the lobby until a moderator admits you")
            }
            (State::Joined(_), msg) => self.handle_joined_message(msg, now),
            (State::Parked(_) | State::Done, _) => {}
        }
    }

    fn handle_joined_message(&mut self, msg: ClientMessage, now: Instant) {
        let State::Joined(joined) = &mut self.state else { return };
        let media = &self.shared.media;
        let result = match msg {
            ClientMessage::PublishOffer { sdp, sources } => {
                if !joined.may_publish {
                    return self.send_error(ErrorCode::Forbidden, "the join token does not allow publishing");
                }
                if let Err(e) = check_sources(&sources) {
                    return self.send_error(ErrorCode::BadRequest, e);
                }
                if let Err(e) = sdp::validate_offer(&sdp) {
                    return self.send_error(ErrorCode::BadSdp, e);
                }
                joined.sources.extend(sources);
                media.command(joined.id, ParticipantCommand::PublisherOffer(sdp))
            }
            ClientMessage::SubscribeAnswer { sdp } => {
                if joined.pending_offer.is_none() {
                    return self.send_error(ErrorCode::UnexpectedAnswer, "no subscribe_offer is outstanding");
                }
                if let Err(e) = sdp::validate_answer(&sdp) {
                    return self.send_error(ErrorCode::BadSdp, e);
                }
                joined.pending_offer = None;
                media.command(joined.id, ParticipantCommand::SubscriberAnswer(sdp))
            }
            ClientMessage::IceCandidate { target, candidate } => {
                let candidate = match candidate.as_deref().map(check_candidate).transpose() {
                    Ok(c) => c,
                    Err(e) => return self.send_error(ErrorCode::BadCandidate, e),
                };
                let target = match target {
                    Target::Publisher => PcTarget::Publisher,
                    Target::Subscriber => PcTarget::Subscriber,
                };
                media.command(joined.id, ParticipantCommand::RemoteCandidate { target, candidate })
            }
            ClientMessage::RestartIce {} => media.command(joined.id, ParticipantCommand::RestartIce),
            ClientMessage::VideoSizes { sizes } => {
                let commands = match check_video_sizes(&sizes) {
                    Ok(commands) => commands,
                    Err(e) => return self.send_error(ErrorCode::BadRequest, e),
                };
                commands.into_iter().try_for_each(|cmd| media.command(joined.id, cmd))
            }
            ClientMessage::Update { muted, camera_off } => {
                // Turning the microphone or camera on again lifts a moderator's block: the participant's choice.
                let mut unblock = Vec::new();
                if muted == Some(false) && joined.blocked.audio {
                    joined.blocked.audio = false;
                    unblock.push(MediaClass::Audio);
                }
                if camera_off == Some(false) && joined.blocked.camera {
                    joined.blocked.camera = false;
                    unblock.push(MediaClass::Camera);
                }
                self.shared.registry.update(&joined.room, joined.id, muted, camera_off);
                unblock
                    .into_iter()
                    .try_for_each(|class| media.command(joined.id, ParticipantCommand::BlockMedia { media: class, blocked: false }))
            }
            ClientMessage::LobbyResponse { sid, all, admit } => return self.lobby_response(sid.as_deref(), all, admit),
            ClientMessage::Moderate { action, sid, ban } => return self.moderate(action, sid.as_deref(), ban),
            ClientMessage::Chat { text } => return self.chat(&text, now),
            ClientMessage::Hand { raised, sid } => return self.hand(raised, sid.as_deref()),
            ClientMessage::Leave {} => {
                self.depart(LeaveReason::Left, true);
                return self.close(close_code::NORMAL, "left");
            }
            ClientMessage::Ping { .. } | ClientMessage::Join { .. } | ClientMessage::Resume { .. } => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!("SFU refused a command: {e}");
            self.send_error(ErrorCode::Internal, "the media server could not take the request");
        }
    }

    fn chat(&mut self, text: &str, now: Instant) {
        let State::Joined(joined) = &self.state else { return };
        let text = match chat::clean_text(text) {
            Ok(text) => text,
            Err(e) => return self.send_error(ErrorCode::BadRequest, e.to_string()),
        };
        if !self.chat_bucket.try_take(now) {
            return self.send_error(ErrorCode::RateLimited, "too many chat messages; this one was dropped");
        }
        // Everyone, the sender included, gets it through the room channel.
        self.shared.registry.chat(&joined.room, joined.id, text, unix_millis());
    }

    fn hand(&mut self, raised: bool, sid: Option<&str>) {
        let State::Joined(joined) = &self.state else { return };
        let target = match sid {
            None => joined.id,
            Some(sid) => match parse_sid(sid) {
                Some(id) => id,
                None => return self.send_error(ErrorCode::BadRequest, "invalid sid"),
            },
        };
        if target != joined.id {
            if raised {
                return self.send_error(ErrorCode::Forbidden, "only your own hand can be raised");
            }
            if !joined.moderator {
                return self.send_error(ErrorCode::Forbidden, "only moderators can lower someone else's hand");
            }
        }
        match self.shared.registry.set_hand(&joined.room, joined.id, target, raised) {
            HandOutcome::Changed | HandOutcome::Unchanged => {}
            HandOutcome::NotFound => self.send_error(ErrorCode::BadRequest, "no such participant in this room"),
        }
    }

    fn join(&mut self, protocol: u32, room: String, token: &str, name: Option<String>) {
        if protocol != PROTOCOL_VERSION {
            return self.fatal(
                ErrorCode::ProtocolUnsupported,
                format!("protocol {protocol} is not supported; this server speaks {PROTOCOL_VERSION}"),
            );
        }
        let claims = match self.shared.keys.verify(token, &room) {
            Ok(claims) => claims,
            Err(e) => return self.fatal(e.code(), e.to_string()),
        };
        if let Err(e) = validate_room_name(&room) {
            return self.send_error(ErrorCode::BadRequest, e.to_string());
        }
        let name = name.as_deref().unwrap_or(&claims.name).trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return self.send_error(ErrorCode::BadRequest, format!("the name must be 1-{MAX_NAME_CHARS} characters"));
        }

        if self.refused_identity.as_deref() == Some(claims.sub.as_str()) {
            return self.fatal(ErrorCode::AccountDisabled, "an admin disabled your account");
        }
        let room = RoomId(room);
        match self.shared.registry.closed(&room) {
            Some(closed @ Closed::Deleted { .. }) if closed.refuses(claims.iat) => {
                return self.fatal(ErrorCode::MeetingDeleted, "this meeting was deleted");
            }
            Some(closed) if closed.refuses(claims.iat) => {
                return self.fatal(ErrorCode::MeetingEnded, "a moderator ended this meeting; it cannot be joined any more");
            }
            _ => {}
        }
        // While draining, only running meetings take newcomers (a new meeting would be cut at the deadline).
        if self.shared.drain.is_draining() && self.shared.registry.participant_count(&room) == 0 {
            return self.fatal(
                ErrorCode::Draining,
                "this server is being restarted and starts no new meetings; please try again in a minute",
            );
        }
        let id = next_participant_id();
        let may_publish = claims.grants.publish;
        if claims.lobby && !claims.moderator {
            return self.enter_lobby(Waiting { id, room, identity: claims.sub, name, may_publish }, claims.guest);
        }
        let you = ParticipantInfo {
            sid: id.to_string(),
            identity: claims.sub,
            name,
            moderator: claims.moderator,
            muted: false,
            camera_off: false,
        };
        self.enter_room(id, room, you, may_publish, false);
    }

    /// Wait in the lobby: the moderators are told; the client hears `lobby_waiting`.
    fn enter_lobby(&mut self, waiting: Waiting, guest: bool) {
        let (room_tx, room_rx) = unbounded_channel();
        let entry = LobbyEntry {
            sid: waiting.id.to_string(),
            identity: waiting.identity.clone(),
            name: waiting.name.clone(),
            guest,
        };
        match self.shared.registry.enter_lobby(&waiting.room, waiting.id, entry, room_tx) {
            Ok(moderators_present) => {
                tracing::info!(participant = %waiting.id, room = %waiting.room, "waiting in the lobby");
                self.send(ServerMessage::LobbyWaiting { moderators_present });
                self.state = State::Waiting(waiting);
                self.channels = Some(Channels { room: room_rx, sfu: None, takeover: None });
            }
            Err(refusal) => self.refused(refusal),
        }
    }

    /// A join (or lobby entry) the room refuses: a fatal error.
    pub(super) fn refused(&mut self, refusal: Refusal) {
        let code = match refusal {
            Refusal::Banned => ErrorCode::Banned,
            Refusal::Locked => ErrorCode::RoomLocked,
        };
        self.fatal(code, refusal.to_string());
    }

    /// Into the room and the SFU (`admitted`: from the lobby, past a lock): `joined` with the room as it is.
    pub(super) fn enter_room(
        &mut self,
        id: ParticipantId,
        room: RoomId,
        you: ParticipantInfo,
        may_publish: bool,
        admitted: bool,
    ) {
        let (sfu_tx, sfu_rx) = unbounded_channel();
        let sink = Box::new(move |event: SfuEvent| {
            // The session may be gone; its cleanup already told the SFU to drop this participant.
            let _ = sfu_tx.send(event);
        });
        let joined = if may_publish {
            self.shared.media.join(&room, id, sink)
        } else {
            self.shared.media.join_viewer(&room, id, sink)
        };
        if let Err(e) = joined {
            tracing::warn!(participant = %id, "SFU join failed: {e}");
            return self.send_error(ErrorCode::Internal, "cannot join the room right now");
        }
        let (room_tx, room_rx) = unbounded_channel();
        let registry = &self.shared.registry;
        let joined = if admitted {
            registry.join_admitted(&room, id, you.clone(), room_tx)
        } else {
            registry.join(&room, id, you.clone(), room_tx)
        };
        let snapshot = match joined {
            Ok(snapshot) => snapshot,
            Err(refusal) => {
                if let Err(e) = self.shared.media.command(id, ParticipantCommand::Leave) {
                    tracing::debug!(participant = %id, "SFU leave: {e}");
                }
                return self.refused(refusal);
            }
        };
        let resume_token = new_token();
        let takeover = self.shared.resumes.register(&resume_token, &room, self.number);
        metrics::participant_joined(self.shared.registry.room_count());
        tracing::info!(participant = %id, room = %room, "joined");
        self.send(ServerMessage::Joined {
            protocol: PROTOCOL_VERSION,
            room: room.0.clone(),
            you: you.clone(),
            participants: snapshot.participants,
            tracks: snapshot.tracks,
            ice_servers: self.shared.ice_servers_for(&you.sid),
            ice_transport_policy: self.shared.ice_transport_policy,
            resume_token: resume_token.clone(),
            chat: snapshot.chat,
            hands: snapshot.hands,
        });
        if let Some(by) = snapshot.locked_by {
            self.send(ServerMessage::RoomLocked { locked: true, by });
        }
        if you.moderator && !snapshot.lobby.is_empty() {
            self.send(ServerMessage::Lobby { waiting: snapshot.lobby });
        }
        self.state = State::Joined(Joined {
            id,
            room,
            may_publish,
            moderator: you.moderator,
            identity: you.identity,
            name: you.name,
            blocked: Default::default(),
            pending_offer: None,
            sources: Default::default(),
            paused_video: Default::default(),
            resume_token,
            join_started: Some(std::time::Instant::now()),
        });
        self.channels = Some(Channels { room: room_rx, sfu: Some(sfu_rx), takeover: Some(takeover) });
        if let Some(notice) = self.shared.drain.notice() {
            self.send_drain_notice(notice);
        }
    }

    fn request_resume(&mut self, protocol: u32, room: String, resume_token: String) {
        if protocol != PROTOCOL_VERSION {
            return self.fatal(
                ErrorCode::ProtocolUnsupported,
                format!("protocol {protocol} is not supported; this server speaks {PROTOCOL_VERSION}"),
            );
        }
        if resume_token.is_empty() || resume_token.len() > 64 || validate_room_name(&room).is_err() {
            return self.send_error(ErrorCode::ResumeFailed, "nothing to resume; join again");
        }
        self.resume_request = Some((resume_token, RoomId(room)));
    }

    /// The participant handed over by its old session: back in the room on this connection.
    pub(super) fn resumed(&mut self, handover: Handover) {
        let Handover { joined, sfu } = handover;
        let (room_tx, room_rx) = unbounded_channel();
        let Some((you, snapshot)) = self.shared.registry.reattach(&joined.room, joined.id, room_tx) else {
            // Gone from the room meanwhile (it was removed): the SFU forgets it too.
            self.state = State::Joined(joined);
            self.depart(LeaveReason::Disconnected, true);
            self.state = State::AwaitingJoin;
            return self.send_error(ErrorCode::ResumeFailed, "nothing to resume; join again");
        };
        let takeover = self.shared.resumes.register(&joined.resume_token, &joined.room, self.number);
        tracing::info!(participant = %joined.id, room = %joined.room, "resumed");
        self.send(ServerMessage::Resumed {
            protocol: PROTOCOL_VERSION,
            room: joined.room.0.clone(),
            you,
            participants: snapshot.participants,
            tracks: snapshot.tracks,
            ice_servers: self.shared.ice_servers_for(&joined.id.to_string()),
            ice_transport_policy: self.shared.ice_transport_policy,
            chat: snapshot.chat,
            hands: snapshot.hands,
        });
        // An offer the client may never have seen: again (answering an offer it already applied is harmless).
        if let Some(sdp) = joined.pending_offer.clone() {
            self.send(ServerMessage::SubscribeOffer { sdp });
        }
        // Videos paused now (the client forgets pauses on resume; their events may have been lost).
        for (sid, track_id) in &joined.paused_video {
            self.send(ServerMessage::VideoPaused { sid: sid.clone(), track_id: track_id.clone(), paused: true });
        }
        self.state = State::Joined(joined);
        self.channels = Some(Channels { room: room_rx, sfu: Some(sfu), takeover: Some(takeover) });
        if let Some(notice) = self.shared.drain.notice() {
            self.send_drain_notice(notice);
        }
    }
}
