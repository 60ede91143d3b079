//! The lobby and moderation in a session: a moderator's `lobby_response` and `moderate`, and how the affected
//! session applies them (admitted or denied from the lobby; muted, stopped, removed, the meeting ended).

use plenum_sfu::{MediaClass, ParticipantCommand};

use super::checks::parse_sid;
use super::{Session, State};
use crate::protocol::{ErrorCode, LeaveReason, ModerateAction, ParticipantInfo, ServerMessage};
use crate::room::audit::AuditRecord;
use crate::room::{LobbyTarget, Moderation, Refusal};

impl Session {
    // ---- the moderator's side ----

    /// `lobby_response`: admit or deny one waiting person or all of them.
    pub(super) fn lobby_response(&mut self, sid: Option<&str>, all: bool, admit: bool) {
        let State::Joined(joined) = &self.state else { return };
        if !joined.moderator {
            return self.send_error(ErrorCode::Forbidden, "only moderators can admit or deny people in the lobby");
        }
        let target = match (sid, all) {
            (Some(sid), false) => match parse_sid(sid) {
                Some(id) => LobbyTarget::One(id),
                None => return self.send_error(ErrorCode::BadRequest, "invalid sid"),
            },
            (None, true) => LobbyTarget::All,
            _ => return self.send_error(ErrorCode::BadRequest, "give either a sid or \"all\": true"),
        };
        let decided = self.shared.registry.decide(&joined.room, target, admit);
        if decided.is_empty() && target != LobbyTarget::All {
            return self.send_error(ErrorCode::BadRequest, "nobody waits in the lobby by that sid");
        }
        let action = if admit { "admit" } else { "deny" };
        for entry in &decided {
            self.audit(action, Some((&entry.identity, &entry.name)));
        }
    }

    /// `moderate`: act on one participant or on the room.
    pub(super) fn moderate(&mut self, action: ModerateAction, sid: Option<&str>, ban: bool) {
        let State::Joined(joined) = &self.state else { return };
        let (me, room) = (joined.id, joined.room.clone());
        if !joined.moderator {
            let what = action.as_str();
            return self.send_error(ErrorCode::Forbidden, format!("only moderators can {what}"));
        }
        if ban && action != ModerateAction::Remove {
            return self.send_error(ErrorCode::BadRequest, "\"ban\" goes only with \"remove\"");
        }
        let registry = &self.shared.registry;
        if !action.targets_one() {
            if sid.is_some() {
                return self.send_error(ErrorCode::BadRequest, format!("{} takes no sid", action.as_str()));
            }
            let acted = match action {
                ModerateAction::MuteAll => {
                    registry.mute_all(&room, me);
                    true
                }
                ModerateAction::Lock => registry.set_locked(&room, me, true),
                ModerateAction::Unlock => registry.set_locked(&room, me, false),
                ModerateAction::End => {
                    let at = crate::db::now_secs();
                    let told = registry.end(&room, me, at);
                    if let Some(store) = &self.shared.store {
                        store.end_later(&room.0, at);
                    }
                    told > 0
                }
                _ => false,
            };
            if acted {
                self.audit(action.as_str(), None);
            }
            return;
        }
        let Some(target) = sid.and_then(parse_sid) else {
            return self.send_error(ErrorCode::BadRequest, format!("{} needs a valid sid", action.as_str()));
        };
        if target == me {
            return self.send_error(ErrorCode::BadRequest, "a moderator acts on others; use update or leave for yourself");
        }
        let moderation = match action {
            ModerateAction::Mute => Moderation::Mute,
            ModerateAction::AskUnmute => Moderation::AskUnmute,
            ModerateAction::StopVideo => Moderation::StopVideo,
            ModerateAction::StopScreen => Moderation::StopScreen,
            _ => Moderation::Remove { ban },
        };
        let Some(info) = registry.moderate(&room, me, target, moderation) else {
            return self.send_error(ErrorCode::BadRequest, "no such participant in this room");
        };
        let what = if ban { "ban" } else { action.as_str() };
        if ban && let Some(store) = &self.shared.store {
            store.ban_later(&room.0, &info.identity, &info.name, self.actor());
        }
        self.audit(what, Some((&info.identity, &info.name)));
    }

    /// This moderator, as the audit log and the ban list name them.
    fn actor(&self) -> crate::audit::Actor {
        match &self.state {
            State::Joined(j) => crate::audit::Actor::new(j.identity.clone(), j.name.clone()),
            _ => crate::audit::Actor { id: None, name: String::new() },
        }
    }

