//! Accepting connections through the guard (see `guard`): per-peer limit, the unauthenticated
//! budget, the console slots kept for the queen, and the HAL's report of what ran out.

use crate::console_conn::ConsoleConn;
use crate::guard::{self, Admission, Source};
use crate::ninep_conn::NinePConn;
use crate::{Pump, TurnStats, ACCEPTS_PER_TURN};
use hal::{ConnId, Hal, CONSOLE_PORT, NINEP_PORT};
use secure9p::Error;

impl Pump {
    pub(crate) fn accept<H: Hal>(&mut self, hal: &mut H, now_ms: u64, stats: &mut TurnStats) {
        let limits = self.nd.hive().manifest().clone();
        for _ in 0..ACCEPTS_PER_TURN {
            let Some(conn) = hal.poll_accept(NINEP_PORT) else {
                break;
            };
            let source = guard::source_of(hal.peer(conn));
            if !self.admit(hal, conn, source, now_ms) {
                continue;
            }
            match self.nd.open_session(ninedoor::Transport::NineP, now_ms) {
                Ok(sid) => {
                    self.nd.set_unattached_peer(sid, guard::source_text(source));
                    self.ninep
                        .insert(conn, NinePConn::new(sid, source, &limits));
                    self.guard.admitted(conn, source);
                    stats.accepted += 1;
                }
                // Refused and audited by NineDoor; the peer just sees the hang-up.
                Err(_) => hal.close(conn),
            }
        }
        for _ in 0..ACCEPTS_PER_TURN {
            let Some(conn) = hal.poll_accept(CONSOLE_PORT) else {
                break;
            };
            let source = guard::source_of(hal.peer(conn));
            if !self.admit(hal, conn, source, now_ms) || !self.console_slot(hal, conn, now_ms) {
                continue;
            }
            match self
                .nd
                .open_session(ninedoor::Transport::ConsoleTcp, now_ms)
            {
                Ok(sid) => {
                    let console = ConsoleConn::new(sid, source, self.token.as_deref(), &limits);
                    self.consoles.insert(conn, console);
                    self.guard.admitted(conn, source);
                    stats.accepted += 1;
                }
                Err(_) => hal.close(conn),
            }
        }
        self.note_net_pressure(hal);
    }

    /// The per-peer limit and the unauthenticated budget. `false`: the newcomer was refused
    /// (and closed). When the budget is full the oldest waiting connection yields instead.
    fn admit<H: Hal>(
        &mut self,
        hal: &mut H,
        conn: ConnId,
        source: Option<Source>,
        now_ms: u64,
    ) -> bool {
        if self.guard.check_peer(source) == Admission::PerPeer {
            let who = guard::source_text(source);
            self.nd
                .security_refused(now_ms, &who, "connect", Error::Busy, "per-peer");
            self.nd.security_mut().exhausted.peer += 1;
            hal.close(conn);
            return false;
        }
        if let Some(victim) = self.guard.unauth_victim() {
            self.nd.security_mut().exhausted.unauth += 1;
            self.evict(hal, victim, now_ms, "unauth-max");
        }
        true
    }

    /// Console slots: unauthenticated consoles may fill all but `guard.console_reserved`
    /// slots, and a newcomer past that closes the oldest of them, so an operator with the
    /// token always gets a slot. Only when every slot is authenticated is it refused.
    fn console_slot<H: Hal>(&mut self, hal: &mut H, conn: ConnId, now_ms: u64) -> bool {
        let m = self.nd.hive().manifest();
        let max = m.console.connections_max as usize;
        let unauth_cap = max.saturating_sub(m.guard.console_reserved as usize).max(1);
        let waiting: alloc::vec::Vec<ConnId> = self
            .consoles
            .keys()
            .copied()
            .filter(|c| self.guard.is_waiting(*c))
            .collect();
        if waiting.len() >= unauth_cap || self.consoles.len() >= max {
            if let Some(victim) = self.guard.oldest_of(waiting.into_iter()) {
                self.nd.security_mut().exhausted.unauth += 1;
                self.evict(hal, victim, now_ms, "console-waiting");
            }
        }
        if self.consoles.len() >= max {
            let who = guard::source_text(guard::source_of(hal.peer(conn)));
            self.nd
                .security_refused(now_ms, &who, "connect", Error::Busy, "console-full");
            self.nd.security_mut().exhausted.console += 1;
            hal.close(conn);
            return false;
        }
        true
    }

    /// Closes a connection that never authenticated, to make room; one security line.
    fn evict<H: Hal>(&mut self, hal: &mut H, conn: ConnId, now_ms: u64, detail: &str) {
        let source = guard::source_of(hal.peer(conn));
        let who = guard::source_text(source);
        self.nd
            .security_refused(now_ms, &who, "connect", Error::Busy, detail);
        self.drop_conn(hal, conn, now_ms);
    }

    /// Removes a connection from whichever table holds it, closing its session.
    pub(crate) fn drop_conn<H: Hal>(&mut self, hal: &mut H, conn: ConnId, now_ms: u64) -> bool {
        if let Some(c) = self.ninep.remove(&conn) {
            self.guard.closed(conn);
            if c.is_paused() {
                self.paused = self.paused.saturating_sub(1);
            }
            c.finish(hal, conn, &mut self.nd, now_ms);
            return true;
        }
        if let Some(c) = self.consoles.remove(&conn) {
            self.guard.closed(conn);
            if c.is_paused() {
                self.paused = self.paused.saturating_sub(1);
            }
            c.finish(hal, conn, &mut self.nd, now_ms);
            return true;
        }
        false
    }

    /// Copies what the HAL ran out of into `/proc/pressure/exhausted`.
    fn note_net_pressure<H: Hal>(&mut self, hal: &H) {
        let net = hal.pressure();
        let paused = self.paused as u64;
        let exhausted = &mut self.nd.security_mut().exhausted;
        exhausted.fds = net.accept_exhausted;
        exhausted.fds_backing_off = net.backing_off;
        exhausted.console_reserve = net.console_reserve_used;
        exhausted.paused = paused;
    }
}
