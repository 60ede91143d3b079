//! Deterministic simulation harness: the SFU's sans-IO [`Shard`], simulated str0m clients, a seeded network and a
//! virtual clock that jumps to the next deadline.

#![allow(dead_code)]

pub mod client;
pub mod net;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use plenum_sfu::core::types::Transport;
use plenum_sfu::core::{Shard, Transmitter};
use plenum_sfu::{ParticipantCommand, ParticipantId, RoomId, SfuEvent};

use client::Client;
use net::Net;

struct NetTx<'a> {
    net: &'a mut Net,
    now: Instant,
    from: SocketAddr,
}

impl Transmitter for NetTx<'_> {
    fn transmit(&mut self, transport: Transport, destination: SocketAddr, data: &[u8]) {
        // The simulated network is UDP; the shard offers no ICE-TCP candidate here.
        debug_assert_eq!(transport, Transport::Udp);
        self.net.send(self.now, self.from, destination, data);
    }
}

pub struct World {
    pub start: Instant,
    pub now: Instant,
    pub sfu_addr: SocketAddr,
    pub shard: Shard,
    pub net: Net,
    pub clients: Vec<(ParticipantId, Option<Client>)>,
    /// Every event the shard produced that the harness does not consume itself.
    pub log: Vec<(Instant, ParticipantId, SfuEvent)>,
}

impl World {
    pub fn new(seed: u64) -> Self {
        let start = Instant::now();
        let sfu_addr: SocketAddr = "127.0.0.1:50000".parse().unwrap();
        World {
            start,
            now: start,
            sfu_addr,
            shard: Shard::new(sfu_addr, seed),
            net: Net::new(seed),
            clients: vec![],
            log: vec![],
        }
    }

    pub fn at(&self, d: Duration) -> Instant {
        self.start + d
    }

    pub fn id_of(&self, name: &str) -> ParticipantId {
        self.clients.iter().find(|(_, c)| c.as_ref().is_some_and(|c| c.name == name)).map(|(id, _)| *id).unwrap()
    }

    pub fn client(&self, name: &str) -> &Client {
        self.clients.iter().filter_map(|(_, c)| c.as_ref()).find(|c| c.name == name).unwrap()
    }

    pub fn client_mut(&mut self, name: &str) -> &mut Client {
        self.clients.iter_mut().filter_map(|(_, c)| c.as_mut()).find(|c| c.name == name).unwrap()
    }

    /// A new participant joins `room` and publishes audio and video.
    pub fn join(&mut self, name: &str, room: &str) -> ParticipantId {
        self.join_with(name, room, false)
    }

    /// A new participant joins `room` and publishes audio and video, the video in three simulcast layers when
    /// `simulcast`.
    pub fn join_with(&mut self, name: &str, room: &str, simulcast: bool) -> ParticipantId {
        self.join_opts(name, room, simulcast, false)
    }

    /// A participant whose connections negotiate RFC 2198 RED for Opus joins and publishes audio and video.
    pub fn join_red(&mut self, name: &str, room: &str) -> ParticipantId {
        let c = Client::new_red(name, self.clients.len() as u16, self.now);
        self.join_client(c, room, false)
    }

    /// As [`World::join_with`], the video with VP8 temporal layers when `temporal`.
    pub fn join_opts(&mut self, name: &str, room: &str, simulcast: bool, temporal: bool) -> ParticipantId {
        let mut c = Client::new(name, self.clients.len() as u16, self.now);
        c.temporal_layers = temporal;
        self.join_client(c, room, simulcast)
    }

    fn join_client(&mut self, mut c: Client, room: &str, simulcast: bool) -> ParticipantId {
        let id = ParticipantId(self.clients.len() as u64 + 1);
        self.shard.join(self.now, RoomId(room.into()), id).unwrap();
        let offer = c.publish_offer(simulcast);
        self.clients.push((id, Some(c)));
        self.command(id, ParticipantCommand::PublisherOffer(offer));
        id
    }

    pub fn command(&mut self, id: ParticipantId, cmd: ParticipantCommand) {
        let mut tx = NetTx { net: &mut self.net, now: self.now, from: self.sfu_addr };
        self.shard.handle_command(self.now, id, cmd, &mut tx);
        self.pump_events();
    }

    /// The participant leaves; its simulated client goes quiet.
    pub fn leave(&mut self, name: &str) -> Client {
        let id = self.id_of(name);
        self.command(id, ParticipantCommand::Leave);
        let slot = self.clients.iter_mut().find(|(i, _)| *i == id).unwrap();
        slot.1.take().unwrap()
    }

    fn pump_events(&mut self) {
        while let Some((id, ev)) = self.shard.poll_event() {
            let now = self.now;
            let Some(c) = self.clients.iter_mut().find(|(i, _)| *i == id).and_then(|(_, c)| c.as_mut()) else {
                self.log.push((now, id, ev));
                continue;
            };
            match &ev {
                SfuEvent::PublisherAnswer(sdp) => c.accept_publish_answer(sdp, now),
                SfuEvent::PublisherLayers { active, .. } => c.set_layers(active),
                SfuEvent::SubscriberOffer(sdp) => {
                    let answer = c.accept_subscribe_offer(sdp);
                    let mut tx = NetTx { net: &mut self.net, now, from: self.sfu_addr };
                    self.shard.handle_command(now, id, ParticipantCommand::SubscriberAnswer(answer), &mut tx);
                }
                _ => {}
            }
            self.log.push((now, id, ev));
        }
    }

    /// Run the world until `until` (virtual time).
    pub fn run_until(&mut self, until: Instant) {
        while self.now < until {
            let now = self.now;
            while let Some(d) = self.net.pop_due(now) {
                if d.to == self.sfu_addr {
                    let mut tx = NetTx { net: &mut self.net, now, from: self.sfu_addr };
                    self.shard.handle_datagram(now, d.from, &d.data, &mut tx);
                } else if let Some(c) = self
                    .clients
                    .iter_mut()
                    .filter_map(|(_, c)| c.as_mut())
                    .find(|c| c.pub_addr == d.to || c.sub_addr == d.to)
                {
                    c.handle_datagram(now, d.from, d.to, &d.data, &mut self.net);
                }
                // Datagrams to departed clients vanish.
            }
            if self.shard.poll_timeout().is_some_and(|t| t <= now) {
                let mut tx = NetTx { net: &mut self.net, now, from: self.sfu_addr };
                self.shard.handle_timeout(now, &mut tx);
            }
            self.pump_events();
            let mut next = until;
            for (_, c) in self.clients.iter_mut() {
                let Some(c) = c.as_mut() else { continue };
                let mut t = c.next_timeout(now, &mut self.net);
                if t <= now {
                    c.handle_timeout(now);
                    t = c.next_timeout(now, &mut self.net);
                }
                next = next.min(t);
            }
            if let Some(t) = self.shard.poll_timeout() {
                next = next.min(t);
            }
            if let Some(t) = self.net.next_delivery() {
                next = next.min(t);
            }
            self.now = next.max(now + Duration::from_micros(100));
        }
    }

    /// Feed an arbitrary datagram to the SFU, as if from `from`.
    pub fn inject(&mut self, from: SocketAddr, data: &[u8]) {
        let mut tx = NetTx { net: &mut self.net, now: self.now, from: self.sfu_addr };
        self.shard.handle_datagram(self.now, from, data, &mut tx);
        self.pump_events();
    }
}