    fn audit(&self, action: &'static str, target: Option<(&str, &str)>) {
        let State::Joined(joined) = &self.state else { return };
        let actor = (joined.identity.as_str(), joined.name.as_str(), &*joined.id.to_string());
        self.shared.audit.record(AuditRecord::now(&joined.room.0, actor, action, target));
    }

    // ---- the affected session's side ----

    /// A moderator let this session in from the lobby: into the room (past a lock).
    pub(super) fn admitted(&mut self) {
        let State::Waiting(waiting) = std::mem::replace(&mut self.state, State::AwaitingJoin) else {
            return;
        };
        tracing::info!(participant = %waiting.id, room = %waiting.room, "admitted from the lobby");
        let you = ParticipantInfo {
            sid: waiting.id.to_string(),
            identity: waiting.identity,
            name: waiting.name,
            moderator: false,
            muted: false,
            camera_off: false,
        };
        self.enter_room(waiting.id, waiting.room, you, waiting.may_publish, true);
    }

    /// A moderator did not let this session in.
    pub(super) fn denied(&mut self) {
        if let State::Waiting(waiting) = std::mem::replace(&mut self.state, State::Done) {
            tracing::info!(participant = %waiting.id, room = %waiting.room, "denied from the lobby");
            self.fatal(ErrorCode::LobbyDenied, "a moderator did not let you into the meeting");
        }
    }

    /// A moderator's action on this participant (or, for `End`, on everyone).
    pub(super) fn apply_moderation(&mut self, action: Moderation, by: String) {
        let joined = match &mut self.state {
            State::Joined(j) | State::Parked(j) => j,
            State::Waiting(_) => {
                // Only a ban or the end of the meeting reach the lobby.
                let refusal = match action {
                    Moderation::End => return self.ended(),
                    Moderation::AccountDisabled => {
                        self.state = State::Done;
                        return self.fatal(ErrorCode::AccountDisabled, "an admin disabled your account");
                    }
                    Moderation::Remove { .. } => Refusal::Banned,
                    _ => return,
                };
                self.state = State::Done;
                return self.refused(refusal);
            }
            State::AwaitingJoin | State::Done => return,
        };
        let (id, room) = (joined.id, joined.room.clone());
        let block = match action {
            Moderation::Mute => {
                joined.blocked.audio = true;
                self.shared.registry.update(&room, id, Some(true), None);
                Some(MediaClass::Audio)
            }
            Moderation::StopVideo => {
                joined.blocked.camera = true;
                self.shared.registry.update(&room, id, None, Some(true));
                Some(MediaClass::Camera)
            }
            Moderation::StopScreen => {
                joined.blocked.screen = true;
                Some(MediaClass::Screen)
            }
            Moderation::AskUnmute => None,
            Moderation::Remove { ban } => {
                tracing::info!(participant = %id, room = %room, by, ban, "removed by a moderator");
                self.send(ServerMessage::Moderated { action: ModerateAction::Remove, by, ban });
                self.depart(LeaveReason::Removed, true);
                let message = if ban {
                    "a moderator removed you from the meeting; you cannot rejoin it"
                } else {
                    "a moderator removed you from the meeting"
                };
                return self.fatal(ErrorCode::Removed, message);
            }
            Moderation::End => return self.ended(),
            Moderation::AccountDisabled => {
                tracing::info!(participant = %id, room = %room, "removed: the account was disabled");
                self.depart(LeaveReason::Removed, true);
                return self.fatal(ErrorCode::AccountDisabled, "an admin disabled your account");
            }
        };
        if let Some(media) = block
            && let Err(e) = self.shared.media.command(id, ParticipantCommand::BlockMedia { media, blocked: true })
        {
            tracing::warn!(participant = %id, "SFU block: {e}");
        }
        let action = match action {
            Moderation::Mute => ModerateAction::Mute,
            Moderation::StopVideo => ModerateAction::StopVideo,
            Moderation::StopScreen => ModerateAction::StopScreen,
            _ => ModerateAction::AskUnmute,
        };
        self.send(ServerMessage::Moderated { action, by, ban: false });
    }

    /// The meeting was ended by a moderator: leave and say so.
    fn ended(&mut self) {
        self.depart(LeaveReason::Ended, true);
        self.fatal(ErrorCode::MeetingEnded, "a moderator ended the meeting");
    }
}
