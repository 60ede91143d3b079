//! The async loop around [`Session`]: reads frames, room and SFU events, timers and takeover requests, and writes
//! what the session outputs.

use std::sync::Arc;

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use plenum_sfu::{CloseReason, SfuEvent};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

use super::{Handover, Incoming, Outgoing, Session, Shared};
use crate::room::RoomEvent;
use crate::resume::{ResumeError, TakeoverRequest};

/// How long a `resume` waits for the old session to hand the participant over.
const TAKEOVER_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Drive one session until it ends. `shutdown` turning true (or its sender going away) ends it with 1001.
pub async fn run<I, O>(shared: Arc<Shared>, mut incoming: I, mut outgoing: O, mut shutdown: watch::Receiver<bool>)
where
    I: Stream<Item = Incoming> + Unpin,
    O: Sink<Outgoing> + Unpin,
{
    let limits = shared.limits.clone();
    let join_deadline = tokio::time::sleep(limits.join_timeout);
    tokio::pin!(join_deadline);
    let mut session = Session::new(shared.clone(), Instant::now());
    let mut room_rx: Option<UnboundedReceiver<RoomEvent>> = None;
    let mut sfu_rx: Option<UnboundedReceiver<SfuEvent>> = None;
    let mut takeover_rx: Option<UnboundedReceiver<TakeoverRequest<Handover>>> = None;
    let mut transport_open = true;
    let mut last_heard = Instant::now();
    let mut next_ping = Instant::now() + limits.ping_interval;
    let mut grace_end: Option<Instant> = None;
    let mut drain = shared.drain.subscribe();

    while !session.is_closing() {
        tokio::select! {
            frame = incoming.next(), if transport_open => match frame {
                Some(frame) => {
                    if session.awaiting_join() {
                        sync_room(&shared, &frame).await;
                        load_stored(&shared, &frame, &mut session).await;
                    }
                    last_heard = Instant::now();
                    session.handle_incoming(frame, last_heard);
                }
                None => {
                    transport_open = false;
                    session.handle_transport_closed();
                }
            },
            msg = recv(&mut room_rx) => match msg {
                Some(msg) => session.handle_room_message(msg),
                None => room_rx = None,
            },
            event = recv(&mut sfu_rx) => match event {
                Some(event) => session.handle_sfu_event(event),
                // The SFU dropped the sink without `Closed`: treat it as a failed connection.
                None => {
                    sfu_rx = None;
                    session.handle_sfu_event(SfuEvent::Closed(CloseReason::Isolated("event sink dropped".into())));
                }
            },
            request = recv(&mut takeover_rx) => match request {
                Some(reply) => hand_over(&mut session, reply, &mut sfu_rx),
                None => takeover_rx = None,
            },
            () = sleep_until(next_ping), if transport_open && (session.is_joined() || session.is_waiting()) => {
                next_ping = Instant::now() + limits.ping_interval;
                if last_heard.elapsed() > limits.idle_timeout {
                    tracing::debug!(participant = ?session.participant(), "client silent; connection counts as dropped");
                    transport_open = false;
                    session.handle_transport_closed();
                } else if !send(&mut outgoing, Outgoing::Ping, limits.send_timeout).await {
                    transport_open = false;
                    session.handle_transport_closed();
                }
            },
            () = sleep_until(grace_end.unwrap_or_else(Instant::now)), if grace_end.is_some() => {
                // A resume may have asked just before the end: it wins.
                match takeover_rx.as_mut().and_then(|rx| rx.try_recv().ok()) {
                    Some(reply) => hand_over(&mut session, reply, &mut sfu_rx),
                    None => session.handle_grace_expired(),
                }
            },
            () = &mut join_deadline, if session.awaiting_join() => session.handle_join_timeout(),
            () = stopped(&mut shutdown) => session.handle_shutdown(),
            Ok(()) = drain.changed() => {
                let notice = *drain.borrow_and_update();
                if let Some(notice) = notice {
                    session.handle_drain(notice);
                }
            },
        }
        if let Some((token, room)) = session.take_resume_request() {
            let result = take_over(&shared, &token, &room).await;
            session.handle_resume_result(result);
        }
        if let Some(new) = session.take_channels() {
            room_rx = Some(new.room);
            if let Some(sfu) = new.sfu {
                sfu_rx = Some(sfu);
            }
            if let Some(takeover) = new.takeover {
                takeover_rx = Some(takeover);
            }
        }
        if session.is_parked() {
            grace_end.get_or_insert_with(|| Instant::now() + limits.resume_grace);
        }
        while let Some(out) = session.poll_output() {
            if transport_open && !send(&mut outgoing, out, limits.send_timeout).await {
                transport_open = false;
                session.handle_transport_closed();
            }
        }
    }
    session.finish();
    if transport_open {
        // Give the client time to read our close frame and answer it before the socket is dropped.
        let _ = tokio::time::timeout(limits.close_linger, async { while incoming.next().await.is_some() {} }).await;
    }
}

/// In a cluster: before a `join` is handled, this node gets the room's current state from the others.
async fn sync_room(shared: &Shared, frame: &Incoming) {
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(rename = "type")]
        kind: String,
        room: String,
    }
    let (Some(sync), Incoming::Text(text)) = (shared.room_sync.get(), frame) else { return };
    if let Ok(peek) = serde_json::from_str::<Peek>(text)
        && peek.kind == "join"
        && crate::room::validate_room_name(&peek.room).is_ok()
    {
        sync.ensure(&plenum_sfu::RoomId(peek.room)).await;
    }
}

/// Before a `join` is handled: what the database knows about the room (bans, ended or deleted) goes into the
/// registry, and a disabled account is marked for refusal. A database that does not answer is logged; the join then goes by what this process knows.
async fn load_stored(shared: &Shared, frame: &Incoming, session: &mut Session) {
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(rename = "type")]
        kind: String,
        room: String,
        #[serde(default)]
        token: String,
    }
    let (Some(store), Incoming::Text(text)) = (&shared.store, frame) else { return };
    let Ok(peek) = serde_json::from_str::<Peek>(text) else { return };
    if peek.kind != "join" || crate::room::validate_room_name(&peek.room).is_err() {
        return;
    }
    // Only for a valid token: nobody makes the server read the database for free.
    let Ok(claims) = shared.keys.verify(&peek.token, &peek.room) else { return };
    match store.load(&peek.room, Some(&claims.sub)).await {
        Ok(record) => {
            shared.registry.restore(&plenum_sfu::RoomId(peek.room), &record.room);
            if record.account_disabled {
                session.refuse_identity(claims.sub);
            }
        }
        Err(e) => tracing::warn!(room = %peek.room, "cannot read the room's bans and state: {e}"),
    }
}

/// Write one frame; false if the connection failed or stalled.
async fn send<O: Sink<Outgoing> + Unpin>(outgoing: &mut O, out: Outgoing, limit: std::time::Duration) -> bool {
    matches!(tokio::time::timeout(limit, outgoing.send(out)).await, Ok(Ok(())))
}

/// Give this session's participant to the session that asked (if it still waits).
fn hand_over(session: &mut Session, reply: TakeoverRequest<Handover>, sfu_rx: &mut Option<UnboundedReceiver<SfuEvent>>) {
    if reply.is_closed() || sfu_rx.is_none() {
        return;
    }
    let Some(joined) = session.hand_over() else { return };
    let Some(sfu) = sfu_rx.take() else { return };
    if let Err(handover) = reply.send(Handover::new(joined, sfu)) {
        // The asker gave up in this instant: nobody has the participant, so it leaves.
        session.handle_resume_result(Ok(handover));
    }
}

/// Ask the owner of `token` for its participant.
async fn take_over(shared: &Shared, token: &str, room: &plenum_sfu::RoomId) -> Result<Handover, ResumeError> {
    let reply = shared.resumes.request(token, room)?;
    match tokio::time::timeout(TAKEOVER_WAIT, reply).await {
        Ok(Ok(handover)) => Ok(handover),
        _ => Err(ResumeError::Gone),
    }
}

/// Resolves when `shutdown` turns true or its sender is gone.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Receive from a channel that may not exist yet (then wait forever).
async fn recv<T>(rx: &mut Option<UnboundedReceiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
